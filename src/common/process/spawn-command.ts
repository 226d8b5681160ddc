import { ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { CommandResult, EXIT_NOT_STARTED, EXIT_TIMED_OUT } from './command-runner';

/** What a command is started with: its whole environment (LC_ALL is set to C on top), input, time limit. */
export interface SpawnSpec {
  env: Record<string, string | undefined>;
  input?: string;
  timeoutMs: number;
  /** stdout or stderr beyond this many bytes is dropped */
  maxOutputBytes: number;
}

/**
 * Starts one command with child_process.spawn: argv, no shell, LC_ALL=C, stdin closed unless input is given,
 * SIGKILL after the time limit. Resolves with the exit code by the shell's conventions (127 not started, 124
 * timed out, 128 + n killed by signal n) and both outputs; never rejects.
 */
/** The commands running now (their processes), for a launcher that must stop them when BMI goes away. */
export const runningCommands = new Set<ChildProcess>();

export function spawnCommand(argv: readonly string[], spec: SpawnSpec): Promise<CommandResult & { timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      shell: false,
      env: { ...spec.env, LC_ALL: 'C' },
      stdio: [spec.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    runningCommands.add(child);
    child.once('close', () => runningCommands.delete(child));
    const out = new Collector(spec.maxOutputBytes);
    const err = new Collector(spec.maxOutputBytes);
    child.stdout?.on('data', (d: Buffer) => out.add(d));
    child.stderr?.on('data', (d: Buffer) => err.add(d));
    if (spec.input !== undefined) {
      child.stdin?.on('error', () => undefined); // a command that exits without reading its input
      child.stdin?.end(spec.input);
    }
    let timedOut = false;
    let spawnError: Error | null = null;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, spec.timeoutMs);
    child.on('error', (e) => {
      // not started (ENOENT, EACCES): 'close' follows
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exitCode = spawnError
        ? EXIT_NOT_STARTED
        : timedOut
          ? EXIT_TIMED_OUT
          : (code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      resolve({
        exitCode,
        stdout: out.text(),
        stderr: spawnError ? `${argv[0]}: ${(spawnError as Error).message}` : err.text(),
        timedOut,
      });
    });
  });
}

class Collector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}

  add(chunk: Buffer): void {
    if (this.size >= this.max) return;
    const part = chunk.subarray(0, this.max - this.size);
    this.chunks.push(part);
    this.size += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
