import { Module } from '@nestjs/common';
import { CommandRunner } from './command-runner';
import { SpawnCommandRunner } from './spawn-command-runner';

/** Provides the CommandRunner port: commands run as argv arrays through child_process.spawn. */
@Module({
  providers: [{ provide: CommandRunner, useFactory: () => new SpawnCommandRunner() }],
  exports: [CommandRunner],
})
export class ProcessModule {}
