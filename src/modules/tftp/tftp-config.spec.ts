import { isCidr } from '../../common/net';
import { ConfigError, loadConfig } from '../../config/app-config';

/** The [tftp] keys of the UEFI and HTTP boot paths: ipxe_mac_path, http_boot, http_boot_allow. */
const BASE = `[bmi]\nuid = 5\n[db]\npath = :memory:\n[driver]\nfs = fake\niscsi = fake\nnet_isolator = fake
[iscsi]\nip = 10.0.0.1\n[tftp]\npxelinux_path = /srv/tftp/pxelinux.cfg/\nipxe_path = /srv/tftp/\n`;

function problems(extra: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig({ text: BASE + extra, env });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('[tftp] per-MAC scripts and HTTP boot', () => {
  it('are off by default: no per-MAC directory, no HTTP route, any client', () => {
    const c = loadConfig({ text: BASE, env: {} });
    expect(c.tftp).toMatchObject({ ipxeMacPath: '', httpBoot: false, httpBootAllow: [] });
    expect(c.warnings).toEqual([]);
  });

  it('are read from the file, the path without its trailing slash, the list split on commas', () => {
    const c = loadConfig({
      text: `${BASE}ipxe_mac_path = /srv/tftp/mac/\nhttp_boot = yes\nhttp_boot_allow = 10.99.0.0/24, 127.0.0.1 ,fd42::/16\n`,
      env: {},
    });
    expect(c.tftp).toMatchObject({
      ipxeMacPath: '/srv/tftp/mac',
      httpBoot: true,
      httpBootAllow: ['10.99.0.0/24', '127.0.0.1', 'fd42::/16'],
    });
    expect(c.warnings).toEqual([]);
  });

  it('can be set from the environment', () => {
    const c = loadConfig({
      text: BASE,
      env: { BMI_TFTP_IPXE_MAC_PATH: '/srv/mac', BMI_TFTP_HTTP_BOOT: 'true', BMI_TFTP_HTTP_BOOT_ALLOW: '10.0.0.0/8' },
    });
    expect(c.tftp).toMatchObject({ ipxeMacPath: '/srv/mac', httpBoot: true, httpBootAllow: ['10.0.0.0/8'] });
  });

  it('http_boot without ipxe_mac_path is a problem: there would be nothing to serve', () => {
    expect(problems('http_boot = true\n')).toEqual([
      '[tftp] http_boot serves the per-MAC scripts: set [tftp] ipxe_mac_path too',
    ]);
  });

  it('ipxe_mac_path may not be the iPXE root or pxelinux.cfg (a node may be named like a MAC)', () => {
    expect(problems('ipxe_mac_path = /srv/tftp\n')).toEqual([
      '[tftp] ipxe_mac_path must be a directory of its own (a node may be named like a MAC), e.g. /srv/tftp/mac',
    ]);
    expect(problems('ipxe_mac_path = /srv/tftp/pxelinux.cfg\n')).toHaveLength(1);
  });

  it('every http_boot_allow entry must be an address or CIDR; a bad http_boot is reported', () => {
    expect(
      problems('ipxe_mac_path = /m\nhttp_boot = sure\nhttp_boot_allow = 10.0.0.0/33, eth0, 10.1.0.0/16\n'),
    ).toEqual([
      '[tftp] http_boot must be true or false, got "sure"',
      '[tftp] http_boot_allow: "10.0.0.0/33" is not an IP address or CIDR',
      '[tftp] http_boot_allow: "eth0" is not an IP address or CIDR',
    ]);
  });
});

describe('isCidr', () => {
  it.each(['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd42::/16', '::/0', '::ffff:10.0.0.1'])('%s is', (c) =>
    expect(isCidr(c)).toBe(true),
  );
  it.each(['10.0.0.0/33', '::/129', '10.0.0', 'x', '', '10.0.0.0/8/8', '10.0.0.0/', '10.0.0.0/a'])('%s is not', (c) =>
    expect(isCidr(c)).toBe(false),
  );
});
