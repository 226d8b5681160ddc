import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../config/app-config';
import { CliError, EXIT, UsageError } from './errors';

export type Env = Record<string, string | undefined>;

/** Asks for a password on the terminal without echoing it; undefined when there is no terminal to ask on. */
export type PasswordPrompt = (question: string) => Promise<string | undefined>;

/** What the CLI needs to talk to BMI: where it is and who is asking. */
export interface ClientSettings {
  url: string;
  username: string;
  password: string;
}

/** The client's own settings file: `$BMI_CLIENT_CONFIG`, else `$XDG_CONFIG_HOME/bmi/config`, else ~/.config/bmi/config. */
export function clientConfigPath(env: Env): string {
  if (env.BMI_CLIENT_CONFIG) return env.BMI_CLIENT_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'bmi', 'config');
}

interface ClientFile {
  url?: string;
  username?: string;
  password?: string;
}

/**
 * Reads the client's settings file (`url`, `username`, `password`, one `key = value` per line, `#` or `;`
 * starting a comment line), if there is one. Values are taken as they are, up to the end of the line (a
 * password may hold `#`, `;` or `\\`). A file holding a password must be readable by its owner only, as ssh
 * asks of its keys.
 */
export function readClientConfig(file: string): ClientFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new UsageError(`${file}: expected "key = value", found "${trimmed.slice(0, 40)}"`);
    values.set(trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim());
  }
  const pick = (key: string) => values.get(key) || undefined;
  const found: ClientFile = { url: pick('url'), username: pick('username'), password: pick('password') };
  if (found.password !== undefined && (statSync(file).mode & 0o077) !== 0) {
    throw new UsageError(`${file} holds a password and others can read it: chmod 600 ${file}`);
  }
  return found;
}

/**
 * Where BMI is, in this order: --url, BMI_URL, `url` of the client's settings file, and on the BMI host itself
 * the server's config ($BMI_CONFIG or /etc/bmi/bmiconfig.cfg: [rest_api] ip and port).
 */
export function resolveUrl(env: Env, urlOption: string | undefined, file: ClientFile, fileName: string): string {
  const given = urlOption || env.BMI_URL || file.url;
  if (given) return checkUrl(given);
  let config;
  try {
    config = loadConfig({ env });
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new CliError(
        `Error: no BMI URL: give it with --url, BMI_URL or "url = …" in ${fileName}\n(${e.message})`,
        EXIT.USAGE,
      );
    }
    throw e;
  }
  return `http://${connectHost(config.http.ip)}:${config.http.port}`;
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
  return url.toString().replace(/\/+$/, '');
}

/**
 * Who is asking: BMI_USERNAME / BMI_PASSWORD, else the original's HIL_USERNAME / HIL_PASSWORD, else the
 * client's settings file (its password only for its own user); a password found nowhere is asked for on the
 * terminal.
 */
export async function resolveCredentials(
  env: Env,
  file: ClientFile,
  fileName: string,
  prompt: PasswordPrompt,
): Promise<{ username: string; password: string }> {
  const username = env.BMI_USERNAME || env.HIL_USERNAME || file.username;
  if (!username) {
    throw new CliError(`Error: no user name: set BMI_USERNAME, or "username = …" in ${fileName}`, EXIT.USAGE);
  }
  // the file's password is its user's: never sent as another user's, set in the environment
  const filePassword = file.username === username ? file.password : undefined;
  const password = env.BMI_PASSWORD || env.HIL_PASSWORD || filePassword || (await prompt(`Password for ${username}: `));
  if (!password) {
    throw new CliError(`Error: no password: set BMI_PASSWORD, or run on a terminal to be asked for it`, EXIT.USAGE);
  }
  return { username, password };
}

/** Asks on the terminal (stdin and stderr both TTYs), echoing nothing; undefined without a terminal. */
export const terminalPrompt: PasswordPrompt = (question) => {
  const stdin = process.stdin;
  if (!stdin.isTTY || !process.stderr.isTTY) return Promise.resolve(undefined);
  process.stderr.write(question);
  return new Promise((resolve) => {
    let typed = '';
    const done = (value: string | undefined) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(typed);
        if (ch === '\u0003' || ch === '\u0004') return done(undefined); // Ctrl-C, Ctrl-D
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
};
