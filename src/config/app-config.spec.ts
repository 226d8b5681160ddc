import { dbLocation, redactDbUrl } from '../database/db-location';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { applyEnvOverrides, ConfigError, loadConfig, parseIni } from './app-config';

let dir: string;
let cephConf: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bmi-config-'));
  cephConf = path.join(dir, 'ceph.conf');
  writeFileSync(cephConf, '[global]\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A config as written for the original BMI master (reference §1.3): every section and key it read. */
function masterConfig(): string {
  return `
[bmi]
uid = 5
service = False
snapshot = bmi_created_snapshot

[db]
path = /var/lib/bmi/bmi.db

[rpc]
name_server_ip = 127.0.0.1
name_server_port = 10000
rpc_server_ip = 127.0.0.1
rpc_server_port = 10001

[tftp]
pxelinux_path = /var/lib/tftpboot/pxelinux.cfg/
ipxe_path = /var/lib/tftpboot/

[rest_api]
ip = 127.0.0.1
port = 8000

[logs]
path = /var/log/bmi/
debug = False
verbose = True

[driver]
net_isolator = hil
iscsi = tgt
fs = ceph

[net_isolator]
url = http://127.0.0.1:7000

[iscsi]
ip = 192.168.100.10
password = sudo-password

[fs]
id = bmi
pool = bmi
conf_file = ${cephConf}
keyring = /etc/ceph/ceph.client.bmi.keyring

[tests]
picasso_url = http://127.0.0.1:8000/
correct_hil_username = haasadmin
correct_hil_password = admin1234
incorrect_hil_password = admin123##
node_name = bmi_node
nic = bmi_nic
project = bmi_infra
network = bmi_provision
exist_img_name = bmi_test
new_snap_name = test_snap
not_exist_snap_name = hello
not_exist_img_name = i12
`;
}

/** The older key names of the original install guide (original-bmi-install-guide.txt). */
function installGuideConfig(): string {
  return `
# this section is for basic bmi settings
[bmi]
# uid is given so that images dont clash in ceph pool
uid = 5
service = False

# this section is for db settings
[db]
url = /home/user/bmi.db

# This section is to denote which filesystem is being used
[filesystem]
ceph = True

# This section is for ceph config
[ceph]
id = bmi
pool = bmi
conf_file = ${cephConf}
keyring = /etc/ceph/bmi.key

# This section is for haas related config
[haas]
url = http://localhost:3241/

# This section is for iscsi related config
[iscsi]
ip = 10.10.10.1
password = secret

# this section is for rpc server config
[rpc]
name_server_ip = 127.0.0.1
name_server_port = 10000
rpc_server_ip = 127.0.0.1
rpc_server_port = 10001

# this section is for specifying tftp settings
[tftp]
pxelinux_url = /var/lib/tftpboot/pxelinux.cfg
ipxe_url = /var/lib/tftpboot/

# this section is for http config
[http]
bind_ip = 127.0.0.1
bind_port = 8000

# this section is for logs
[logs]
url = /home/bmi/logs/
debug = False
verbose = False
`;
}

/** The smallest config that runs entirely on the in-memory drivers. */
function fakeConfig(extra = ''): string {
  return `
[bmi]
uid = 5
[db]
path = :memory:
[driver]
fs = fake
iscsi = fake
net_isolator = fake
[iscsi]
ip = 10.0.0.1
[tftp]
pxelinux_path = /srv/tftp/pxelinux.cfg
ipxe_path = /srv/tftp
${extra}`;
}

/** The ConfigError thrown by `fn`, so that its problem list can be asserted. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

describe('loadConfig: a config written for the original BMI master', () => {
  it('parses unchanged, every section read into the typed config', () => {
    const cfg = loadConfig({ text: masterConfig(), env: {} });
    // toMatchObject: every key the original read is asserted; keys added since keep their defaults.
    const expected = {
      source: '',
      bmi: { uid: '5', snapshot: 'bmi_created_snapshot', service: false, adminProject: 'bmi_infra' },
      db: { path: '/var/lib/bmi/bmi.db' },
      http: { ip: '127.0.0.1', port: 8000 },
      tftp: {
        pxelinuxPath: '/var/lib/tftpboot/pxelinux.cfg',
        ipxePath: '/var/lib/tftpboot',
        ipxeInterface: 'net2',
        leasesFile: '/var/lib/misc/dnsmasq.leases',
        ipxeMacPath: '',
        httpBoot: false,
        httpBootAllow: [],
      },
      iscsi: {
        ip: '192.168.100.10',
        port: 3260,
        lun: 1,
        tgtControlPort: 0,
        targetPrefix: '',
        initiatorAcl: false,
        reconcileSeconds: 60,
      },
      fs: {
        id: 'bmi',
        pool: 'bmi',
        confFile: cephConf,
        keyring: '/etc/ceph/ceph.client.bmi.keyring',
        timeoutSeconds: 30,
        fakeImages: [],
        fakeState: '',
      },
      netIsolator: { url: 'http://127.0.0.1:7000', fakeSeed: '' },
      logs: { path: '/var/log/bmi/', debug: false, verbose: true },
      drivers: { fs: 'ceph', iscsi: 'tgt', netIsolator: 'hil' },
      warnings: [],
    };
    expect(cfg).toMatchObject(expected);
  });

  it('refuses it when [fs] conf_file does not exist on disk (fs = ceph), naming the path', () => {
    rmSync(cephConf);
    const err = configError(() => loadConfig({ text: masterConfig(), env: {} }));
    expect(err.problems).toEqual([`[fs] conf_file ${cephConf} does not exist`]);
  });

  it('reads the file named by BMI_CONFIG and records it as the source', () => {
    const file = path.join(dir, 'bmiconfig.cfg');
    writeFileSync(file, masterConfig());
    const cfg = loadConfig({ env: { BMI_CONFIG: file } });
    expect(cfg.source).toBe(file);
    expect(cfg.bmi.uid).toBe('5');
  });

  it('an explicit path wins over BMI_CONFIG', () => {
    const file = path.join(dir, 'explicit.cfg');
    writeFileSync(file, masterConfig().replace('uid = 5', 'uid = 77'));
    const cfg = loadConfig({ path: file, env: { BMI_CONFIG: path.join(dir, 'missing.cfg') } });
    expect(cfg.bmi.uid).toBe('77');
  });
});

describe('loadConfig: the install guide’s older key names', () => {
  it('accepts [haas], [ceph], [filesystem], [tftp] *_url, [http] bind_*, [db] url, [logs] url', () => {
    const cfg = loadConfig({ text: installGuideConfig(), env: {} });
    expect(cfg.netIsolator.url).toBe('http://localhost:3241/');
    expect(cfg.fs).toEqual({
      id: 'bmi',
      pool: 'bmi',
      confFile: cephConf,
      keyring: '/etc/ceph/bmi.key',
      timeoutSeconds: 30,
      maxCalls: 12,
      downSeconds: 10,
      fakeImages: [],
      fakeState: '',
    });
    expect(cfg.tftp.pxelinuxPath).toBe('/var/lib/tftpboot/pxelinux.cfg');
    expect(cfg.tftp.ipxePath).toBe('/var/lib/tftpboot');
    expect(cfg.http).toMatchObject({ ip: '127.0.0.1', port: 8000, requestTimeoutSeconds: 30, metricsAllow: [] });
    expect(cfg.db.path).toBe('/home/user/bmi.db');
    expect(cfg.logs.path).toBe('/home/bmi/logs/');
    expect(cfg.drivers).toEqual({ fs: 'ceph', iscsi: 'tgt', netIsolator: 'hil', power: 'ipmi' });
  });

  it('prefers the current name when both the current name and its alias are given', () => {
    const text = `${installGuideConfig()}\n[rest_api]\nport = 9000\n[net_isolator]\nurl = http://hil.example:7000\n`;
    const cfg = loadConfig({ text, env: {} });
    expect(cfg.http.port).toBe(9000);
    expect(cfg.netIsolator.url).toBe('http://hil.example:7000');
  });

  it('names the alias in the message when neither name is given', () => {
    const text = installGuideConfig().replace('url = /home/user/bmi.db', '');
    const err = configError(() => loadConfig({ text, env: {} }));
    expect(err.problems).toEqual(['missing option [db] path (or its alias [db] url)']);
  });
});

describe('loadConfig: [driver]', () => {
  it('missing section → ceph, tgt, hil', () => {
    const text = masterConfig().replace(/\[driver\][^[]*/, '');
    expect(loadConfig({ text, env: {} }).drivers).toEqual({
      fs: 'ceph',
      iscsi: 'tgt',
      netIsolator: 'hil',
      power: 'ipmi',
    });
  });

  it('empty values → ceph, tgt, hil', () => {
    const text = masterConfig().replace(/\[driver\][^[]*/, '[driver]\nnet_isolator =\niscsi =\nfs =\n\n');
    expect(loadConfig({ text, env: {} }).drivers).toEqual({
      fs: 'ceph',
      iscsi: 'tgt',
      netIsolator: 'hil',
      power: 'ipmi',
    });
  });

  it('accepts fake for every port, in any case, and then needs neither Ceph nor a HIL url', () => {
    const cfg = loadConfig({ text: fakeConfig().replace('fs = fake', 'fs = FAKE'), env: {} });
    expect(cfg.drivers).toMatchObject({ fs: 'fake', iscsi: 'fake', netIsolator: 'fake' });
    expect(cfg.fs.confFile).toBe('');
    expect(cfg.netIsolator.url).toBe('');
  });

  it('refuses anything else, naming the accepted values, one problem per bad driver', () => {
    const text = fakeConfig()
      .replace('fs = fake', 'fs = rbd')
      .replace('iscsi = fake', 'iscsi = iet')
      .replace('net_isolator = fake', 'net_isolator = haas');
    const err = configError(() => loadConfig({ text, env: {} }));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        '[driver] fs = "rbd" is not one of the accepted values: ceph, fake',
        '[driver] iscsi = "iet" is not one of the accepted values: tgt, fake',
        '[driver] net_isolator = "haas" is not one of the accepted values: hil, standalone, fake',
      ]),
    );
  });

  it('with iscsi = tgt still needs the Ceph settings (tgt exports RBD images)', () => {
    const text = fakeConfig().replace('iscsi = fake', 'iscsi = tgt');
    const err = configError(() => loadConfig({ text, env: {} }));
    expect(err.problems).toEqual([
      'missing option [fs] id (or its alias [ceph] id)',
      'missing option [fs] pool (or its alias [ceph] pool)',
      'missing option [fs] conf_file (or its alias [ceph] conf_file)',
    ]);
  });

  it('with net_isolator = hil needs [net_isolator] url', () => {
    const text = fakeConfig().replace('net_isolator = fake', 'net_isolator = hil');
    const err = configError(() => loadConfig({ text, env: {} }));
    expect(err.problems).toEqual(['missing option [net_isolator] url (or its alias [haas] url)']);
  });
});

