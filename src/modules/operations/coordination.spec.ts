import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { deadLocalProcess, pidSpace, processStart } from './coordination';

describe('deadLocalProcess: whether an instance id names a process of this host that is gone', () => {
  const space = pidSpace();
  const me = `${hostname()}:${process.pid}:aaaa:${space}:${processStart(process.pid)}`;

  it('this process, and another app in it (another random part), are alive', () => {
    expect(space).toMatch(/^[0-9a-f]{8}$/);
    expect(deadLocalProcess(me, me)).toBe(false);
    expect(deadLocalProcess(me.replace(':aaaa:', ':bbbb:'), me)).toBe(false);
  });

  it('a process with this pid that started at another time (a restart that got the pid again) is gone', () => {
    expect(deadLocalProcess(`${hostname()}:${process.pid}:cccc:${space}:1`, me)).toBe(true);
  });

  it('a child process is alive until it exits, then gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((r) => child.once('spawn', r));
    const id = `${hostname()}:${child.pid}:dddd:${space}:${processStart(child.pid!)}`;
    expect(deadLocalProcess(id, me)).toBe(false);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(deadLocalProcess(id, me)).toBe(true);
  });

  it('says nothing of another host, another pid space, or an id without them: the lease decides', () => {
    expect(deadLocalProcess(`elsewhere:999999:eeee:${space}:1`, me)).toBe(false);
    expect(deadLocalProcess(`${hostname()}:999999:eeee:0badcafe:1`, me)).toBe(false);
    expect(deadLocalProcess(`${hostname()}:999999:eeee`, me)).toBe(false);
  });
});
