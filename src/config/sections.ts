import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Matches, ValidateIf } from 'class-validator';
import { isCidr } from '../common/net';
import { isSafeName, TGT_NAME, UID_PATTERN } from '../common/validation/names';
import { dbLocationProblem } from '../database/db-location';
import { Ini, Rule } from './config-schema';

/**
 * The INI sections BMI reads, one class each: key names follow the original BMI (reference §1.3), aliases
 * the names older configs used; the initial values are the defaults.
 */

export const STORAGE_DRIVERS = ['ceph', 'fake'] as const;
export const ISCSI_DRIVERS = ['tgt', 'fake'] as const;
export const NET_ISOLATORS = ['hil', 'standalone', 'fake'] as const;
export const POWER_DRIVERS = ['ipmi', 'fake'] as const;
export type StorageDriverName = (typeof STORAGE_DRIVERS)[number];
export type IscsiDriverName = (typeof ISCSI_DRIVERS)[number];
export type NetIsolatorName = (typeof NET_ISOLATORS)[number];

/** [driver]: which implementation each port gets. Read first: other sections' rules depend on it. */
export class DriverSection {
  @Ini('driver.fs', { kind: 'choice', values: STORAGE_DRIVERS })
  fs: StorageDriverName = 'ceph';
  @Ini('driver.iscsi', { kind: 'choice', values: ISCSI_DRIVERS })
  iscsi: IscsiDriverName = 'tgt';
  @Ini('driver.net_isolator', { kind: 'choice', values: NET_ISOLATORS })
  netIsolator: NetIsolatorName = 'hil';
  /** how BMI switches nodes on and off when no HIL does it (standalone mode; the fake isolator's are fake) */
  @Ini('driver.power', { kind: 'choice', values: POWER_DRIVERS })
  power: (typeof POWER_DRIVERS)[number] = 'ipmi';
}

const needsCeph = (d: DriverSection) => d.fs === 'ceph' || d.iscsi === 'tgt';
/** A name BMI may use in RBD names and paths; empty passes (a required key reports its absence itself). */
const safeName = (what: string, key: string) =>
  Rule<string>(
    (v) => !v || isSafeName(v),
    (v) => `${key} "${v}" is not a valid ${what} name`,
  );

export class BmiSection {
  /** prefix of every RBD image BMI creates: `<uid>img<id>` */
  @Ini('bmi.uid', { required: true })
  @ValidateIf((s: BmiSection) => s.uid !== '')
  @Matches(UID_PATTERN, {
    message: (a) =>
      `[bmi] uid "${String(a.value)}" must be 1-16 letters, digits, "-" or "_", and must not contain "img"`,
  })
  uid = '';
  /** the protected snapshot every cloneable BMI image carries */
  @Ini('bmi.snapshot')
  @Rule<string>(isSafeName, (v) => `[bmi] snapshot "${v}" is not a valid snapshot name`)
  snapshot = 'snapshot';
  /** accepted for compatibility; targets are always re-created at startup */
  @Ini('bmi.service', { kind: 'bool' })
  service = false;
  /** project whose members are BMI admins */
  @Ini('bmi.admin_project')
  @safeName('project', '[bmi] admin_project')
  adminProject = 'bmi_infra';
}

export const LOCK_PLACES = ['auto', 'database', 'process'] as const;

export class DbSection {
  /** an SQLite file (a path, `sqlite:///path`, `:memory:`) or a PostgreSQL URL (`postgres://user:pw@host/db`) */
  @Ini('db.path', { aliases: ['db.url'], required: true })
  @Rule<string>((v) => dbLocationProblem(v) === null, (v) => dbLocationProblem(v) ?? '')
  path = '';
  /** PostgreSQL: the most connections this instance opens for its queries */
  @Ini('db.pool', { kind: 'int', min: 1, max: 1000 })
  pool = 10;
  /**
   * How long an instance's operations, locks and leases stay its own without a renewal (renewed every third of
   * it): after a crash, another instance takes its operations over within about this time.
   */
  @Ini('db.lease_seconds', { kind: 'int', min: 3, max: 3600 })
  leaseSeconds = 60;
  /**
   * where the locks on images, nodes and projects live: `database` (rows every instance sees; an operation keeps
   * its locks until it is recovered), `process` (this process only: one instance per database), or `auto`:
   * database on PostgreSQL, process on SQLite, which one process uses (two commits less per operation)
   */
  @Ini('db.locks', { kind: 'choice', values: LOCK_PLACES })
  locks: (typeof LOCK_PLACES)[number] = 'auto';
}