describe('loadConfig: environment overrides BMI_<SECTION>_<KEY>', () => {
  it('BMI_REST_API_PORT, BMI_NET_ISOLATOR_URL and BMI_DRIVER_FS override the file', () => {
    const cfg = loadConfig({
      text: masterConfig(),
      env: { BMI_REST_API_PORT: '9090', BMI_NET_ISOLATOR_URL: 'http://hil.example:7000', BMI_DRIVER_FS: 'fake' },
    });
    expect(cfg.http.port).toBe(9090);
    expect(cfg.netIsolator.url).toBe('http://hil.example:7000');
    expect(cfg.drivers.fs).toBe('fake');
  });

  it('an override of the current name beats the alias in the file', () => {
    const cfg = loadConfig({ text: installGuideConfig(), env: { BMI_NET_ISOLATOR_URL: 'http://other:7000' } });
    expect(cfg.netIsolator.url).toBe('http://other:7000');
  });

  it('an override can supply a missing required key, and an empty override counts as unset', () => {
    const text = fakeConfig().replace('path = :memory:', '');
    expect(loadConfig({ text, env: { BMI_DB_PATH: '/tmp/x.db' } }).db.path).toBe('/tmp/x.db');
    const err = configError(() => loadConfig({ text, env: { BMI_DB_PATH: '' } }));
    expect(err.problems).toEqual(['missing option [db] path (or its alias [db] url)']);
  });

  it('overridden values are validated like file values', () => {
    const err = configError(() =>
      loadConfig({ text: fakeConfig(), env: { BMI_REST_API_PORT: 'eighty', BMI_DRIVER_ISCSI: 'iet' } }),
    );
    expect(err.problems).toEqual(
      expect.arrayContaining([
        '[rest_api] port must be a whole number between 0 and 65535, got "eighty"',
        '[driver] iscsi = "iet" is not one of the accepted values: tgt, fake',
      ]),
    );
  });

  it('applyEnvOverrides picks the longest section name and ignores unrelated variables', () => {
    const sections: Record<string, Record<string, string>> = { db: { path: 'a' } };
    applyEnvOverrides(sections, {
      BMI_NET_ISOLATOR_URL: ' http://h:7000 ',
      BMI_FS_CONF_FILE: '/etc/ceph/ceph.conf',
      BMI_REST_API_PORT: '1',
      BMI_CONFIG: '/etc/bmi/bmiconfig.cfg',
      BMI_NOSUCH_KEY: 'x',
      BMI_DB_: 'no key',
      bmi_db_path: 'lower-case is not ours',
      HOME: '/root',
    });
    expect(sections).toEqual({
      db: { path: 'a' },
      net_isolator: { url: 'http://h:7000' },
      fs: { conf_file: '/etc/ceph/ceph.conf' },
      rest_api: { port: '1' },
    });
  });

  it('reads process.env when no env is given', () => {
    const before = process.env.BMI_ISCSI_IP;
    process.env.BMI_ISCSI_IP = '10.9.8.7';
    try {
      expect(loadConfig({ text: fakeConfig() }).iscsi.ip).toBe('10.9.8.7');
    } finally {
      if (before === undefined) delete process.env.BMI_ISCSI_IP;
      else process.env.BMI_ISCSI_IP = before;
    }
  });
});

