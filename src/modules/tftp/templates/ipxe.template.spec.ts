import { macScriptFileName, renderChainedIpxeScript, renderIpxeScript } from './ipxe.template';

/** Reference §3.3: the original's ims/ipxe.temp, filled in; it ends without a newline. */
describe('iPXE script', () => {
  it('is the original template byte for byte, with no trailing newline', () => {
    const script = renderIpxeScript({
      portalIp: '10.0.0.1',
      portalPort: 3260,
      lun: 1,
      target: '5img12',
      iface: 'net2',
    });
    expect(script).toBe(
      '#!ipxe\n      set keep-san 1\n      ifconf --configurator=dhcp net2\n      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:5img12\n      boot',
    );
  });

  it('fills in the portal, port, LUN, target and interface it is given', () => {
    const script = renderIpxeScript({
      portalIp: '192.168.7.3',
      portalPort: 3261,
      lun: 0,
      target: 'iqn.2018-10.org.moc:7img3',
      iface: 'net0',
    });
    expect(script).toBe(
      '#!ipxe\n      set keep-san 1\n      ifconf --configurator=dhcp net0\n      sanboot --keep iscsi:192.168.7.3:tcp:3261:0:iqn.2018-10.org.moc:7img3\n      boot',
    );
  });
});

describe('iPXE script for a client that is iPXE already (per-MAC, TFTP or HTTP)', () => {
  const o = { portalIp: '10.99.0.1', portalPort: 3260, lun: 1, target: 'iqn.2026-11.org.bmi:5img3' };

  it('goes straight to sanboot: no ifconf, so no interface name that might not exist', () => {
    expect(renderChainedIpxeScript(o)).toBe(
      '#!ipxe\n      set keep-san 1\n      sanboot --keep iscsi:10.99.0.1:tcp:3260:1:iqn.2026-11.org.bmi:5img3\n      boot',
    );
  });

  it('sets the initiator name when there is one (initiator ACL)', () => {
    expect(renderChainedIpxeScript({ ...o, initiator: 'iqn.2026-11.org.bmi:5img3:initiator' })).toBe(
      '#!ipxe\n      set keep-san 1\n      set initiator-iqn iqn.2026-11.org.bmi:5img3:initiator\n      sanboot --keep iscsi:10.99.0.1:tcp:3260:1:iqn.2026-11.org.bmi:5img3\n      boot',
    );
    expect(renderIpxeScript({ ...o, iface: 'net0', initiator: null })).not.toContain('initiator-iqn');
  });

  it('sets the CHAP user and secret after the initiator name, when the target has CHAP', () => {
    const chap = { user: 'bmi-0a1b2c3d4e5f6a7b', secret: 'Zq81mNVa0pLk3sTu' };
    expect(renderChainedIpxeScript({ ...o, initiator: 'iqn.2026-11.org.bmi.node:ab12', chap })).toBe(
      '#!ipxe\n      set keep-san 1\n      set initiator-iqn iqn.2026-11.org.bmi.node:ab12\n' +
        '      set username bmi-0a1b2c3d4e5f6a7b\n      set password Zq81mNVa0pLk3sTu\n' +
        '      sanboot --keep iscsi:10.99.0.1:tcp:3260:1:iqn.2026-11.org.bmi:5img3\n      boot',
    );
    expect(renderIpxeScript({ ...o, iface: 'net2', chap })).toContain(
      '      set username bmi-0a1b2c3d4e5f6a7b\n      set password Zq81mNVa0pLk3sTu\n      ifconf --configurator=dhcp net2',
    );
  });

  it('is named as iPXE expands ${netX/mac:hexhyp}.ipxe: lower case, dashes', () => {
    expect(macScriptFileName('52:54:00:aB:cD:Ef')).toBe('52-54-00-ab-cd-ef.ipxe');
  });
});
