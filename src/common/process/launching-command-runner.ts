import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { OnApplicationShutdown } from '@nestjs/common';
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
  private launcher: Launcher | null = null;
  private nextId = 1;

  constructor(options: SpawnCommandRunnerOptions = {}) {
    super(options);
  }

  onApplicationShutdown(): void {
    this.launcher?.child.kill();
  }

  protected override start(argv: readonly string[], spec: SpawnSpec): Promise<Launched> {
    const launcher = this.ensureLauncher();
    const id = this.nextId++;
    return new Promise<Launched>((resolve) => {
      launcher.waiting.set(id, resolve);
      // the channel keeps BMI alive only while commands are out
      if (launcher.waiting.size === 1) launcher.child.channel?.ref();
      const request: LaunchRequest = { id, argv: [...argv], spec };
      try {
        launcher.child.send(request, (e) => {
          if (e) settle(launcher, id, notStarted(argv, `the command launcher could not be reached: ${e.message}`));
        });
      } catch (e) {
        settle(launcher, id, notStarted(argv, `the command launcher could not be reached: ${(e as Error).message}`));
      }
    });
  }

  private ensureLauncher(): Launcher {
    if (this.launcher) return this.launcher;
    const script = path.join(__dirname, `command-launcher${path.extname(__filename)}`);
    // under ts-node/ts-jest the launcher is TypeScript too
    const execArgv = script.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [];
    const child = fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    const launcher: Launcher = { child, waiting: new Map() };
    child.on('message', (m: { id: number; result: Launched }) => settle(launcher, m.id, m.result));
    // Gone (it exited, or could not even be started: then only 'error' and 'close' come): its answers that
    // arrived have been handled; what it still owed fails as not started, and the next command forks another.
    const gone = (why: string) => {
      if (this.launcher === launcher) this.launcher = null;
      if (launcher.waiting.size) this.logger.error(`the command launcher stopped (${why}) with commands running`);
      for (const id of [...launcher.waiting.keys()])
        settle(launcher, id, notStarted([], 'the command launcher stopped'));
    };
    child.on('error', (e) => gone(e.message));
    child.on('disconnect', () => gone('disconnected'));
    child.on('close', (code, signal) => gone(String(signal ?? code)));
    child.unref();
    child.channel?.unref();
    this.launcher = launcher;
    return launcher;
  }
}

interface Launcher {
  child: ChildProcess;
  /** the commands sent to this launcher and not answered yet */
  waiting: Map<number, (r: Launched) => void>;
}

function settle(launcher: Launcher, id: number, result: Launched): void {
  const resolve = launcher.waiting.get(id);
  if (!resolve) return;
  launcher.waiting.delete(id);
  if (launcher.waiting.size === 0) launcher.child.channel?.unref();
  resolve(result);
}

function notStarted(argv: readonly string[], why: string): Launched {
  return { exitCode: EXIT_NOT_STARTED, stdout: '', stderr: `${argv[0] ?? 'command'}: ${why}`, timedOut: false };
}
