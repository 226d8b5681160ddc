import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { CommandResult, EXIT_NOT_STARTED } from './command-runner';
import type { LaunchRequest } from './command-launcher';
import { SpawnSpec } from './spawn-command';
import { SpawnCommandRunner, SpawnCommandRunnerOptions } from './spawn-command-runner';

type Launched = CommandResult & { timedOut: boolean };

/**
 * SpawnCommandRunner whose commands are started by a small helper process (command-launcher.ts), not by BMI's
 * own. Starting a process forks the one that asks, and a fork copies the page tables of the whole address
 * space on the event loop's thread: from BMI (~170 MB resident, librbd's threads) that took ~7 ms per tgtadm
 * call, during which no request made progress; from the launcher (~45 MB) it takes ~1.7 ms, on another
 * process. (A known limit of Node's spawn, nodejs/node#14917; no maintained package spawns without forking.)
 *
 * The launcher is forked on first use (with tgt, the target check at start); if it dies, the commands it was
 * running fail (exit 127, "the command launcher stopped") and the next command starts a new one.
 */
export class LaunchingCommandRunner extends SpawnCommandRunner implements OnApplicationShutdown {
  private readonly log = new Logger('CommandRunner');
  private launcher: ChildProcess | null = null;
  private readonly waiting = new Map<number, (r: Launched) => void>();
  private nextId = 1;

  constructor(options: SpawnCommandRunnerOptions = {}) {
    super(options);
  }

  onApplicationShutdown(): void {
    this.launcher?.kill();
    this.launcher = null;
  }

  protected override start(argv: readonly string[], spec: SpawnSpec): Promise<Launched> {
    const launcher = this.ensureLauncher();
    const id = this.nextId++;
    return new Promise<Launched>((resolve) => {
      this.waiting.set(id, resolve);
      // the channel keeps BMI alive only while commands are out
      if (this.waiting.size === 1) launcher.channel?.ref();
      const request: LaunchRequest = { id, argv: [...argv], spec };
      launcher.send(request, (e) => {
        if (e) this.settle(id, notStarted(argv, `the command launcher could not be reached: ${e.message}`));
      });
    });
  }

  private ensureLauncher(): ChildProcess {
    if (this.launcher) return this.launcher;
    const script = path.join(__dirname, `command-launcher${path.extname(__filename)}`);
    // under ts-node/ts-jest the launcher is TypeScript too
    const execArgv = script.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [];
    const launcher = fork(script, [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    launcher.on('message', (m: { id: number; result: Launched }) => this.settle(m.id, m.result));
    launcher.on('exit', (code, signal) => {
      if (this.launcher === launcher) this.launcher = null;
      if (this.waiting.size) this.log.error(`the command launcher stopped (${signal ?? code}) with commands running`);
      for (const id of [...this.waiting.keys()]) this.settle(id, notStarted([], 'the command launcher stopped'));
    });
    launcher.unref();
    launcher.channel?.unref();
    this.launcher = launcher;
    return launcher;
  }

  private settle(id: number, result: Launched): void {
    const resolve = this.waiting.get(id);
    if (!resolve) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.launcher?.channel?.unref();
    resolve(result);
  }
}

function notStarted(argv: readonly string[], why: string): Launched {
  return { exitCode: EXIT_NOT_STARTED, stdout: '', stderr: `${argv[0] ?? 'command'}: ${why}`, timedOut: false };
}
