import { GrantCache } from './project-access.service';

const alice = { username: 'alice', password: 'pw' };

describe('GrantCache', () => {
  let now = 1000;
  const clock = () => now;
  beforeEach(() => (now = 1000));

  it('asks once for a grant within its lifetime, again after it', async () => {
    const cache = new GrantCache(5000, clock);
    const check = jest.fn(async () => undefined);
    await cache.remember('project', alice, 'proj1', check);
    await cache.remember('project', alice, 'proj1', check);
    expect(check).toHaveBeenCalledTimes(1);
    now += 5001;
    await cache.remember('project', alice, 'proj1', check);
    expect(check).toHaveBeenCalledTimes(2);
  });

  it('never keeps a refusal', async () => {
    const cache = new GrantCache(5000, clock);
    const refuse = jest.fn(async () => Promise.reject(new Error('no')));
    await expect(cache.remember('project', alice, 'proj1', refuse)).rejects.toThrow('no');
    await expect(cache.remember('project', alice, 'proj1', refuse)).rejects.toThrow('no');
    expect(refuse).toHaveBeenCalledTimes(2);
  });

  it('keeps grants apart by kind, user, password and project', async () => {
    const cache = new GrantCache(5000, clock);
    const check = jest.fn(async () => undefined);
    await cache.remember('project', alice, 'proj1', check);
    await cache.remember('project', alice, 'proj2', check);
    await cache.remember('admin', alice, 'proj1', check);
    await cache.remember('project', { username: 'alice', password: 'other' }, 'proj1', check);
    await cache.remember('project', { username: 'bob', password: 'pw' }, 'proj1', check);
    expect(check).toHaveBeenCalledTimes(5);
  });

  it('asks every time with a lifetime of 0', async () => {
    const cache = new GrantCache(0, clock);
    const check = jest.fn(async () => undefined);
    await cache.remember('project', alice, 'proj1', check);
    await cache.remember('project', alice, 'proj1', check);
    expect(check).toHaveBeenCalledTimes(2);
  });
});
