/**
 * The closed set of error codes BMI answers with: the `code` of every JSON error body, documented in the
 * OpenAPI document as an enum. `DomainError.code` is typed with it, so an error class with a code missing here
 * does not compile. Each code has one HTTP status; clients branch on the code, never on the message.
 */
export const ERROR_CODES = {
  // the request
  BAD_REQUEST: [400, 'a missing or invalid field, header or parameter (details.fields names them)'],
  WRONG_IMAGE_KIND: [400, 'the image is of another kind than the operation needs (a disk where a golden image is)'],
  UNSAFE_BOOT_FILE_NAME: [400, 'a name would make an unsafe boot file path'],
  INVALID_MAC: [400, 'not a MAC address'],
  BAD_IMAGE_FILE: [400, 'the uploaded file is not what it claims: checksum, format, or a qcow2 with a backing file'],
  PAYLOAD_TOO_LARGE: [413, 'the request body is too large'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'the request body is of a type or charset BMI does not read'],
  METHOD_NOT_ALLOWED: [405, 'the path exists, with other methods (see the Allow header)'],
  PRECONDITION_FAILED: [412, 'If-Match names another version of the resource than the current one'],
  IDEMPOTENCY_KEY_REUSED: [422, 'the Idempotency-Key was used before for a different request'],
  HTTP_ERROR: [400, 'another HTTP-level error (the status says which)'],
  // who is asking
  UNAUTHORIZED: [401, 'no credentials, or credentials that are not HTTP Basic'],
  HIL_AUTHENTICATION_FAILED: [401, 'HIL (or the standalone directory) refused the credentials or the project'],
  FORBIDDEN: [403, 'authenticated, but not allowed'],
  ADMIN_REQUIRED: [403, 'the operation needs a BMI admin'],
  NODE_NOT_OWNED: [403, 'the node does not belong to the project in HIL'],
  BOOT_CLIENT_NOT_ALLOWED: [403, 'this client may not fetch boot scripts'],
  METRICS_CLIENT_NOT_ALLOWED: [403, 'this client may not read the metrics'],
  TOO_MANY_REQUESTS: [429, 'too many requests from this client: wait as Retry-After says'],
  TOO_MANY_FAILED_LOGINS: [429, 'too many refused logins for this user or from this address: wait as Retry-After says'],
  // what does not exist
  NOT_FOUND: [404, 'no such route or resource'],
  PROJECT_NOT_FOUND: [404, 'no such project in BMI'],
  HIL_PROJECT_NOT_FOUND: [404, 'no such project in HIL'],
  IMAGE_NOT_FOUND: [404, 'no such image, snapshot or disk in the project'],
  RBD_IMAGE_NOT_FOUND: [404, 'no such Ceph RBD image'],
  TARGET_NOT_FOUND: [404, 'the image has no iSCSI target'],
  NODE_NOT_FOUND: [404, 'no such node'],
  NIC_NOT_FOUND: [404, 'the node has no NIC with this label'],
  NO_LEASE: [404, 'the node has no DHCP lease yet'],
  NOT_PROVISIONED: [404, 'the node is not provisioned'],
  HTTP_BOOT_OFF: [404, 'HTTP boot is off'],
  OPERATION_NOT_FOUND: [404, 'no such operation in the project'],
  USER_NOT_FOUND: [404, 'no such user (standalone mode)'],
  MEMBERSHIP_NOT_FOUND: [404, 'the user is not a member of the project (standalone mode)'],
  // what clashes with the current state
  CONFLICT: [409, 'the request clashes with the current state'],
  BUSY: [409, 'what the request needs stayed in use by another operation; try again later'],
  PROJECT_EXISTS: [409, 'a project of this name exists'],
  PROJECT_NOT_EMPTY: [409, 'the project still has images'],
  IMAGE_EXISTS: [409, 'an image of this name exists in the project'],
  DISK_EXISTS: [409, 'a disk of this name exists in the project'],
  IMAGE_HAS_CLONES: [409, 'disks or images were made from the image'],
  IMAGE_IN_USE: [409, 'the image is in use (exported, or booted from)'],
  DISK_NOT_EXPORTED: [409, 'the disk has no iSCSI target'],
  TARGET_EXISTS: [409, 'the image has an iSCSI target already'],
  RBD_IMAGE_EXISTS: [409, 'a Ceph RBD image of this name exists'],
  RBD_IMAGE_BUSY: [409, 'the Ceph RBD image is open elsewhere (a mapped or booted disk)'],
  RBD_SNAPSHOT_PROTECTED: [409, 'the Ceph snapshot is protected or has clones'],
  RBD_IMAGE_HAS_SNAPSHOTS: [409, 'the Ceph RBD image has snapshots'],
  RBD_INVALID_OPERATION: [409, 'Ceph refused the operation in the image’s state'],
  HIL_BLOCKED: [409, 'HIL refused the request in the node’s state'],
  QUOTA_EXCEEDED: [409, 'the project would hold more images or bytes than its quota'],
  UPLOAD_OFFSET_MISMATCH: [409, 'the data does not start where the upload is (details.received says where)'],
  UPLOAD_NOT_RECEIVING: [409, 'no upload of this image is receiving data here right now'],
  NO_BMC: [409, 'the node has no BMC to switch its power with (standalone mode)'],
  NODE_IN_USE: [409, 'the node boots from a disk already: release it first'],
  STANDALONE_MODE_OFF: [409, 'the operation exists in standalone mode only'],
  USER_EXISTS: [409, 'a user of this name exists (standalone mode)'],
  LAST_ADMIN: [409, 'the last admin cannot be removed (standalone mode)'],
  MEMBERSHIP_EXISTS: [409, 'the user is a member already (standalone mode)'],
  NODE_EXISTS: [409, 'a node of this name exists (standalone mode)'],
  NODE_OWNERSHIP_CONFLICT: [409, 'the node belongs to another project (standalone mode)'],
  NIC_EXISTS: [409, 'the node has a NIC with this label (standalone mode)'],
  MAC_IN_USE: [409, 'another NIC has this MAC (standalone mode)'],
  // BMI or a dependency failed
  INTERNAL: [500, 'BMI failed; the server log has the details'],
  STORAGE_FAILED: [500, 'Ceph failed the operation'],
  ISCSI_COMMAND_FAILED: [500, 'tgtadm failed'],
  BOOT_FILE_FAILED: [500, 'a boot file could not be written or removed'],
  BAD_GATEWAY: [502, 'a dependency answered something BMI cannot use'],
  HIL_BAD_RESPONSE: [502, 'HIL answered something BMI cannot use'],
  POWER_FAILED: [502, 'the node’s BMC (or HIL’s obmd) failed the power request'],
  HIL_BAD_MAC: [502, 'HIL gave the NIC an invalid MAC'],
  SERVICE_UNAVAILABLE: [503, 'a dependency cannot be reached right now'],
  STORAGE_UNAVAILABLE: [503, 'Ceph cannot be reached right now'],
  ISCSI_UNAVAILABLE: [503, 'tgtd cannot be reached right now'],
  HIL_UNAVAILABLE: [503, 'HIL cannot be reached right now'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES).sort() as ErrorCode[];

/** The code of an error that carries only an HTTP status (Nest's own, Express's body parsers). */
export function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 409:
      return 'CONFLICT';
    case 412:
      return 'PRECONDITION_FAILED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'TOO_MANY_REQUESTS';
    case 502:
      return 'BAD_GATEWAY';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'HTTP_ERROR';
  }
}
