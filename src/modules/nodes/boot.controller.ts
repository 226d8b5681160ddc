import { Controller, Get, Header, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { BootScriptQueryDto } from './dto/boot.dto';
import { NodesService } from './nodes.service';

/**
 * What a booting node fetches from BMI itself: no credentials (firmware cannot log in), so each route reveals
 * only the one file a provisioned node needs, and only while it is provisioned.
 */
@ApiTags('boot')
@Controller('boot')
export class BootController {
  constructor(private readonly nodes: NodesService) {}

  @Get('ipxe')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The iPXE script of the node provisioned with this MAC (unauthenticated; [tftp] http_boot)',
    description:
      'dnsmasq hands iPXE the URL `http://<bmi>/boot/ipxe?mac=${netX/mac}`. The script names the node’s iSCSI ' +
      'portal and target and the CHAP credentials, as the TFTP files do: limit the clients with [tftp] ' +
      'http_boot_allow; each client may ask [tftp] http_boot_rate times a minute.',
  })
  @ApiOkResponse({
    description: 'the iPXE script',
    content: { 'text/plain': { schema: { type: 'string', example: '#!ipxe\n      set keep-san 1\n…' } } },
  })
  @ApiBadRequestResponse({ description: 'mac is missing or not a MAC address (plain text)' })
  @ApiForbiddenResponse({ description: 'the client is not in [tftp] http_boot_allow (plain text)' })
  @ApiNotFoundResponse({ description: 'HTTP boot is off, or no node is provisioned with this MAC (plain text)' })
  @ApiTooManyRequestsResponse({
    description: 'more requests from this client than [tftp] http_boot_rate a minute (plain text; Retry-After)',
  })
  getBootScript(@Query() query: BootScriptQueryDto, @Req() req: Request): Promise<string> {
    return this.nodes.bootScript(query.mac, req.socket.remoteAddress);
  }
}
