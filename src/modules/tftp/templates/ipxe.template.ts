export interface IpxeScriptOptions {
  /** iSCSI portal address as the node sees it */
  portalIp: string;
  portalPort: number;
  lun: number;
  target: string;
  /** the iPXE interface to DHCP on (the original hard-coded net2) */
  iface: string;
}

/**
 * The node's iPXE script: DHCP, then boot from the iSCSI target and keep the SAN attached. Byte for byte the
 * original's template (reference §3.3) with the interface, port and LUN filled in; no trailing newline.
 */
export function renderIpxeScript(o: IpxeScriptOptions): string {
  const indent = ' '.repeat(6);
  return [
    '#!ipxe',
    `${indent}set keep-san 1`,
    `${indent}ifconf --configurator=dhcp ${o.iface}`,
    `${indent}sanboot --keep iscsi:${o.portalIp}:tcp:${o.portalPort}:${o.lun}:${o.target}`,
    `${indent}boot`,
  ].join('\n');
}
