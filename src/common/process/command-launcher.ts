/**
 * The command launcher: a small process, started once by LaunchingCommandRunner, that starts BMI's commands
 * (spawnCommand) on its behalf. Requests come over the IPC channel as `{ id, argv, spec }` and each answer goes
 * back as `{ id, result }`. It exits when BMI goes away (the channel closes).
 */
import { spawnCommand, SpawnSpec } from './spawn-command';

export interface LaunchRequest {
  id: number;
  argv: string[];
  spec: SpawnSpec;
}

if (require.main === module) {
  process.on('message', (m: LaunchRequest) => {
    void spawnCommand(m.argv, m.spec).then((result) => process.send?.({ id: m.id, result }));
  });
  process.on('disconnect', () => process.exit(0));
}