describe('loadConfig: every problem in one ConfigError', () => {
  it('lists missing options, bad values and unknown sections together', () => {
    const text = `
[bmi]
uid = 5img
service = maybe
[rest_api]
port = 70000
[iscsi]
lun = one
[logs]
debug = yes please
[driver]
fs = fake
iscsi = fake
net_isolator = fake
[haas_typo]
url = x
`;
    const err = configError(() => loadConfig({ text, env: {} }));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        'unknown section [haas_typo]',
        '[bmi] uid "5img" must be 1-16 letters, digits, "-" or "_", and must not contain "img"',
        '[bmi] service must be true or false, got "maybe"',
        'missing option [db] path (or its alias [db] url)',
        '[rest_api] port must be a whole number between 0 and 65535, got "70000"',
        'missing option [tftp] pxelinux_path (or its alias [tftp] pxelinux_url)',
        'missing option [tftp] ipxe_path (or its alias [tftp] ipxe_url)',
        'missing option [iscsi] ip',
        '[iscsi] lun must be a whole number between 0 and 255, got "one"',
        '[logs] debug must be true or false, got "yes please"',
      ]),
    );
    expect(err.problems).toHaveLength(10);
    for (const p of err.problems) expect(err.message).toContain(p);
  });

  it('an empty file reports every required option', () => {
    const err = configError(() => loadConfig({ text: '', env: {} }));
    expect(err.problems).toEqual([
      'missing option [bmi] uid',
      'missing option [db] path (or its alias [db] url)',
      'missing option [tftp] pxelinux_path (or its alias [tftp] pxelinux_url)',
      'missing option [tftp] ipxe_path (or its alias [tftp] ipxe_url)',
      'missing option [iscsi] ip',
      'missing option [fs] id (or its alias [ceph] id)',
      'missing option [fs] pool (or its alias [ceph] pool)',
      'missing option [fs] conf_file (or its alias [ceph] conf_file)',
      'missing option [net_isolator] url (or its alias [haas] url)',
    ]);
  });
});

