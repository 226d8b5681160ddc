import { renderIpxeScript } from './ipxe.template';

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
