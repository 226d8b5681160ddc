import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ini from 'ini';
import { isCidr } from '../common/net';
import { isSafeName, TGT_NAME, UID_PATTERN } from '../common/validation/names';

export const DEFAULT_CONFIG_PATH = '/etc/bmi/bmiconfig.cfg';

export const STORAGE_DRIVERS = ['ceph', 'fake'] as const;
export const ISCSI_DRIVERS = ['tgt', 'fake'] as const;
export const NET_ISOLATORS = ['hil', 'standalone', 'fake'] as const;
export type StorageDriverName = (typeof STORAGE_DRIVERS)[number];
export type IscsiDriverName = (typeof ISCSI_DRIVERS)[number];
export type NetIsolatorName = (typeof NET_ISOLATORS)[number];

/**
 * The validated, typed configuration. Built once at boot from the INI file and the environment; nothing else
 * reads either. Field names follow the INI sections of the original BMI (reference §1.3).
 */
export class AppConfig {
  /** the file the config came from (or '' when built from the environment only) */
  source: string;
  bmi: {
    /** prefix of every RBD image BMI creates: `<uid>img<id>` */
    uid: string;
    /** the protected snapshot every cloneable BMI image carries */
    snapshot: string;
    /** accepted for compatibility; targets are always re-created at startup */
    service: boolean;
    /** project whose members are BMI admins */
    adminProject: string;
  };
  db: { path: string };
  http: { ip: string; port: number };
  tftp: {
    pxelinuxPath: string;
    ipxePath: string;
    /** the iPXE network interface the node DHCPs on (the original hard-coded net2) */
    ipxeInterface: string;
    leasesFile: string;
    /**
     * directory of the per-MAC iPXE scripts (`<aa-bb-cc-dd-ee-ff>.ipxe`) for clients that are iPXE already
     * (UEFI through snponly.efi, iPXE ROMs); '' (default): none are written
     */
    ipxeMacPath: string;
    /** serve the per-MAC scripts at GET /boot/ipxe?mac=… (unauthenticated: the nodes cannot log in) */
    httpBoot: boolean;
    /** client addresses (IPs or CIDRs) GET /boot/ipxe answers; empty: any */
    httpBootAllow: string[];
  };
  iscsi: {
    ip: string;
    port: number;
    lun: number;
    /** tgtd's control port (`tgtadm -C`); 0 is tgtadm's default socket */
    tgtControlPort: number;
    /** prepended to every target name, e.g. `iqn.2026-11.org.bmi:`; empty: the original's bare Ceph names */
    targetPrefix: string;
    /** each target lets in only the initiator name IscsiService.initiatorName gives (off: any initiator) */
    initiatorAcl: boolean;
    /** how often the targets are checked and missing ones re-created (tgt driver); 0: only at start */
    reconcileSeconds: number;
  };
  fs: {
    id: string;
    pool: string;
    confFile: string;
    keyring: string;
    timeoutSeconds: number;
    fakeImages: string[];
    /** the in-memory pool's state file (fs = fake); empty: the pool lives and dies with the process */
    fakeState: string;
  };
  netIsolator: {
    url: string;
    fakeSeed: string;
    /** total time for one HIL request */
    timeoutMs: number;
    /** time to open the TCP connection to HIL */
    connectTimeoutMs: number;
    /** extra attempts of an idempotent GET when HIL cannot be reached */
    retries: number;
    /** how long an access decision (credentials + project) is reused; 0 turns the cache off */
    cacheSeconds: number;
    /** standalone mode: the admin user created at first start, and its password (required then) */
    adminUser: string;
    adminPassword: string;
  };
  logs: { path: string; debug: boolean; verbose: boolean };
  drivers: { fs: StorageDriverName; iscsi: IscsiDriverName; netIsolator: NetIsolatorName };
  /** keys BMI does not know (typos, options of other tools): logged at start, never fatal */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid BMI configuration${source ? ` (${source})` : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Sections = Record<string, Record<string, string>>;

/** Sections a config may contain. Unknown sections are reported, so that a typo does not go unnoticed. */
const KNOWN_SECTIONS = [
  'bmi',
  'db',
  'rpc',
  'tftp',
  'rest_api',
  'http',
  'logs',
  'driver',
  'net_isolator',
  'haas',
  'iscsi',
  'fs',
  'ceph',
  'filesystem',
  'tests',
];

/**
 * Rewrites Python ConfigParser syntax (the original BMI's) into what the `ini` package reads the same way:
 * `key: value` becomes `key = value`; a value keeps `#`, `;` and quotes literally, except that `;` after
 * white space starts a comment, as in Python 2; indented lines continue the previous value. Values are
 * written JSON-quoted, which `ini` reads back verbatim.
 */
export function toIniSyntax(text: string): string {
  const out: string[] = [];
  let current: { key: string; value: string } | null = null;
  const flush = () => {
    if (current) out.push(`${current.key} = ${JSON.stringify(current.value)}`);
    current = null;
  };
  for (const line of text.split(/\r?\n/)) {
    if (/^\s/.test(line) && line.trim() !== '' && current) {
      current.value += `\n${stripInlineComment(line.trim())}`;
      continue;
    }
    flush();
    if (line.trim() === '' || /^[#;]/.test(line) || /^rem(\s|$)/i.test(line)) continue;
    if (/^\[[^\]]+\]/.test(line)) {
      out.push(line.trim());
      continue;
    }
    const option = /^([^:=\s][^:=]*?)\s*[:=]\s?(.*)$/.exec(line);
    if (!option) throw new Error(`cannot parse line "${line.trim()}"`);
    current = { key: option[1].trim(), value: stripInlineComment(option[2].trim()) };
  }
  flush();
  return out.join('\n');
}

function stripInlineComment(value: string): string {
  const m = /\s;/.exec(value);
  return (m ? value.slice(0, m.index) : value).trim();
}

/** The keys each section may hold (null: any key, the section is ignored). Others are reported as warnings. */
const KNOWN_KEYS: Record<string, string[] | null> = {
  bmi: ['uid', 'snapshot', 'service', 'admin_project'],
  db: ['path', 'url'],
  rpc: null,
  tftp: [
    'pxelinux_path',
    'pxelinux_url',
    'ipxe_path',
    'ipxe_url',
    'ipxe_interface',
    'leases_file',
    'ipxe_mac_path',
    'http_boot',
    'http_boot_allow',
  ],
  rest_api: ['ip', 'port'],
  http: ['bind_ip', 'bind_port'],
  logs: ['path', 'url', 'debug', 'verbose'],
  driver: ['fs', 'iscsi', 'net_isolator'],
  net_isolator: [
    'url',
    'fake_seed',
    'timeout_ms',
    'connect_timeout_ms',
    'retries',
    'cache_seconds',
    'admin_user',
    'admin_password',
  ],
  haas: ['url'],
  iscsi: ['ip', 'port', 'lun', 'password', 'tgt_control_port', 'target_prefix', 'initiator_acl', 'reconcile_seconds'],
  fs: ['id', 'pool', 'conf_file', 'keyring', 'timeout_seconds', 'fake_images', 'fake_state'],
  ceph: ['id', 'pool', 'conf_file', 'keyring', 'timeout_seconds'],
  filesystem: null,
  tests: null,
};

/** Reads the INI text into lower-cased sections, with `%(name)s` interpolation as Python's ConfigParser did. */
export function parseIni(text: string): Sections {
  const raw = ini.parse(toIniSyntax(text)) as Record<string, unknown>;
  const sections: Sections = {};
  const defaults: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const target = name.toLowerCase() === 'default' ? defaults : (sections[name.toLowerCase()] ??= {});
      flatten(value as Record<string, unknown>, target);
    }
  }
  for (const section of Object.values(sections)) {
    for (const [k, v] of Object.entries(defaults)) if (!(k in section)) section[k] = v;
    const raw = { ...section };
    for (const key of Object.keys(section)) section[key] = interpolate(raw, raw[key], 0);
  }
  return sections;
}

function flatten(value: Record<string, unknown>, into: Record<string, string>): void {
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object') continue; // ini's nested "a.b" sections are not ours
    into[k.toLowerCase()] = v === undefined || v === null ? '' : String(v).trim();
  }
}

