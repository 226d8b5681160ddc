import { existsSync, readFileSync } from 'node:fs';
import { declaredKeys, readSection } from './config-schema';
import { overrideFromEnv, parseIni, Sections } from './ini-compat';
import {
  AuthSection,
  BmiSection,
  DbSection,
  DriverSection,
  FsSection,
  HttpSection,
  IscsiSection,
  LogsSection,
  NetIsolatorSection,
  PowerSection,
  TftpSection,
  UploadSection,
} from './sections';

export { parseIni, toIniSyntax } from './ini-compat';
export {
  ISCSI_DRIVERS,
  NET_ISOLATORS,
  STORAGE_DRIVERS,
  type IscsiDriverName,
  type NetIsolatorName,
  type StorageDriverName,
} from './sections';

export const DEFAULT_CONFIG_PATH = '/etc/bmi/bmiconfig.cfg';

/**
 * The validated, typed configuration: one object per INI section (config/sections.ts). Built once at boot
 * from the INI file and the environment; nothing else reads either.
 */
export class AppConfig {
  /** the file the config came from (or '' when built from the environment only) */
  source: string;
  bmi: BmiSection;
  db: DbSection;
  http: HttpSection;
  tftp: TftpSection;
  iscsi: IscsiSection;
  fs: FsSection;
  netIsolator: NetIsolatorSection;
  logs: LogsSection;
  auth: AuthSection;
  power: PowerSection;
  upload: UploadSection;
  drivers: DriverSection;
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

/** Sections that are BMI's but whose keys it does not read (the original's RPC and test settings). */
const OPAQUE_SECTIONS = ['rpc', 'filesystem', 'tests'];
/** Keys of the original that are accepted and unused. */
const UNUSED_KEYS = ['iscsi.password'];

const SECTION_CLASSES = [
  DriverSection,
  BmiSection,
  DbSection,
  HttpSection,
  TftpSection,
  IscsiSection,
  FsSection,
  NetIsolatorSection,
  LogsSection,
  AuthSection,
  PowerSection,
  UploadSection,
];

/** Every `section.key` BMI reads, from the section classes. */
const KNOWN_KEYS = new Set([...SECTION_CLASSES.flatMap((c) => declaredKeys(c)), ...UNUSED_KEYS]);
/** Sections a config may contain. Unknown sections are reported, so that a typo does not go unnoticed. */
const KNOWN_SECTIONS = [...new Set([...[...KNOWN_KEYS].map((k) => k.split('.')[0]), ...OPAQUE_SECTIONS])];

/** `BMI_<SECTION>_<KEY>=value` sets [section] key, for the sections BMI knows. */
export function applyEnvOverrides(sections: Sections, env: NodeJS.ProcessEnv): void {
  overrideFromEnv(sections, env, KNOWN_SECTIONS);
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
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [name, keys] of Object.entries(sections)) {
    if (!KNOWN_SECTIONS.includes(name)) {
      problems.push(`unknown section [${name}]`);
      continue;
    }
    if (OPAQUE_SECTIONS.includes(name)) continue;
    for (const key of Object.keys(keys)) {
      if (!KNOWN_KEYS.has(`${name}.${key}`)) warnings.push(`unknown key [${name}] ${key} is ignored`);
    }
  }
  const drivers = readSection(DriverSection, sections, undefined, problems);
  const read = <T extends object>(Section: new () => T) => readSection(Section, sections, drivers, problems);
  const cfg: AppConfig = {
    source,
    drivers,
    bmi: read(BmiSection),
    db: read(DbSection),
    http: read(HttpSection),
    tftp: read(TftpSection),
    iscsi: read(IscsiSection),
    fs: read(FsSection),
    netIsolator: read(NetIsolatorSection),
    logs: read(LogsSection),
    auth: read(AuthSection),
    power: read(PowerSection),
    upload: read(UploadSection),
    warnings,
  };
  problems.push(...cfg.iscsi.check(cfg), ...cfg.fs.check(cfg), ...cfg.netIsolator.check(cfg));
  if (problems.length) throw new ConfigError(source, problems);
  return cfg;
}
