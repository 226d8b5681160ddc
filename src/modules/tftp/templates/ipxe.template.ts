export interface IpxeScriptOptions {
  /** iSCSI portal address as the node sees it */
  portalIp: string;
  portalPort: number;
  lun: number;
  target: string;
  /** the iPXE interface to DHCP on (the original hard-coded net2) */
  iface: string;
  /** the initiator name the target lets in ([iscsi] initiator_acl); absent or null: iPXE's default name */
  initiator?: string | null;
}

const INDENT = ' '.repeat(6);

/**
 * The node's iPXE script: DHCP, then boot from the iSCSI target and keep the SAN attached. Byte for byte the
 * original's template (reference §3.3) with the interface, port and LUN filled in; no trailing newline. With an
 * initiator ACL, one line more sets the initiator name the target lets in (iPXE passes it on in the iBFT).
 */
export function renderIpxeScript(o: IpxeScriptOptions): string {
  return [
    '#!ipxe',
    `${INDENT}set keep-san 1`,
    ...initiatorLine(o.initiator),
    `${INDENT}ifconf --configurator=dhcp ${o.iface}`,
    sanbootLine(o),
    `${INDENT}boot`,
  ].join('\n');
}

/**
 * The script for an iPXE that fetched it over the network by its MAC (UEFI through snponly.efi, an iPXE ROM, or
 * HTTP from BMI): its network is configured already, so the script goes straight to `sanboot`. It names no
 * interface, which under UEFI would not exist (snponly.efi drives only the NIC it was loaded from).
 */
export function renderChainedIpxeScript(o: Omit<IpxeScriptOptions, 'iface'>): string {
  return ['#!ipxe', `${INDENT}set keep-san 1`, ...initiatorLine(o.initiator), sanbootLine(o), `${INDENT}boot`].join(
    '\n',
  );
}

/** `<aa-bb-cc-dd-ee-ff>.ipxe`: what iPXE's `${netX/mac:hexhyp}.ipxe` expands to (dnsmasq's file name for it). */
export function macScriptFileName(mac: string): string {
  return `${mac.toLowerCase().replace(/:/g, '-')}.ipxe`;
}

function initiatorLine(initiator: string | null | undefined): string[] {
  return initiator ? [`${INDENT}set initiator-iqn ${initiator}`] : [];
}

function sanbootLine(o: Omit<IpxeScriptOptions, 'iface'>): string {
  return `${INDENT}sanboot --keep iscsi:${o.portalIp}:tcp:${o.portalPort}:${o.lun}:${o.target}`;
}