describe('loadConfig: values', () => {
  it.each([
    ['/srv/tftp/pxelinux.cfg/', '/srv/tftp/'],
    ['/srv/tftp/pxelinux.cfg', '/srv/tftp'],
    ['/srv/tftp//pxelinux.cfg//', '/srv/tftp//'],
  ])('tftp paths %s and %s give the same directories as without trailing slash', (pxe, root) => {
    const text = fakeConfig()
      .replace('pxelinux_path = /srv/tftp/pxelinux.cfg', `pxelinux_path = ${pxe}`)
      .replace('ipxe_path = /srv/tftp', `ipxe_path = ${root}`);
    const cfg = loadConfig({ text, env: {} });
    expect(cfg.tftp.pxelinuxPath).toBe('/srv/tftp/pxelinux.cfg');
    expect(cfg.tftp.ipxePath).toBe('/srv/tftp');
  });

  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
  ])('bool %s reads as %s', (text, value) => {
    const cfg = loadConfig({ text: fakeConfig(`[logs]\ndebug = ${text}\n[bmi]\nservice = ${text}`), env: {} });
    expect(cfg.logs.debug).toBe(value);
    expect(cfg.bmi.service).toBe(value);
  });

  it.each(['maybe', 'tru', '2', 'enabled'])('bool %s is refused', (v) => {
    const err = configError(() => loadConfig({ text: fakeConfig(`[logs]\nverbose = ${v}`), env: {} }));
    expect(err.problems).toEqual([`[logs] verbose must be true or false, got "${v}"`]);
  });

  it.each(['8000.5', '80a', '0x50', '1e3', '-1', '65536'])('port %s is refused', (v) => {
    const err = configError(() => loadConfig({ text: fakeConfig(`[rest_api]\nport = ${v}`), env: {} }));
    expect(err.problems).toEqual([`[rest_api] port must be a whole number between 0 and 65535, got "${v}"`]);
  });

  it('an int in range is a number, not a string', () => {
    const cfg = loadConfig({ text: fakeConfig('[iscsi]\nport = 3261\nlun = 0'), env: {} });
    expect(cfg.iscsi.port).toBe(3261);
    expect(cfg.iscsi.lun).toBe(0);
  });

  it.each(['img', '5img', 'bmiimg', 'my-img-1'])('uid %s (contains "img") is refused', (uid) => {
    const err = configError(() => loadConfig({ text: fakeConfig().replace('uid = 5', `uid = ${uid}`), env: {} }));
    expect(err.problems).toEqual([
      `[bmi] uid "${uid}" must be 1-16 letters, digits, "-" or "_", and must not contain "img"`,
    ]);
  });

  it.each(['5', 'bmi-prod_2', 'IM'])('uid %s is accepted', (uid) => {
    expect(loadConfig({ text: fakeConfig().replace('uid = 5', `uid = ${uid}`), env: {} }).bmi.uid).toBe(uid);
  });

  it('refuses a snapshot name, pool, iSCSI address and HIL url that would be unsafe', () => {
    const text = `${fakeConfig()
      .replace('net_isolator = fake', 'net_isolator = hil')
      .replace('ip = 10.0.0.1', 'ip = 10.0.0.1; rm -rf /')}
[bmi]
snapshot = ../snap
[fs]
pool = my pool
[net_isolator]
url = ftp://hil
`;
    const err = configError(() => loadConfig({ text, env: {} }));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        '[bmi] snapshot "../snap" is not a valid snapshot name',
        '[fs] pool "my pool" is not a valid pool name',
        '[net_isolator] url "ftp://hil" must be an http:// or https:// URL',
      ]),
    );
  });

  it('defaults the snapshot to "snapshot" (the original’s constant before [bmi] snapshot existed)', () => {
    expect(loadConfig({ text: fakeConfig(), env: {} }).bmi.snapshot).toBe('snapshot');
  });

  it('reads [fs] fake_images as a trimmed list', () => {
    const cfg = loadConfig({ text: fakeConfig('[fs]\nfake_images = centos7 , ubuntu22,,bmi_test'), env: {} });
    expect(cfg.fs.fakeImages).toEqual(['centos7', 'ubuntu22', 'bmi_test']);
  });

  it('refuses a fake HIL seed file that does not exist', () => {
    const seed = path.join(dir, 'no-seed.json');
    const err = configError(() => loadConfig({ text: fakeConfig(`[net_isolator]\nfake_seed = ${seed}`), env: {} }));
    expect(err.problems).toEqual([`[net_isolator] fake_seed ${seed} does not exist`]);
  });
});

