import { pxelinuxFileName, renderPxelinuxConfig } from './pxelinux.template';

/** Reference §3.3: the original's ims/mac.temp, filled in; it ends without a newline. */
describe('pxelinux config', () => {
  it('is the original template byte for byte, with the disk name as label and no trailing newline', () => {
    expect(renderPxelinuxConfig({ label: 'disk1', ipxeFile: 'node-01.ipxe' })).toBe(
      'DEFAULT menu\n  PROMPT 0\n  MENU TITLE PXE Menu\n  TIMEOUT 30\n  ONTIMEOUT disk1\n\n\nLABEL disk1\n     MENU LABEL disk1\n     KERNEL ipxe.lkrn\n     INITRD node-01.ipxe',
    );
  });
});

describe('pxelinuxFileName', () => {
  it('is 01- and the MAC with dashes, lower-cased (pxelinux looks up lower case)', () => {
    expect(pxelinuxFileName('52:54:00:aB:cD:Ef')).toBe('01-52-54-00-ab-cd-ef');
    expect(pxelinuxFileName('52:54:00:AA:BB:CC')).toBe('01-52-54-00-aa-bb-cc');
    expect(pxelinuxFileName('52:54:00:12:34:56')).toBe('01-52-54-00-12-34-56');
  });
});
