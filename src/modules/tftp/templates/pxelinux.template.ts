export interface PxelinuxConfigOptions {
  /** the menu label: the disk name (master) */
  label: string;
  /** file name of the node's iPXE script, relative to the TFTP root */
  ipxeFile: string;
}

/**
 * The per-MAC pxelinux config: one menu entry that loads iPXE (ipxe.lkrn) with the node's script as its
 * initrd. Byte for byte the original's template (reference §3.3); no trailing newline.
 */
export function renderPxelinuxConfig(o: PxelinuxConfigOptions): string {
  return [
    'DEFAULT menu',
    '  PROMPT 0',
    '  MENU TITLE PXE Menu',
    '  TIMEOUT 30',
    `  ONTIMEOUT ${o.label}`,
    '',
    '',
    `LABEL ${o.label}`,
    `     MENU LABEL ${o.label}`,
    '     KERNEL ipxe.lkrn',
    `     INITRD ${o.ipxeFile}`,
  ].join('\n');
}

/** pxelinux looks for `01-<mac with dashes>` in lower case: ARP type 1 (Ethernet) then the MAC. */
export function pxelinuxFileName(mac: string): string {
  return `01-${mac.toLowerCase().replace(/:/g, '-')}`;
}
