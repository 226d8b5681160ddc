import { CommandFailedError, CommandResult, CommandRunner, redactArgv, RunOptions } from './command-runner';

/** Which commands a scripted answer applies to: an exact argv, or a predicate. */
export type CommandMatcher = readonly string[] | ((argv: readonly string[]) => boolean);
/** The answer: a result (missing fields: exit 0, empty output), computed per call, or an error to throw. */
export type CommandReply =
  | Partial<CommandResult>
  | Error
  | ((argv: readonly string[]) => Partial<CommandResult> | Error | Promise<Partial<CommandResult> | Error>);

interface Rule {
  match: CommandMatcher;
  reply: CommandReply;
  /** how many more calls it answers (Infinity: every one) */
  remaining: number;
}

/**
 * A CommandRunner for unit tests: records every argv it is given and answers from a script. Rules are tried in
 * the order they were added; a rule added with `once` answers one call and is then used up. A command that no
 * rule matches fails the test (an Error naming it), so that an unexpected call never passes unnoticed.
 * `check` behaves as in the real runner: a non-zero exit becomes a CommandFailedError.
 */
export class FakeCommandRunner extends CommandRunner {
  /** every argv run, in order */
  readonly calls: string[][] = [];
  private readonly rules: Rule[] = [];

  /** Answers every matching call. */
  on(match: CommandMatcher, reply: CommandReply): this {
    this.rules.push({ match, reply, remaining: Infinity });
    return this;
  }

  /** Answers the next matching call only. */
  once(match: CommandMatcher, reply: CommandReply): this {
    this.rules.push({ match, reply, remaining: 1 });
    return this;
  }

  /** The recorded calls whose argv starts with these words. */
  callsStartingWith(...prefix: string[]): string[][] {
    return this.calls.filter((argv) => prefix.every((p, i) => argv[i] === p));
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push([...argv]);
    const rule = this.rules.find((r) => r.remaining > 0 && matches(r.match, argv));
    if (!rule) throw new Error(`FakeCommandRunner: unexpected command ${JSON.stringify(argv)}`);
    rule.remaining -= 1;
    const reply = typeof rule.reply === 'function' ? await rule.reply(argv) : rule.reply;
    if (reply instanceof Error) throw reply;
    const result: CommandResult = { exitCode: 0, stdout: '', stderr: '', ...reply };
    if (result.exitCode !== 0 && (options.check ?? true)) {
      throw new CommandFailedError(redactArgv(argv, options.secrets), result);
    }
    return result;
  }
}

function matches(m: CommandMatcher, argv: readonly string[]): boolean {
  if (typeof m === 'function') return m(argv);
  return m.length === argv.length && m.every((word, i) => word === argv[i]);
}
