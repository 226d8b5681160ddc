export interface IpxeScriptOptions {
  /** iSCSI portal address as the node sees it */
  portalIp: string;
  portalPort: number;
  lun: number;
  target: string;
  /** the iPXE interface to DHCP on (the original hard-coded net2) */
  iface: string;
  /** the initiator name the target lets in; absent or null: iPXE's default name */
  initiator?: string | null;
  /** the target's CHAP user and secret; absent or null: no CHAP */
  chap?: { user: string; secret: string } | null;
}

const INDENT = ' '.repeat(6);

/**
 * The node's iPXE script: DHCP, then boot from the iSCSI target and keep the SAN attached. Byte for byte the
 * original's template (reference §3.3) with the interface, port and LUN filled in; no trailing newline. Lines
 * more set the initiator name the target lets in and its CHAP user and secret (iPXE's `username` and `password`
 * settings), which iPXE logs in with and passes on to the booted system in the iBFT.
 */
export function renderIpxeScript(o: IpxeScriptOptions): string {
  return [
    '#!ipxe',
    `${INDENT}set keep-san 1`,
    ...accessLines(o),
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
  return ['#!ipxe', `${INDENT}set keep-san 1`, ...accessLines(o), sanbootLine(o), `${INDENT}boot`].join('\n');
}

/** `<aa-bb-cc-dd-ee-ff>.ipxe`: what iPXE's `${netX/mac:hexhyp}.ipxe` expands to (dnsmasq's file name for it). */
export function macScriptFileName(mac: string): string {
  return `${mac.toLowerCase().replace(/:/g, '-')}.ipxe`;
}

function accessLines(o: Pick<IpxeScriptOptions, 'initiator' | 'chap'>): string[] {
  return [
    ...(o.initiator ? [`${INDENT}set initiator-iqn ${o.initiator}`] : []),
    ...(o.chap ? [`${INDENT}set username ${o.chap.user}`, `${INDENT}set password ${o.chap.secret}`] : []),
  ];
}

function sanbootLine(o: Omit<IpxeScriptOptions, 'iface'>): string {
  return `${INDENT}sanboot --keep iscsi:${o.portalIp}:tcp:${o.portalPort}:${o.lun}:${o.target}`;
}
