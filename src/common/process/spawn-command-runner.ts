import { Logger } from '@nestjs/common';
import { CommandFailedError, CommandResult, CommandRunner, formatArgv, redactArgv, RunOptions } from './command-runner';
import { spawnCommand, SpawnSpec } from './spawn-command';

export interface SpawnCommandRunnerOptions {
  /** default time a command may take (default 30 s) */
  timeoutMs?: number;
  /** stdout or stderr beyond this many bytes is dropped (default 16 MiB) */
  maxOutputBytes?: number;
}

/**
 * Runs commands with child_process.spawn (spawnCommand): an argv array, no shell, LC_ALL=C, a timeout after
 * which the process is killed (SIGKILL), stdin closed unless input is given. Each command is logged at debug
 * level with its secrets redacted, with its exit code and duration. Subclasses choose where the command is
 * started (`start`): here, in this process.
 */
export class SpawnCommandRunner extends CommandRunner {
  protected readonly logger = new Logger('CommandRunner');
  private readonly timeoutMs: number;
  private readonly maxOutputBytes: number;

  constructor(options: SpawnCommandRunnerOptions = {}) {
    super();
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxOutputBytes = options.maxOutputBytes ?? 16 << 20;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    if (argv.length === 0 || argv[0] === '') throw new Error('CommandRunner.run: empty argv');
    const shown = redactArgv(argv, options.secrets);
    const started = process.hrtime.bigint();
    this.logger.debug(`$ ${formatArgv(shown)}`);
    const { timedOut, ...result } = await this.start(argv, {
      env: { ...process.env, ...options.env },
      input: options.input,
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      maxOutputBytes: this.maxOutputBytes,
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.logger.debug(`${shown[0]}: exit ${result.exitCode}${timedOut ? ' (timed out)' : ''} in ${ms.toFixed(1)} ms`);
    if (result.exitCode !== 0 && (options.check ?? true)) throw new CommandFailedError(shown, result, timedOut);
    return result;
  }

  protected start(argv: readonly string[], spec: SpawnSpec): Promise<CommandResult & { timedOut: boolean }> {
    return spawnCommand(argv, spec);
  }
}
