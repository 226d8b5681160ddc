import { Logger } from '@nestjs/common';
import { CommandFailedError, formatArgv, redactArgv } from './command-runner';
import { LaunchingCommandRunner } from './launching-command-runner';
import { SpawnCommandRunner } from './spawn-command-runner';

/** Real processes: node itself, so that the tests need nothing else installed. */
const NODE = process.execPath;
const node = (script: string, ...args: string[]) => [NODE, '-e', script, '--', ...args];

let runner: SpawnCommandRunner;
let debug: string[];
afterEach(() => jest.restoreAllMocks());

// the same contract started in this process, and through the launcher process
describe.each([
  ['SpawnCommandRunner', () => new SpawnCommandRunner({ timeoutMs: 10_000 })],
  ['LaunchingCommandRunner', () => new LaunchingCommandRunner({ timeoutMs: 10_000 })],
])('%s', (_, make) => {
  const made = make();
  beforeEach(() => {
    runner = made;
    debug = [];
    jest.spyOn(Logger.prototype, 'debug').mockImplementation((m: unknown) => void debug.push(String(m)));
  });
  afterAll(() => (made as Partial<LaunchingCommandRunner>).onApplicationShutdown?.());

  it('passes every argument verbatim: no shell, so quotes, ; $() * and spaces mean nothing', async () => {
    const args = ['a b', "it's", '$(touch /tmp/pwned)', '; rm -rf /', '*', 'conf=/x;id=bmi', ''];
    const r = await runner.run(node('process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...args));
    expect(JSON.parse(r.stdout)).toEqual(args);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
  });

  it('runs with LC_ALL=C, whatever the caller set, and keeps the rest of the environment', async () => {
    process.env.BMI_RUNNER_TEST = 'kept';
    try {
      const r = await runner.run(
        node('process.stdout.write(`${process.env.LC_ALL} ${process.env.BMI_RUNNER_TEST} ${process.env.EXTRA}`)'),
        { env: { LC_ALL: 'de_DE.UTF-8', EXTRA: 'x' } },
      );
      expect(r.stdout).toBe('C kept x');
    } finally {
      delete process.env.BMI_RUNNER_TEST;
    }
  });

  it('a non-zero exit is a CommandFailedError with the exit code, stdout and stderr', async () => {
    const e = await runner
      .run(node('process.stdout.write("out"); process.stderr.write("first\\nlast line"); process.exit(22)'))
      .catch((x) => x);
    expect(e).toBeInstanceOf(CommandFailedError);
    expect(e).toMatchObject({ exitCode: 22, stdout: 'out', stderr: 'first\nlast line', timedOut: false });
    expect(e.message).toBe(`${NODE} exited with 22: last line`);
  });

  it('with check: false a non-zero exit is returned, not thrown', async () => {
    const r = await runner.run(node('process.exit(3)'), { check: false });
    expect(r).toEqual({ exitCode: 3, stdout: '', stderr: '' });
  });

  it('a command that cannot be started exits 127, with the reason as stderr', async () => {
    const e = await runner.run(['/nonexistent/tgtadm', '--help']).catch((x) => x);
    expect(e).toBeInstanceOf(CommandFailedError);
    expect(e.exitCode).toBe(127);
    expect(e.stderr).toMatch(/ENOENT/);
    expect(await runner.run(['/nonexistent/tgtadm'], { check: false })).toMatchObject({ exitCode: 127 });
  });

  it('a command that outlives its timeout is killed: exit 124, timedOut', async () => {
    const started = Date.now();
    const e = await runner.run(node('setTimeout(() => {}, 60000)'), { timeoutMs: 200 }).catch((x) => x);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(e).toBeInstanceOf(CommandFailedError);
    expect(e).toMatchObject({ exitCode: 124, timedOut: true });
    expect(e.message).toMatch(/timed out/);
  });

  it('a command killed by a signal exits 128 + n', async () => {
    const r = await runner.run(node('process.kill(process.pid, "SIGTERM"); setTimeout(() => {}, 5000)'), {
      check: false,
    });
    expect(r.exitCode).toBe(128 + 15);
  });

  it('writes input to stdin; without input stdin is closed', async () => {
    const echo = node('let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => process.stdout.write(s))');
    expect((await runner.run(echo, { input: 'hello\n' })).stdout).toBe('hello\n');
    expect((await runner.run(echo)).stdout).toBe('');
  });

  it('logs the argv and the exit at debug, with secrets redacted', async () => {
    await runner.run(node('0', '--password', 'hunter2', 'chap=x;password=s3cret', 'key-in-the-middle'), {
      secrets: ['in-the'],
    });
    const all = debug.join('\n');
    expect(all).toContain(`$ ${NODE} -e 0 -- --password '***' 'chap=x;password=***' 'key-***-middle'`);
    expect(all).toMatch(/exit 0 in \d+\.\d ms/);
    expect(all).not.toMatch(/hunter2|s3cret|in-the/);
  });

  it('refuses an empty argv', async () => {
    await expect(runner.run([])).rejects.toThrow(/empty argv/);
  });

  it('runs commands side by side: all four are running at the same moment', async () => {
    const script =
      'process.stdout.write(`${Date.now()} `); setTimeout(() => process.stdout.write(`${Date.now()}`), 2000)';
    const spans = (await Promise.all([1, 2, 3, 4].map(() => runner.run(node(script))))).map((r) =>
      r.stdout.split(' ').map(Number),
    );
    expect(Math.max(...spans.map(([start]) => start))).toBeLessThan(Math.min(...spans.map(([, end]) => end)));
  });
});

describe('LaunchingCommandRunner when its launcher dies', () => {
  it('the commands it was running fail as not started (127), and the next command starts a new launcher', async () => {
    const launching = new LaunchingCommandRunner({ timeoutMs: 10_000 });
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    try {
      const slow = launching.run(node('setTimeout(() => {}, 5000)'), { check: false });
      await new Promise((r) => setTimeout(r, 500));
      const launcher = (launching as unknown as { launcher: { child: { pid: number } } }).launcher.child;
      process.kill(launcher.pid, 'SIGKILL');
      expect(await slow).toMatchObject({ exitCode: 127, stderr: expect.stringMatching(/launcher stopped/) });
      const again = await launching.run(node('process.stdout.write(String(process.ppid))'));
      expect(Number(again.stdout)).not.toBe(launcher.pid);
      expect(Number(again.stdout)).not.toBe(process.pid);
    } finally {
      launching.onApplicationShutdown();
    }
  });
});

describe('redactArgv and formatArgv', () => {
  it('redacts listed values, the value after a secret flag, and secret key=value pairs', () => {
    expect(redactArgv(['tgtadm', '--password', 'p', '--user', 'u-value', 'x=1;secret=2,token=3'], ['u-value'])).toEqual(
      ['tgtadm', '--password', '***', '--user', '***', 'x=1;secret=***,token=***'],
    );
  });

  it('quotes what a shell would split or expand', () => {
    expect(formatArgv(['tgtadm', '--bsopts', 'conf=/a;id=b', 'a b', "it's", 'plain-1.2:3/x'])).toBe(
      `tgtadm --bsopts 'conf=/a;id=b' 'a b' 'it'\\''s' plain-1.2:3/x`,
    );
  });
});
