import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

/** The built server (npm test builds before running jest). */
export const SERVER_MAIN = path.resolve(__dirname, '../../dist/main.js');
const ROOT = path.resolve(__dirname, '../..');

/** A TCP port nothing listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  proc: ChildProcess;
  /** everything it printed so far, stdout and stderr */
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * `node dist/main.js` with only PATH and `env` in its environment, in `cwd` (default: the checkout). With
 * `logFile` (its [logs] path), what it logged there counts as its output too.
 */
export function startServer(env: NodeJS.ProcessEnv, cwd = ROOT, logFile?: string): ServerProcess {
  const proc = spawn(process.execPath, [SERVER_MAIN], { env: { PATH: process.env.PATH, ...env }, cwd });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const logged = () => (logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return { proc, output: () => out + logged(), exited };
}

/** Waits until the server prints `text`; fails with its output when it exits or takes longer than `ms`. */
export async function waitFor(p: ServerProcess, text: string, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!p.output().includes(text)) {
    if (Date.now() > deadline || p.proc.exitCode !== null) {
      throw new Error(`server did not print "${text}"; output:\n${p.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
