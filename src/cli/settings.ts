import type { Credentials } from '../common/auth/caller';
import { ConfigError, loadConfig } from '../config/app-config';
import { CliError, EXIT, UsageError } from './errors';

export type Env = Record<string, string | undefined>;

export interface ServerSettings {
  /** base URL of the BMI server, always ending with "/" */
  url: string;
  /** the project sent with admin-wide commands (project ls/create/rm, db ls) */
  adminProject: string;
}

export type { Credentials };

const DEFAULT_ADMIN_PROJECT = 'bmi_infra';

/**
 * Where the server is. A URL given with --url or BMI_URL wins and then no config file is read; otherwise the
 * server's own config ($BMI_CONFIG or /etc/bmi/bmiconfig.cfg) gives [rest_api] ip and port.
 * BMI_ADMIN_PROJECT, when set, overrides the admin project name.
 */
export function resolveServer(env: Env, urlOption?: string): ServerSettings {
  const override = urlOption || env.BMI_URL;
  if (override) {
    return { url: checkUrl(override), adminProject: env.BMI_ADMIN_PROJECT || DEFAULT_ADMIN_PROJECT };
  }
  let config;
  try {
    config = loadConfig({ env });
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new CliError(`${e.message}\n(or give the server's address with --url or BMI_URL)`, EXIT.USAGE);
    }
    throw e;
  }
  return {
    url: `http://${connectHost(config.http.ip)}:${config.http.port}/`,
    adminProject: env.BMI_ADMIN_PROJECT || config.bmi.adminProject,
  };
}

/** The address to connect to when the server binds `ip`: a wildcard bind means this host. */
export function connectHost(ip: string): string {
  if (ip === '' || ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::' || ip === '[::]') return '[::1]';
  if (ip.includes(':') && !ip.startsWith('[')) return `[${ip}]`;
  return ip;
}

function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid server URL "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid server URL "${text}": use http:// or https://`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.toString();
}

/** The caller's HIL credentials, required as by the original CLI. */
export function resolveCredentials(env: Env): Credentials {
  for (const name of ['HIL_USERNAME', 'HIL_PASSWORD']) {
    if (!env[name]) throw new CliError(`${name} Variable Not Set`, EXIT.REFUSED);
  }
  return { username: env.HIL_USERNAME as string, password: env.HIL_PASSWORD as string };
}
