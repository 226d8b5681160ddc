import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { Logger } from '@nestjs/common';
import {
  CommandFailedError,
  CommandResult,
  CommandRunner,
  EXIT_NOT_STARTED,
  EXIT_TIMED_OUT,
  formatArgv,
  redactArgv,
  RunOptions,
} from './command-runner';

export interface SpawnCommandRunnerOptions {
  /** default time a command may take (default 30 s) */
  timeoutMs?: number;
  /** stdout or stderr beyond this many bytes is dropped (default 16 MiB) */
  maxOutputBytes?: number;
}

/**
 * Runs commands with child_process.spawn: an argv array, no shell, LC_ALL=C, a timeout after which the process
 * is killed (SIGKILL), stdin closed unless input is given. Each command is logged at debug level with its
 * secrets redacted, with its exit code and duration.
 */
export class SpawnCommandRunner extends CommandRunner {
  private readonly logger = new Logger('CommandRunner');
  private readonly timeoutMs: number;
  private readonly maxOutputBytes: number;

  constructor(options: SpawnCommandRunnerOptions = {}) {
    super();
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxOutputBytes = options.maxOutputBytes ?? 16 << 20;
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    if (argv.length === 0 || argv[0] === '') return Promise.reject(new Error('CommandRunner.run: empty argv'));
    const shown = redactArgv(argv, options.secrets);
    const started = process.hrtime.bigint();
    this.logger.debug(`$ ${formatArgv(shown)}`);
    return new Promise<CommandResult>((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {
        shell: false,
        env: { ...process.env, ...options.env, LC_ALL: 'C' },
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const out = new Collector(this.maxOutputBytes);
      const err = new Collector(this.maxOutputBytes);
      child.stdout?.on('data', (d: Buffer) => out.add(d));
      child.stderr?.on('data', (d: Buffer) => err.add(d));
      if (options.input !== undefined) {
        child.stdin?.on('error', () => undefined); // a command that exits without reading its input
        child.stdin?.end(options.input);
      }
      let timedOut = false;
      let spawnError: Error | null = null;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs ?? this.timeoutMs);
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
        const result: CommandResult = {
          exitCode,
          stdout: out.text(),
          stderr: spawnError ? `${argv[0]}: ${spawnError.message}` : err.text(),
        };
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        this.logger.debug(`${shown[0]}: exit ${exitCode}${timedOut ? ' (timed out)' : ''} in ${ms.toFixed(1)} ms`);
        if (exitCode !== 0 && (options.check ?? true)) reject(new CommandFailedError(shown, result, timedOut));
        else resolve(result);
      });
    });
  }
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