/** A list whose every entry must pass `test`: one problem per bad entry. */
const eachEntry = (test: (entry: string) => boolean, problem: (entry: string) => string) =>
  Rule<string[]>(
    (v) => v.every(test),
    (v) =>
      v
        .filter((e) => !test(e))
        .map(problem)
        .join('\n'),
  );
export class HttpSection {
  @Ini('rest_api.ip', { aliases: ['http.bind_ip'] })
  ip = '127.0.0.1';
  @Ini('rest_api.port', { aliases: ['http.bind_port'], kind: 'int', min: 0, max: 65535 })
  port = 8000;
  /**
   * Seconds a client has to send a whole request (headers and body); a slower one is cut off (408), so that slow
   * clients cannot hold connections open. The answer itself may take longer: long work runs as an operation.
   */
  @Ini('rest_api.request_timeout_seconds', { kind: 'int', min: 1, max: 3600 })
  requestTimeoutSeconds = 30;
  /**
   * At SIGTERM or SIGINT, BMI stops taking requests and waits this many seconds at most for the operations it
   * runs to end; what still runs then is left to the journal (recovered at the next start, or by another
   * instance).
   */
  @Ini('rest_api.shutdown_grace_seconds', { kind: 'int', min: 0, max: 3600 })
  shutdownGraceSeconds = 30;
  /** client addresses (IPs or CIDRs) GET /metrics answers; empty: any */
  @Ini('rest_api.metrics_allow', { kind: 'list' })
  @eachEntry(isCidr, (e) => `[rest_api] metrics_allow: "${e}" is not an IP address or CIDR`)
  metricsAllow: string[] = [];
}

/** Directory paths work with or without their trailing slash (the original needed one). */
const dir = (p: string) => path.resolve(p);

export class TftpSection {
  @Ini('tftp.pxelinux_path', { aliases: ['tftp.pxelinux_url'], required: true, map: dir })
  pxelinuxPath = '';
  @Ini('tftp.ipxe_path', { aliases: ['tftp.ipxe_url'], required: true, map: dir })
  ipxePath = '';
  /** the iPXE network interface the node DHCPs on (the original hard-coded net2) */
  @Ini('tftp.ipxe_interface')
  @Matches(/^[A-Za-z0-9._-]{1,32}$/, {
    message: (a) => `[tftp] ipxe_interface "${String(a.value)}" must be an iPXE interface name such as net0`,
  })
  ipxeInterface = 'net2';
  @Ini('tftp.leases_file')
  leasesFile = '/var/lib/misc/dnsmasq.leases';
  /**
   * directory of the per-MAC iPXE scripts (`<aa-bb-cc-dd-ee-ff>.ipxe`) for clients that are iPXE already
   * (UEFI through snponly.efi, iPXE ROMs); '' (default): none are written
   */
  @Ini('tftp.ipxe_mac_path', { map: dir })
  @Rule<string>(
    (v, s) => !v || (v !== s.ipxePath && v !== s.pxelinuxPath),
    (_, s) =>
      '[tftp] ipxe_mac_path must be a directory of its own (a node may be named like a MAC), e.g. ' +
      path.join(String(s.ipxePath || '/var/lib/tftpboot'), 'mac'),
  )
  ipxeMacPath = '';
  /** serve the per-MAC scripts at GET /boot/ipxe?mac=… (unauthenticated: the nodes cannot log in) */
  @Ini('tftp.http_boot', { kind: 'bool' })
  @Rule<boolean>(
    (v, s) => !v || s.ipxeMacPath !== '',
    () => '[tftp] http_boot serves the per-MAC scripts: set [tftp] ipxe_mac_path too',
  )
  httpBoot = false;
  /** client addresses (IPs or CIDRs) GET /boot/ipxe answers; empty: any */
  @Ini('tftp.http_boot_allow', { kind: 'list' })
  @eachEntry(isCidr, (e) => `[tftp] http_boot_allow: "${e}" is not an IP address or CIDR`)
  httpBootAllow: string[] = [];
  /** requests GET /boot/ipxe answers per client address and minute; more are 429 for the rest of the minute */
  @Ini('tftp.http_boot_rate', { kind: 'int', min: 1, max: 100000 })
  httpBootRate = 30;
}

