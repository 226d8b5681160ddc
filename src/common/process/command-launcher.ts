/**
 * The command launcher: a small process, started once by LaunchingCommandRunner, that starts BMI's commands
 * (spawnCommand) on its behalf. Requests come over the IPC channel as `{ id, argv, spec }` and each answer goes
 * back as `{ id, result }`. It exits when BMI goes away (the channel closes), killing the commands still running.
 */
import { EXIT_NOT_STARTED } from './command-runner';
import { runningCommands, spawnCommand, SpawnSpec } from './spawn-command';

export interface LaunchRequest {
  id: number;
  argv: string[];
  spec: SpawnSpec;
}

if (require.main === module) {
  process.on('message', (m: LaunchRequest) => {
    // spawn itself may throw (ENOMEM, E2BIG): that command was not started, and the launcher goes on
    void Promise.resolve()
      .then(() => spawnCommand(m.argv, m.spec))
      .catch((e: Error) => ({
        exitCode: EXIT_NOT_STARTED,
        stdout: '',
        stderr: `${m.argv[0]}: ${e.message}`,
        timedOut: false,
      }))
      .then((result) => process.send?.({ id: m.id, result }));
  });
  // BMI is gone (killed, or stopped): so are the commands it started, which nobody would wait for now (a qemu-img
  // still writing into an image that recovery is about to remove)
  process.on('disconnect', () => {
    for (const child of runningCommands) child.kill('SIGKILL');
    process.exit(0);
  });
}
