import { Module } from '@nestjs/common';
import { CommandRunner } from './command-runner';
import { LaunchingCommandRunner } from './launching-command-runner';

/**
 * Provides the CommandRunner port: commands run as argv arrays through child_process.spawn, started by a small
 * launcher process (LaunchingCommandRunner) so that BMI's event loop never waits on a fork.
 */
@Module({
  providers: [{ provide: CommandRunner, useFactory: () => new LaunchingCommandRunner() }],
  exports: [CommandRunner],
})
export class ProcessModule {}
