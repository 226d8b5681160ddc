import { ForbiddenError } from '../../common/errors/domain-error';

/** GET /metrics from an address outside [rest_api] metrics_allow. */
export class MetricsClientNotAllowedError extends ForbiddenError {
  override readonly code = 'METRICS_CLIENT_NOT_ALLOWED';
}
