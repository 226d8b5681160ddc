import { BadGatewayError, ConflictError, NotFoundError } from '../../common/errors/domain-error';

/** provision of a disk that has no iSCSI target */
export class DiskNotExportedError extends ConflictError {
  override readonly code = 'DISK_NOT_EXPORTED';
}

/** node_ip of a node dnsmasq has not leased an address to */
export class NoLeaseError extends NotFoundError {
  override readonly code = 'NO_LEASE';
}

/** HIL gave a NIC a MAC address that is not one */
export class BadMacError extends BadGatewayError {
  override readonly code = 'HIL_BAD_MAC';
}

/** deploy of a node that boots from a disk already */
export class NodeInUseError extends ConflictError {
  override readonly code = 'NODE_IN_USE';
}