/** `%%` is a literal `%`; `%(name)s` is the raw value of `name`, itself interpolated (as ConfigParser does). */
function interpolate(raw: Record<string, string>, value: string, depth: number): string {
  return value.replace(/%%|%\(([^)]+)\)s/g, (whole, name: string | undefined) => {
    if (name === undefined) return '%';
    const v = raw[name.toLowerCase()];
    return v === undefined || depth >= 10 ? whole : interpolate(raw, v, depth + 1);
  });
}

/** `BMI_<SECTION>_<KEY>=value` sets [section] key; section names may contain `_` (rest_api, net_isolator). */
export function applyEnvOverrides(sections: Sections, env: NodeJS.ProcessEnv): void {
  const bySpecificity = [...KNOWN_SECTIONS].sort((a, b) => b.length - a.length);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('BMI_') || value === undefined) continue;
    const rest = name.slice(4).toLowerCase();
    const section = bySpecificity.find((s) => rest.startsWith(`${s}_`) && rest.length > s.length + 1);
    if (!section) continue;
    (sections[section] ??= {})[rest.slice(section.length + 1)] = value.trim();
  }
}

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly sections: Sections) {}

  has(section: string): boolean {
    return section in this.sections;
  }

  /** The first of the given `section.key` aliases that is set (empty counts as unset). */
  str(aliases: string[], opts: { required?: boolean; fallback?: string } = {}): string {
    for (const alias of aliases) {
      const [section, key] = alias.split('.');
      const v = this.sections[section]?.[key];
      if (v !== undefined && v !== '') return v;
    }
    if (opts.required) {
      const [first, ...rest] = aliases;
      this.problems.push(
        `missing option ${fmt(first)}${rest.length ? ` (or its alias ${rest.map(fmt).join(', ')})` : ''}`,
      );
    }
    return opts.fallback ?? '';
  }

  bool(aliases: string[], fallback: boolean): boolean {
    const v = this.str(aliases);
    if (v === '') return fallback;
    if (/^(true|yes|on|1)$/i.test(v)) return true;
    if (/^(false|no|off|0)$/i.test(v)) return false;
    this.problems.push(`${fmt(aliases[0])} must be true or false, got "${v}"`);
    return fallback;
  }

  int(aliases: string[], opts: { required?: boolean; fallback: number; min?: number; max?: number }): number {
    const v = this.str(aliases, { required: opts.required });
    if (v === '') return opts.fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < (opts.min ?? -Infinity) || n > (opts.max ?? Infinity)) {
      const range = opts.min !== undefined && opts.max !== undefined ? ` between ${opts.min} and ${opts.max}` : '';
      this.problems.push(`${fmt(aliases[0])} must be a whole number${range}, got "${v}"`);
      return opts.fallback;
    }
    return n;
  }

  choice<T extends string>(alias: string, accepted: readonly T[], fallback: T): T {
    const v = this.str([alias]).toLowerCase();
    if (v === '') return fallback;
    if ((accepted as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${fmt(alias)} = "${v}" is not one of the accepted values: ${accepted.join(', ')}`);
    return fallback;
  }
}

function fmt(alias: string): string {
  const [section, key] = alias.split('.');
  return `[${section}] ${key}`;
}

export interface LoadConfigOptions {
  /** INI file; default `$BMI_CONFIG`, else /etc/bmi/bmiconfig.cfg */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** INI text to use instead of reading a file (tests) */
  text?: string;
}

/** Reads, merges and validates the configuration; throws one ConfigError that lists every problem. */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const source = options.text !== undefined ? '' : (options.path ?? env.BMI_CONFIG ?? DEFAULT_CONFIG_PATH);
  let text = options.text ?? '';
  if (options.text === undefined) {
    if (!existsSync(source)) throw new ConfigError(source, [`cannot load ${source}: no such file (set BMI_CONFIG)`]);
    try {
      text = readFileSync(source, 'utf8');
    } catch (e) {
      throw new ConfigError(source, [`cannot load ${source}: ${(e as Error).message}`]);
    }
  }
  let sections: Sections;
  try {
    sections = parseIni(text);
  } catch (e) {
    throw new ConfigError(source, [`cannot parse: ${(e as Error).message}`]);
  }
  applyEnvOverrides(sections, env);
  return validate(sections, source);
}

function validate(sections: Sections, source: string): AppConfig {
  const r = new Reader(sections);
  const warnings: string[] = [];
  for (const [name, keys] of Object.entries(sections)) {
    if (!KNOWN_SECTIONS.includes(name)) {
      r.problems.push(`unknown section [${name}]`);
      continue;
    }
    const known = KNOWN_KEYS[name];
    for (const key of Object.keys(keys)) {
      if (known && !known.includes(key)) warnings.push(`unknown key [${name}] ${key} is ignored`);
    }
  }
  const drivers = {
    fs: r.choice('driver.fs', STORAGE_DRIVERS, 'ceph'),
    iscsi: r.choice('driver.iscsi', ISCSI_DRIVERS, 'tgt'),
    netIsolator: r.choice('driver.net_isolator', NET_ISOLATORS, 'hil'),
  };

  const uid = r.str(['bmi.uid'], { required: true });
  if (uid && !UID_PATTERN.test(uid)) {
    r.problems.push(`[bmi] uid "${uid}" must be 1-16 letters, digits, "-" or "_", and must not contain "img"`);
  }
  const snapshot = r.str(['bmi.snapshot'], { fallback: 'snapshot' });
  if (!isSafeName(snapshot)) r.problems.push(`[bmi] snapshot "${snapshot}" is not a valid snapshot name`);
  const adminProject = r.str(['bmi.admin_project'], { fallback: 'bmi_infra' });
  if (!isSafeName(adminProject)) r.problems.push(`[bmi] admin_project "${adminProject}" is not a valid project name`);

  const needCeph = drivers.fs === 'ceph' || drivers.iscsi === 'tgt';
  const cfg: AppConfig = {
    source,
    bmi: { uid, snapshot, service: r.bool(['bmi.service'], false), adminProject },
    db: { path: r.str(['db.path', 'db.url'], { required: true }) },
    http: {
      ip: r.str(['rest_api.ip', 'http.bind_ip'], { fallback: '127.0.0.1' }),
      port: r.int(['rest_api.port', 'http.bind_port'], { fallback: 8000, min: 0, max: 65535 }),
    },
    tftp: {
      pxelinuxPath: dir(r.str(['tftp.pxelinux_path', 'tftp.pxelinux_url'], { required: true })),
      ipxePath: dir(r.str(['tftp.ipxe_path', 'tftp.ipxe_url'], { required: true })),
      ipxeInterface: r.str(['tftp.ipxe_interface'], { fallback: 'net2' }),
      leasesFile: r.str(['tftp.leases_file'], { fallback: '/var/lib/misc/dnsmasq.leases' }),
      ipxeMacPath: dir(r.str(['tftp.ipxe_mac_path'])),
      httpBoot: r.bool(['tftp.http_boot'], false),
      httpBootAllow: r
        .str(['tftp.http_boot_allow'])
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
    iscsi: {
      ip: r.str(['iscsi.ip'], { required: true }),
      port: r.int(['iscsi.port'], { fallback: 3260, min: 1, max: 65535 }),
      lun: r.int(['iscsi.lun'], { fallback: 1, min: 0, max: 255 }),
      tgtControlPort: r.int(['iscsi.tgt_control_port'], { fallback: 0, min: 0, max: 32767 }),
      targetPrefix: r.str(['iscsi.target_prefix']),
      initiatorAcl: r.bool(['iscsi.initiator_acl'], false),
      reconcileSeconds: r.int(['iscsi.reconcile_seconds'], { fallback: 60, min: 0, max: 86400 }),
    },
    fs: {
      id: r.str(['fs.id', 'ceph.id'], { required: needCeph }),
      pool: r.str(['fs.pool', 'ceph.pool'], { required: needCeph }),
      confFile: r.str(['fs.conf_file', 'ceph.conf_file'], { required: needCeph }),
      keyring: r.str(['fs.keyring', 'ceph.keyring']),
      timeoutSeconds: r.int(['fs.timeout_seconds', 'ceph.timeout_seconds'], { fallback: 30, min: 1, max: 3600 }),
      fakeImages: r
        .str(['fs.fake_images'])
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      fakeState: r.str(['fs.fake_state']),
    },
    netIsolator: {
      url: r.str(['net_isolator.url', 'haas.url'], { required: drivers.netIsolator === 'hil' }),
      fakeSeed: r.str(['net_isolator.fake_seed']),
      timeoutMs: r.int(['net_isolator.timeout_ms'], { fallback: 10000, min: 100, max: 600000 }),
      connectTimeoutMs: r.int(['net_isolator.connect_timeout_ms'], { fallback: 3000, min: 50, max: 600000 }),
      retries: r.int(['net_isolator.retries'], { fallback: 2, min: 0, max: 10 }),
      cacheSeconds: r.int(['net_isolator.cache_seconds'], { fallback: 5, min: 0, max: 60 }),
      adminUser: r.str(['net_isolator.admin_user'], { fallback: 'admin' }),
      adminPassword: r.str(['net_isolator.admin_password']),
    },
    logs: {
      path: r.str(['logs.path', 'logs.url']),
      debug: r.bool(['logs.debug'], false),
      verbose: r.bool(['logs.verbose'], false),
    },
    drivers,
    warnings,
  };

  if (!/^[0-9A-Za-z.:-]+$/.test(cfg.iscsi.ip) && cfg.iscsi.ip) {
    r.problems.push(`[iscsi] ip "${cfg.iscsi.ip}" must be an IP address or a host name`);
  }
  if (!/^[a-z0-9.:-]*$/.test(cfg.iscsi.targetPrefix)) {
    r.problems.push(
      `[iscsi] target_prefix "${cfg.iscsi.targetPrefix}" may hold only lower-case letters, digits, ".", ":" and "-" ` +
        '(e.g. iqn.2026-11.org.bmi:)',
    );
  }
  if (drivers.iscsi === 'tgt' && cfg.iscsi.lun === 0) {
    r.problems.push("[iscsi] lun must be 1 or more with iscsi = tgt (tgtd's LUN 0 is its controller)");
  }
  if (drivers.iscsi === 'tgt' && !cfg.iscsi.targetPrefix && uid && !TGT_NAME.test(uid)) {
    r.problems.push(
      `[bmi] uid "${uid}" makes target names tgtd refuses (it allows letters, digits, ".", ":" and "-"); ` +
        'set [iscsi] target_prefix, with which target names are sanitised',
    );
  }
  if (!/^[A-Za-z0-9._-]{1,32}$/.test(cfg.tftp.ipxeInterface)) {
    r.problems.push(`[tftp] ipxe_interface "${cfg.tftp.ipxeInterface}" must be an iPXE interface name such as net0`);
  }
  const { ipxeMacPath } = cfg.tftp;
  if (ipxeMacPath && (ipxeMacPath === cfg.tftp.ipxePath || ipxeMacPath === cfg.tftp.pxelinuxPath)) {
    r.problems.push(
      `[tftp] ipxe_mac_path must be a directory of its own (a node may be named like a MAC), e.g. ${path.join(cfg.tftp.ipxePath || '/var/lib/tftpboot', 'mac')}`,
    );
  }
  if (cfg.tftp.httpBoot && !ipxeMacPath) {
    r.problems.push('[tftp] http_boot serves the per-MAC scripts: set [tftp] ipxe_mac_path too');
  }
  for (const entry of cfg.tftp.httpBootAllow) {
    if (!isCidr(entry)) r.problems.push(`[tftp] http_boot_allow: "${entry}" is not an IP address or CIDR`);
  }
  if (drivers.fs === 'ceph' && cfg.fs.confFile && !existsSync(cfg.fs.confFile)) {
    r.problems.push(`[fs] conf_file ${cfg.fs.confFile} does not exist`);
  }
  if (cfg.fs.pool && !isSafeName(cfg.fs.pool)) r.problems.push(`[fs] pool "${cfg.fs.pool}" is not a valid pool name`);
  for (const img of cfg.fs.fakeImages) {
    if (!isSafeName(img)) r.problems.push(`[fs] fake_images: "${img}" is not a valid image name`);
  }
  if (drivers.netIsolator === 'hil' && cfg.netIsolator.url && !/^https?:\/\/[^\s]+$/.test(cfg.netIsolator.url)) {
    r.problems.push(`[net_isolator] url "${cfg.netIsolator.url}" must be an http:// or https:// URL`);
  }
  if (drivers.netIsolator === 'fake' && cfg.netIsolator.fakeSeed && !existsSync(cfg.netIsolator.fakeSeed)) {
    r.problems.push(`[net_isolator] fake_seed ${cfg.netIsolator.fakeSeed} does not exist`);
  }
  if (r.problems.length) throw new ConfigError(source, r.problems);
  return cfg;
}

/** Directory paths work with or without their trailing slash (the original needed one). */
function dir(p: string): string {
  return p ? path.resolve(p) : p;
}
