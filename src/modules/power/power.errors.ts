import { BadGatewayError, ConflictError } from '../../common/errors/domain-error';

/** The node has no BMC BMI could reach (standalone mode: none recorded). */
export class NoBmcError extends ConflictError {
  override readonly code = 'NO_BMC';
  constructor(node: string) {
    super(`Node ${node} has no BMC: an admin records one with "bmi node bmc"`);
  }
}

/** The BMC refused or failed the power request (or could not be reached). */
export class PowerFailedError extends BadGatewayError {
  override readonly code = 'POWER_FAILED';
}
