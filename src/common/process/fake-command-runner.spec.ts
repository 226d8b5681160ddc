import { CommandFailedError } from './command-runner';
import { FakeCommandRunner } from './fake-command-runner';

describe('FakeCommandRunner', () => {
  it('records every argv and answers exact matches (missing fields: exit 0, empty output)', async () => {
    const r = new FakeCommandRunner().on(['tgtadm', 'show'], { stdout: 'x' });
    expect(await r.run(['tgtadm', 'show'])).toEqual({ exitCode: 0, stdout: 'x', stderr: '' });
    expect(r.calls).toEqual([['tgtadm', 'show']]);
  });

  it('fails loudly on a command no rule matches (an exact match needs the same length)', async () => {
    const r = new FakeCommandRunner().on(['tgtadm', 'show'], {});
    await expect(r.run(['tgtadm', 'show', '--tid', '1'])).rejects.toThrow(/unexpected command/);
  });

  it('once rules answer one call, in the order they were added, before the rules after them', async () => {
    const r = new FakeCommandRunner()
      .once(['a'], { stdout: '1' })
      .once(['a'], { stdout: '2' })
      .on(['a'], { stdout: 'n' });
    const outs = [];
    for (let i = 0; i < 4; i++) outs.push((await r.run(['a'])).stdout);
    expect(outs).toEqual(['1', '2', 'n', 'n']);
  });

  it('predicates and computed replies; an Error reply is thrown', async () => {
    const boom = new Error('boom');
    const r = new FakeCommandRunner()
      .on(
        (argv) => argv[0] === 'echo',
        (argv) => ({ stdout: argv.slice(1).join(' ') }),
      )
      .on(['fail'], boom);
    expect((await r.run(['echo', 'a', 'b'])).stdout).toBe('a b');
    await expect(r.run(['fail'])).rejects.toBe(boom);
  });

  it('a non-zero exit throws CommandFailedError unless check is false, like the real runner', async () => {
    const r = new FakeCommandRunner().on(['x'], { exitCode: 22, stderr: 'tgtadm: invalid request\n' });
    const e = await r.run(['x']).catch((err) => err);
    expect(e).toBeInstanceOf(CommandFailedError);
    expect(e).toMatchObject({ exitCode: 22, stderr: 'tgtadm: invalid request\n' });
    expect(await r.run(['x'], { check: false })).toMatchObject({ exitCode: 22 });
  });

  it('callsStartingWith filters by leading words', async () => {
    const r = new FakeCommandRunner().on(() => true, {});
    await r.run(['tgtadm', '--op', 'show']);
    await r.run(['tgtadm', '--op', 'new']);
    expect(r.callsStartingWith('tgtadm', '--op', 'new')).toEqual([['tgtadm', '--op', 'new']]);
  });
});