export class IscsiSection {
  @Ini('iscsi.ip', { required: true })
  @Matches(/^[0-9A-Za-z.:-]*$/, {
    message: (a) => `[iscsi] ip "${String(a.value)}" must be an IP address or a host name`,
  })
  ip = '';
  @Ini('iscsi.port', { kind: 'int', min: 1, max: 65535 })
  port = 3260;
  @Ini('iscsi.lun', { kind: 'int', min: 0, max: 255 })
  lun = 1;
  /** tgtd's control port (`tgtadm -C`); 0 is tgtadm's default socket */
  @Ini('iscsi.tgt_control_port', { kind: 'int', min: 0, max: 32767 })
  tgtControlPort = 0;
  /**
   * other BMI instances manage targets in the same tgtd (several instances on one host): the targets are then
   * listed afresh before one is deleted, since another instance may have made it again at another tid
   */
  @Ini('iscsi.tgt_shared', { kind: 'bool' })
  tgtShared = false;
  /** prepended to every target name, e.g. `iqn.2026-11.org.bmi:`; empty: the original's bare Ceph names */
  @Ini('iscsi.target_prefix')
  @Matches(/^[a-z0-9.:-]*$/, {
    message: (a) =>
      `[iscsi] target_prefix "${String(a.value)}" may hold only lower-case letters, digits, ".", ":" and "-" ` +
      '(e.g. iqn.2026-11.org.bmi:)',
  })
  targetPrefix = '';
  /** each target lets in only the initiator name IscsiService.initiatorName gives (off: any initiator) */
  @Ini('iscsi.initiator_acl', { kind: 'bool' })
  initiatorAcl = false;
  /**
   * Every target gets CHAP credentials of its own and lets in one initiator name of its own, both random, kept
   * in the database and written into the node's boot script (initiator_acl is then moot). Off: the original's
   * open targets (and initiator_acl as set).
   */
  @Ini('iscsi.chap', { kind: 'bool' })
  chap = true;
  /** how often the targets are checked and missing ones re-created (tgt driver); 0: only at start */
  @Ini('iscsi.reconcile_seconds', { kind: 'int', min: 0, max: 86400 })
  reconcileSeconds = 60;

  /** tgtd's rules on LUNs and target names. */
  check(config: { drivers: DriverSection; bmi: BmiSection }): string[] {
    if (config.drivers.iscsi !== 'tgt') return [];
    const problems: string[] = [];
    if (this.lun === 0)
      problems.push("[iscsi] lun must be 1 or more with iscsi = tgt (tgtd's LUN 0 is its controller)");
    const { uid } = config.bmi;
    if (!this.targetPrefix && uid && !TGT_NAME.test(uid)) {
      problems.push(
        `[bmi] uid "${uid}" makes target names tgtd refuses (it allows letters, digits, ".", ":" and "-"); ` +
          'set [iscsi] target_prefix, with which target names are sanitised',
      );
    }
    return problems;
  }
}

