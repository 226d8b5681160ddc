/**
 * Every name that reaches a file path, an RBD image name, an iSCSI target or a HIL URL passes one of these
 * checks first. They are deliberately narrow: letters, digits and `._-`, never a leading dot or dash, never a
 * path separator, whitespace or a shell metacharacter.
 */

/** project, image, disk, snapshot and raw Ceph image names */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** HIL node names; never `..` (a node's name is its boot file's name) */
export const NODE_PATTERN = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** HIL NIC labels */
export const NIC_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._:-]{0,31}$/;
/** a MAC address, any case, colon-separated */
export const MAC_PATTERN = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;
/** names tgtd accepts for targets and initiators: letters, digits, `.`, `:` and `-` (no `_`, no space) */
export const TGT_NAME = /^[A-Za-z0-9.:-]+$/;
/** [bmi] uid: it prefixes `img<id>`, so it must not contain `img` itself */
export const UID_PATTERN = /^(?!.*img)[A-Za-z0-9_-]{1,16}$/;

export const NAME_RULE = '1-64 characters: letters, digits, ".", "_" or "-", not starting with "." or "-"';
export const NODE_RULE = `${NAME_RULE}, without ".."`;
export const NIC_RULE = '1-32 characters: letters, digits, ".", "_", ":" or "-", not starting with "." or "-"';

export function isSafeName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}

export function isMac(mac: unknown): mac is string {
  return typeof mac === 'string' && MAC_PATTERN.test(mac);
}