describe('loadConfig: the file', () => {
  it('a missing file is a ConfigError naming the path', () => {
    const missing = path.join(dir, 'nope', 'bmiconfig.cfg');
    const err = configError(() => loadConfig({ path: missing, env: {} }));
    expect(err.source).toBe(missing);
    expect(err.problems).toEqual([`cannot load ${missing}: no such file (set BMI_CONFIG)`]);
    expect(err.message).toContain(missing);
  });

  it('a path that is a directory is a ConfigError naming the path', () => {
    const err = configError(() => loadConfig({ path: dir, env: {} }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(new RegExp(`^cannot load ${dir}: `));
  });

  it('without a path or BMI_CONFIG, /etc/bmi/bmiconfig.cfg is read', () => {
    // No test machine has that file; the error names the default path.
    const err = configError(() => loadConfig({ env: {} }));
    expect(err.source).toBe('/etc/bmi/bmiconfig.cfg');
  });
});

describe('parseIni', () => {
  it('lower-cases section and key names, trims values and keeps them as strings', () => {
    expect(parseIni('[BMI]\nUID = 5 \nService=True\n[Rest_API]\nPort = 8000\n')).toEqual({
      bmi: { uid: '5', service: 'True' },
      rest_api: { port: '8000' },
    });
  });

  it('interpolates %(name)s from the same section and from [DEFAULT], like ConfigParser', () => {
    const sections = parseIni(`
[DEFAULT]
root = /var/lib/tftpboot
[tftp]
pxelinux_path = %(root)s/pxelinux.cfg
ipxe_path = %(root)s
[fs]
dir = /etc/ceph
conf_file = %(dir)s/ceph.conf
keyring = %(conf_file)s.keyring
`);
    expect(sections.tftp.pxelinux_path).toBe('/var/lib/tftpboot/pxelinux.cfg');
    expect(sections.tftp.ipxe_path).toBe('/var/lib/tftpboot');
    expect(sections.fs.conf_file).toBe('/etc/ceph/ceph.conf');
    expect(sections.fs.keyring).toBe('/etc/ceph/ceph.conf.keyring');
    expect(sections.default).toBeUndefined();
  });

  it('a section’s own value beats [DEFAULT]', () => {
    const sections = parseIni('[DEFAULT]\nx = d\n[a]\nx = own\ny = %(x)s\n[b]\ny = %(x)s\n');
    expect(sections.a.y).toBe('own');
    expect(sections.b.y).toBe('d');
  });

  it('%% is a literal %, also in a value that interpolates, and is unescaped exactly once', () => {
    const sections = parseIni('[a]\nhost = h\nurl = http://%(host)s/a%%20b\npct = 100%%%%\nref = %(pct)s\n');
    expect(sections.a.url).toBe('http://h/a%20b');
    expect(sections.a.pct).toBe('100%%');
    expect(sections.a.ref).toBe('100%%');
  });

  it('stops on self-referencing interpolation instead of looping', () => {
    const sections = parseIni('[a]\nx = %(x)s!\n');
    expect(sections.a.x).toMatch(/^%\(x\)s!+$/);
  });

  it('interpolation drives the loaded config', () => {
    const text = fakeConfig().replace('ipxe_path = /srv/tftp', 'root = /srv/boot\nipxe_path = %(root)s/');
    const cfg = loadConfig({
      text: text.replace('pxelinux_path = /srv/tftp/pxelinux.cfg', 'pxelinux_path = %(ipxe_path)spxelinux.cfg'),
      env: {},
    });
    expect(cfg.tftp.ipxePath).toBe('/srv/boot');
    expect(cfg.tftp.pxelinuxPath).toBe('/srv/boot/pxelinux.cfg');
  });

  it('skips # and ; comment lines', () => {
    expect(parseIni('# comment\n; comment\n[a]\n# x = 1\nk = v\n')).toEqual({ a: { k: 'v' } });
  });
});

/** The original's tests/unit/common/test_config.py (reference §7.1), adapted. */
describe('test_config.py, adapted', () => {
  const sample = () => fakeConfig().replace('uid = 5', 'uid = 10') + '\n[tests]\nvar1 = 0\nvar2 = 1\n';

  it('TestBadPath: BMI_CONFIG naming a missing file fails to load', () => {
    const err = configError(() => loadConfig({ env: { BMI_CONFIG: path.join(dir, 'missing.cfg') } }));
    expect(err.problems[0]).toContain(path.join(dir, 'missing.cfg'));
  });

  it('TestCorrectPath: BMI_CONFIG naming sample.cfg loads it; [tests] values stay strings', () => {
    const file = path.join(dir, 'sample.cfg');
    writeFileSync(file, sample());
    expect(loadConfig({ env: { BMI_CONFIG: file } }).bmi.uid).toBe('10');
    expect(parseIni(sample()).tests).toEqual({ var1: '0', var2: '1' });
  });

  it('TestForceFalse (adapted: there is no cache): each load reads the file again', () => {
    const file = path.join(dir, 'sample.cfg');
    writeFileSync(file, sample());
    expect(loadConfig({ env: { BMI_CONFIG: file } }).bmi.uid).toBe('10');
    writeFileSync(file, sample().replace('uid = 10', 'uid = 11'));
    expect(loadConfig({ env: { BMI_CONFIG: file } }).bmi.uid).toBe('11');
  });

  describe('TestBadConfigs', () => {
    it('a missing required option is reported', () => {
      const err = configError(() => loadConfig({ text: fakeConfig().replace('uid = 5', ''), env: {} }));
      expect(err.problems).toEqual(['missing option [bmi] uid']);
    });

    it('a missing required section is reported (as its required options)', () => {
      const text = fakeConfig().replace(/\[tftp\][^[]*$/, '');
      const err = configError(() => loadConfig({ text, env: {} }));
      expect(err.problems).toEqual([
        'missing option [tftp] pxelinux_path (or its alias [tftp] pxelinux_url)',
        'missing option [tftp] ipxe_path (or its alias [tftp] ipxe_url)',
      ]);
    });

    it('a value read as int that is not one is refused', () => {
      const err = configError(() => loadConfig({ text: fakeConfig('[rest_api]\nport = hello'), env: {} }));
      expect(err.problems).toEqual(['[rest_api] port must be a whole number between 0 and 65535, got "hello"']);
    });

    it('a value read as bool that is not one is refused', () => {
      const err = configError(() => loadConfig({ text: fakeConfig('[bmi]\nservice = hello'), env: {} }));
      expect(err.problems).toEqual(['[bmi] service must be true or false, got "hello"']);
    });

    it('a missing optional section leaves its defaults', () => {
      const cfg = loadConfig({ text: fakeConfig(), env: {} });
      expect(cfg.logs).toEqual({ path: '', debug: false, verbose: false, format: 'auto', auditDays: 365 });
      expect(cfg.http).toMatchObject({ ip: '127.0.0.1', port: 8000, requestTimeoutSeconds: 30, metricsAllow: [] });
    });

    it('a missing optional option leaves its default', () => {
      const cfg = loadConfig({ text: fakeConfig('[logs]\ndebug = true'), env: {} });
      expect(cfg.logs).toEqual({ path: '', debug: true, verbose: false, format: 'auto', auditDays: 365 });
      expect(cfg.tftp.ipxeInterface).toBe('net2');
      expect(cfg.bmi.adminProject).toBe('bmi_infra');
    });
  });
});

describe('parseIni: Python ConfigParser syntax, as the original read it', () => {
  it('reads `key: value` lines like `key = value`', () => {
    expect(parseIni('[rest_api]\nip: 0.0.0.0\nport:9000\n')).toEqual({ rest_api: { ip: '0.0.0.0', port: '9000' } });
  });

  it('keeps # and ; inside values, and quotes, literally', () => {
    const s = parseIni('[tests]\npw = admin123##\npath = /x#1.db\nsemi = a;b\nq = "quoted"\n');
    expect(s.tests).toEqual({ pw: 'admin123##', path: '/x#1.db', semi: 'a;b', q: '"quoted"' });
  });

  it('ends a value at a ; that follows white space (an inline comment)', () => {
    expect(parseIni('[db]\npath = /var/bmi.db ; the database\n').db.path).toBe('/var/bmi.db');
  });

  it('joins indented continuation lines to the previous value, and skips comment lines', () => {
    const s = parseIni('[fs]\nfake_images = a,\n   b\n# a comment\n; another\nrem old style\npool = p\n');
    expect(s.fs).toEqual({ fake_images: 'a,\nb', pool: 'p' });
  });

  it('refuses a line that is neither a section, an option nor a comment', () => {
    expect(() => parseIni('[bmi]\njust some words\n')).toThrow(/cannot parse line "just some words"/);
  });
});

describe('loadConfig: warnings', () => {
  it('warns about unknown keys of known sections, but not about [rpc] or [tests]', () => {
    const cfg = loadConfig({
      text: fakeConfig('[rpc]\nanything = 1\n[tests]\nnode_name = n\n[bmi]\nuid2 = 6\n'),
      env: {},
    });
    expect(cfg.warnings).toEqual(['unknown key [bmi] uid2 is ignored']);
  });

  it('reports a line it cannot parse as a ConfigError', () => {
    const err = configError(() => loadConfig({ text: '[bmi]\nwhat is this\n', env: {} }));
    expect(err.problems[0]).toMatch(/cannot parse/);
  });
});

describe('loadConfig: [iscsi] keys of the tgt driver', () => {
  const tgt = (extra: string) =>
    loadConfig({
      text: fakeConfig(`[iscsi]\nip = 10.0.0.1\n${extra}`).replace('iscsi = fake', 'iscsi = tgt'),
      env: { BMI_FS_ID: 'bmi', BMI_FS_POOL: 'bmi', BMI_FS_CONF_FILE: cephConf },
    });

  it('[fs] max_calls and down_seconds: defaults 12 and 10, ranges checked', () => {
    expect(loadConfig({ text: fakeConfig(), env: {} }).fs).toMatchObject({ maxCalls: 12, downSeconds: 10 });
    const set = loadConfig({ text: fakeConfig(), env: { BMI_FS_MAX_CALLS: '4', BMI_FS_DOWN_SECONDS: '0' } });
    expect(set.fs).toMatchObject({ maxCalls: 4, downSeconds: 0 });
    const err = configError(() => loadConfig({ text: fakeConfig(), env: { BMI_FS_MAX_CALLS: '0' } }));
    expect(err.problems).toEqual(['[fs] max_calls must be a whole number between 1 and 256, got "0"']);
  });

  it('defaults: control port 0, bare target names, no ACL, a check every 60 s; no warnings', () => {
    const cfg = tgt('');
    expect(cfg.iscsi).toMatchObject({ tgtControlPort: 0, targetPrefix: '', initiatorAcl: false, reconcileSeconds: 60 });
    expect(cfg.warnings).toEqual([]);
  });

  it('reads them, from the file and from BMI_ISCSI_* variables', () => {
    const cfg = tgt(
      'tgt_control_port = 42\ntarget_prefix = iqn.2026-11.org.bmi:\ninitiator_acl = true\nreconcile_seconds = 0\n',
    );
    expect(cfg.iscsi).toMatchObject({
      tgtControlPort: 42,
      targetPrefix: 'iqn.2026-11.org.bmi:',
      initiatorAcl: true,
      reconcileSeconds: 0,
    });
    expect(cfg.warnings).toEqual([]);
    const env = loadConfig({ text: fakeConfig(), env: { BMI_ISCSI_TGT_CONTROL_PORT: '7' } });
    expect(env.iscsi.tgtControlPort).toBe(7);
  });

  it('refuses a control port tgtadm refuses, a prefix with upper case or "_", and LUN 0 with tgt', () => {
    const err = configError(() =>
      tgt('tgt_control_port = 32768\ntarget_prefix = IQN.2026-11.org_bmi:\nlun = 0\nreconcile_seconds = -1\n'),
    );
    expect(err.problems).toEqual([
      '[iscsi] tgt_control_port must be a whole number between 0 and 32767, got "32768"',
      '[iscsi] reconcile_seconds must be a whole number between 0 and 86400, got "-1"',
      '[iscsi] target_prefix "IQN.2026-11.org_bmi:" may hold only lower-case letters, digits, ".", ":" and "-" (e.g. iqn.2026-11.org.bmi:)',
      "[iscsi] lun must be 1 or more with iscsi = tgt (tgtd's LUN 0 is its controller)",
    ]);
  });

  it('with tgt and bare names, refuses a uid whose "_" tgtd would refuse in target names; a prefix fixes it', () => {
    const bare = (prefix: string) =>
      loadConfig({
        text: fakeConfig(`[iscsi]\nip = 10.0.0.1\ntarget_prefix = ${prefix}\n`)
          .replace('iscsi = fake', 'iscsi = tgt')
          .replace('uid = 5', 'uid = site_a'),
        env: { BMI_FS_ID: 'bmi', BMI_FS_POOL: 'bmi', BMI_FS_CONF_FILE: cephConf },
      });
    expect(configError(() => bare('')).problems).toEqual([
      '[bmi] uid "site_a" makes target names tgtd refuses (it allows letters, digits, ".", ":" and "-"); set [iscsi] target_prefix, with which target names are sanitised',
    ]);
    expect(bare('iqn.2026-11.org.bmi:').bmi.uid).toBe('site_a');
  });
});

describe('loadConfig: [db]', () => {
  const withDb = (value: string, extra = '') =>
    loadConfig({ text: fakeConfig().replace('path = :memory:', `url = ${value}${extra}`), env: {} });

  it('takes an SQLite path, an sqlite:/// URL or a PostgreSQL URL, with a pool size', () => {
    expect(dbLocation(withDb('/var/lib/bmi/bmi.db').db.path)).toEqual({
      engine: 'sqlite',
      file: '/var/lib/bmi/bmi.db',
    });
    expect(dbLocation(withDb('sqlite:////var/bmi.db').db.path)).toEqual({ engine: 'sqlite', file: '/var/bmi.db' });
    const pg = withDb('postgres://bmi:s3cret@db.example:5433/bmi', '\npool = 25');
    expect(dbLocation(pg.db.path)).toEqual({ engine: 'postgres', url: 'postgres://bmi:s3cret@db.example:5433/bmi' });
    expect(pg.db.pool).toBe(25);
    expect(dbLocation(withDb('postgresql://h/bmi?sslmode=require').db.path).engine).toBe('postgres');
  });

  it('refuses other URLs, a PostgreSQL URL without host or database, and a pool of 0, never repeating a password', () => {
    expect(configError(() => withDb('mysql://u:pw@h/db')).problems).toEqual([
      '[db] url "mysql://…": only sqlite:/// paths and postgres:// URLs are supported',
    ]);
    expect(configError(() => withDb('postgres://bmi:s3cret@db.example:5433/')).problems).toEqual([
      '[db] url postgres://bmi:***@db.example:5433/ names no database',
    ]);
    expect(configError(() => withDb('postgres://bmi:s3cret@db.example/bmi', '\npool = 0')).problems).toEqual([
      expect.stringContaining('[db] pool'),
    ]);
  });

  it('redacts the password of a URL for the logs', () => {
    expect(redactDbUrl('postgres://bmi:p@ss:w0rd@127.0.0.1:5440/bmi')).toBe('postgres://bmi:***@127.0.0.1:5440/bmi');
    expect(redactDbUrl('postgres://127.0.0.1/bmi')).toBe('postgres://127.0.0.1/bmi');
    expect(redactDbUrl('/var/bmi.db')).toBe('/var/bmi.db');
    expect(redactDbUrl('postgresql://h/bmi?sslmode=require&password=s3cret')).toBe(
      'postgresql://h/bmi?sslmode=require&password=***',
    );
  });
});