export class FsSection {
  @Ini('fs.id', { aliases: ['ceph.id'], required: needsCeph })
  id = '';
  @Ini('fs.pool', { aliases: ['ceph.pool'], required: needsCeph })
  @safeName('pool', '[fs] pool')
  pool = '';
  @Ini('fs.conf_file', { aliases: ['ceph.conf_file'], required: needsCeph })
  confFile = '';
  @Ini('fs.keyring', { aliases: ['ceph.keyring'] })
  keyring = '';
  @Ini('fs.timeout_seconds', { aliases: ['ceph.timeout_seconds'], kind: 'int', min: 1, max: 3600 })
  timeoutSeconds = 30;
  /** librbd calls in flight at once: the rest of the process's worker threads stay for the DB and hashing */
  @Ini('fs.max_calls', { kind: 'int', min: 1, max: 256 })
  maxCalls = 12;
  /** after Ceph did not answer, calls fail at once (503) for this long; 0 never */
  @Ini('fs.down_seconds', { kind: 'int', min: 0, max: 600 })
  downSeconds = 10;
  @Ini('fs.fake_images', { kind: 'list' })
  @eachEntry(isSafeName, (e) => `[fs] fake_images: "${e}" is not a valid image name`)
  fakeImages: string[] = [];
  /** the in-memory pool's state file (fs = fake); empty: the pool lives and dies with the process */
  @Ini('fs.fake_state')
  fakeState = '';

  check(config: { drivers: DriverSection }): string[] {
    if (config.drivers.fs === 'ceph' && this.confFile && !existsSync(this.confFile)) {
      return [`[fs] conf_file ${this.confFile} does not exist`];
    }
    return [];
  }
}

export class NetIsolatorSection {
  @Ini('net_isolator.url', { aliases: ['haas.url'], required: (d: DriverSection) => d.netIsolator === 'hil' })
  url = '';
  @Ini('net_isolator.fake_seed')
  fakeSeed = '';
  /** total time for one HIL request */
  @Ini('net_isolator.timeout_ms', { kind: 'int', min: 100, max: 600000 })
  timeoutMs = 10000;
  /** time to open the TCP connection to HIL */
  @Ini('net_isolator.connect_timeout_ms', { kind: 'int', min: 50, max: 600000 })
  connectTimeoutMs = 3000;
  /** extra attempts of an idempotent GET when HIL cannot be reached */
  @Ini('net_isolator.retries', { kind: 'int', min: 0, max: 10 })
  retries = 2;
  /** how long an access decision (credentials + project) is reused; 0 turns the cache off */
  @Ini('net_isolator.cache_seconds', { kind: 'int', min: 0, max: 60 })
  cacheSeconds = 5;
  /** standalone mode: the admin user created at first start, and its password (required then) */
  @Ini('net_isolator.admin_user')
  adminUser = 'admin';
  @Ini('net_isolator.admin_password')
  adminPassword = '';

  check(config: { drivers: DriverSection }): string[] {
    const mode = config.drivers.netIsolator;
    if (mode === 'hil' && this.url && !/^https?:\/\/[^\s]+$/.test(this.url)) {
      return [`[net_isolator] url "${this.url}" must be an http:// or https:// URL`];
    }
    if (mode === 'fake' && this.fakeSeed && !existsSync(this.fakeSeed)) {
      return [`[net_isolator] fake_seed ${this.fakeSeed} does not exist`];
    }
    return [];
  }
}

