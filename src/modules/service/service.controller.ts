import { Controller, Get, Header, HttpStatus, Req, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { buildInfo } from '../../common/build-info';
import { Metrics } from '../../common/observability/metrics';
import { MetricsAccess } from './metrics-access';
import { ReadinessService } from './readiness.service';
import { LivenessDto, ReadinessCheckDto, ReadinessDto, VersionDto } from './service.dto';

const STARTED = new Date().toISOString();
const NOT_ALLOWED = { status: 405, description: 'only GET (and HEAD) (plain text)' };

/**
 * What an operator's tooling asks of this instance, without credentials: is it alive, can it serve, which
 * build is it, and its metrics. Nothing here names a project, an image or a node.
 */
@ApiTags('service')
@ApiExtraModels(ReadinessCheckDto)
@Controller()
export class ServiceController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: Metrics,
    private readonly metricsAccess: MetricsAccess,
  ) {}

  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness: the process runs and answers (asks no dependency)' })
  @ApiOkResponse({ type: LivenessDto })
  @ApiResponse(NOT_ALLOWED)
  healthz(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Readiness: the database, Ceph, tgtd and HIL each answer within 2 s (the answer is reused for 1 s)',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'every check passed' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'a check failed: `checks` says which' })
  @ApiResponse(NOT_ALLOWED)
  async readyz(@Res({ passthrough: true }) res: Response): Promise<ReadinessDto> {
    const r = await this.readiness.check();
    res.status(r.ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: r.ready ? 'ready' : 'unready', checks: r.checks };
  }

  @Get('version')
  @ApiOperation({ summary: 'This build of BMI and when the process started' })
  @ApiOkResponse({ type: VersionDto })
  @ApiResponse(NOT_ALLOWED)
  version(): VersionDto {
    return { ...buildInfo(), started: STARTED };
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Metrics in the Prometheus text format (clients limited by [rest_api] metrics_allow)',
  })
  @ApiOkResponse({
    description: 'the metrics',
    content: { 'text/plain': { schema: { type: 'string', example: 'bmi_http_requests_total{…} 12' } } },
  })
  @ApiForbiddenResponse({ description: 'the client is not in [rest_api] metrics_allow (plain text)' })
  @ApiResponse(NOT_ALLOWED)
  async scrape(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<string> {
    this.metricsAccess.assertAllowed(req.socket.remoteAddress);
    res.type(this.metrics.contentType);
    return this.metrics.render();
  }
}