/** [auth]: how refused logins are throttled, and the cost of standalone mode's password hashes. */
export class AuthSection {
  /** refused logins of one user name from one address within the window; the next refusal blocks that pair */
  @Ini('auth.max_failures_per_user_and_address', { kind: 'int', min: 1, max: 100000 })
  maxFailuresPerUserAndAddress = 5;
  /** refused logins from one client address, any user, within the window; the next refusal blocks the address */
  @Ini('auth.max_failures_per_address', { kind: 'int', min: 1, max: 100000 })
  maxFailuresPerAddress = 20;
  /** refused logins of one user name, from any address, within the window; the next refusal blocks the name */
  @Ini('auth.max_failures_per_user', { kind: 'int', min: 1, max: 100000 })
  maxFailuresPerUser = 50;
  /** the window refused logins are counted in, in seconds */
  @Ini('auth.failure_window_seconds', { kind: 'int', min: 1, max: 86400 })
  failureWindowSeconds = 600;
  /** how long a blocked user name or address is refused (429), in seconds */
  @Ini('auth.block_seconds', { kind: 'int', min: 1, max: 86400 })
  blockSeconds = 300;
  /**
   * Standalone mode: log2 of scrypt's N for new password hashes (r = 8, p = 1). 17 (128 MiB, a few hundred ms)
   * follows today's guidance; an older, cheaper hash is replaced at its user's next successful login.
   */
  @Ini('auth.scrypt_cost', { kind: 'int', min: 10, max: 20 })
  scryptCost = 17;
}

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/** [logs]: JSON lines (one access line per request) to standard output or to a file. */
export class LogsSection {
  /** a file, or a directory (bmi.log in it), reopened on SIGHUP; empty: standard output */
  @Ini('logs.path', { aliases: ['logs.url'] })
  path = '';
  /** debug lines too */
  @Ini('logs.debug', { kind: 'bool' })
  debug = false;
  /** debug and trace lines (every driver call) */
  @Ini('logs.verbose', { kind: 'bool' })
  verbose = false;
  /** json, pretty (coloured text for a person), or auto: pretty on a terminal, JSON otherwise */
  @Ini('logs.format', { kind: 'choice', values: LOG_FORMATS })
  format: (typeof LOG_FORMATS)[number] = 'auto';
  /** days an audit record is kept (older ones are deleted, at most once an hour) */
  @Ini('logs.audit_days', { kind: 'int', min: 1, max: 36500 })
  auditDays = 365;
}

export const IPMI_INTERFACES = ['lanplus', 'lan'] as const;

/** [power]: the BMCs BMI talks to with ipmitool (`[driver] power = ipmi`, standalone mode). */
export class PowerSection {
  /** ipmitool's interface: lanplus (IPMI 2.0) or lan (IPMI 1.5) */
  @Ini('power.ipmi_interface', { kind: 'choice', values: IPMI_INTERFACES })
  ipmiInterface: (typeof IPMI_INTERFACES)[number] = 'lanplus';
  /** the BMC account of the nodes whose record names none */
  @Ini('power.ipmi_user')
  ipmiUser = '';
  @Ini('power.ipmi_password')
  ipmiPassword = '';
  /** the time one ipmitool call may take */
  @Ini('power.timeout_seconds', { kind: 'int', min: 1, max: 600 })
  timeoutSeconds = 30;
}

/** [upload]: images uploaded through the API (`bmi image upload`), and each project's share of the pool. */
export class UploadSection {
  /** the largest file one upload may be, in bytes (64 GiB) */
  @Ini('upload.max_bytes', { kind: 'int', min: 1, max: Number.MAX_SAFE_INTEGER })
  maxBytes = 64 * 1024 ** 3;
  /** where qcow2 files wait for their conversion (raw data goes straight to Ceph); empty: the system's temp dir */
  @Ini('upload.staging_dir')
  stagingDir = '';
  /** an upload that receives nothing for this long is abandoned, and what it made removed */
  @Ini('upload.idle_seconds', { kind: 'int', min: 10, max: 86400 })
  idleSeconds = 600;
  /** the qemu-img that converts qcow2 files (with its rbd driver: Debian's qemu-block-extra) */
  @Ini('upload.qemu_img')
  qemuImg = 'qemu-img';
  /** golden images and snapshots a project may hold; 0: no limit */
  @Ini('upload.images_per_project', { kind: 'int', min: 0, max: 1000000 })
  imagesPerProject = 0;
  /** bytes of golden images and snapshots (their virtual sizes) a project may hold; 0: no limit */
  @Ini('upload.bytes_per_project', { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER })
  bytesPerProject = 0;
}
