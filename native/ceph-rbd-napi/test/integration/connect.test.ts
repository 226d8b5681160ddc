import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { connect, Features, IoCtx, librbdVersion, RbdError } from '../../src-ts';
import { loadBinding } from '../../src-ts/binding';
import { connectTo, describeCeph } from './ceph-env';

jest.setTimeout(60_000);

describeCeph('connect (real Ceph)', (env) => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbd-napi-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('connects, opens the pool and closes both', async () => {
    const cluster = await connectTo(env);
    const io = await cluster.openPool(env.pool);
    expect(io).toBeInstanceOf(IoCtx);
    expect(io.pool).toBe(env.pool);
    expect(Array.isArray(await io.listImages())).toBe(true);
    await io.close();
    await cluster.close();
    expect(io.closed).toBe(true);
    expect(cluster.closed).toBe(true);
  });

  it('runs against librbd 1.x and its feature bits match Features', () => {
    expect(librbdVersion()).toMatch(/^1\.\d+\.\d+$/);
    const native = loadBinding().features!;
    for (const [name, bit] of Object.entries(Features)) expect(native[name]).toBe(bit);
  });

  it('rejects a missing conf file: ENOENT from rados_conf_read_file', async () => {
    const missing = path.join(tmp, 'nope.conf');
    await expect(connect({ confFile: missing, clientId: env.clientId, timeoutSeconds: 5 })).rejects.toMatchObject({
      constructor: RbdError,
      code: 'ENOENT',
      errno: 2,
      op: 'rados_conf_read_file',
      target: missing,
    });
  });

  it('rejects an unknown user: EACCES from rados_connect', async () => {
    await expect(
      connect({ confFile: env.confFile, clientId: 'no-such-user', keyring: env.keyring, timeoutSeconds: 5 }),
    ).rejects.toMatchObject({ constructor: RbdError, code: 'EACCES', op: 'rados_connect' });
  });

  it.each([
    ['a well-formed but wrong key', 'AQBeZ0ZmAAAAABAAcWq6Rz3vcYRstbGdRkUZnw==', 'EACCES'],
    ['a malformed key', 'not-a-key', 'EIO'],
  ])('rejects %s: %s from rados_connect', async (_label, key, code) => {
    const keyring = path.join(tmp, `${code}.keyring`);
    fs.writeFileSync(keyring, `[client.${env.clientId}]\n\tkey = ${key}\n`);
    await expect(
      connect({ confFile: env.confFile, clientId: env.clientId, keyring, timeoutSeconds: 5 }),
    ).rejects.toMatchObject({ constructor: RbdError, code, op: 'rados_connect' });
  });

  it('rejects a keyring path that does not exist: ENOENT from rados_connect', async () => {
    const keyring = path.join(tmp, 'missing.keyring');
    await expect(
      connect({ confFile: env.confFile, clientId: env.clientId, keyring, timeoutSeconds: 5 }),
    ).rejects.toMatchObject({ constructor: RbdError, code: 'ENOENT', op: 'rados_connect' });
  });

  it('gives up on unreachable monitors after timeoutSeconds: ETIMEDOUT', async () => {
    const conf = path.join(tmp, 'dead.conf');
    // Nothing listens on these ports (the suite's own cluster is elsewhere).
    fs.writeFileSync(conf, '[global]\nmon host = [v2:127.0.0.1:3359,v1:127.0.0.1:6799]\n');
    const started = Date.now();
    const error = await connect({
      confFile: conf,
      clientId: env.clientId,
      keyring: env.keyring,
      timeoutSeconds: 2,
    }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ constructor: RbdError, code: 'ETIMEDOUT', errno: 110, op: 'rados_connect' });
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('rejects a pool that does not exist: ENOENT from rados_ioctx_create', async () => {
    const cluster = await connectTo(env);
    try {
      await expect(cluster.openPool('no-such-pool')).rejects.toMatchObject({
        constructor: RbdError,
        code: 'ENOENT',
        op: 'rados_ioctx_create',
      });
    } finally {
      await cluster.close();
    }
  });

  it('addresses() names the session; blocklist() of it from another session drops its watch at once', async () => {
    const dead = await connectTo(env);
    const alive = await connectTo(env);
    const deadIo = await dead.openPool(env.pool);
    const io = await alive.openPool(env.pool);
    const name = `fence-${randomBytes(4).toString('hex')}`;
    try {
      await io.create(name, 1 << 20);
      // the session that "died" still has the image open: its watch keeps the image from being removed
      const open = await deadIo.openImage(name);
      await expect(io.remove(name)).rejects.toMatchObject({ constructor: RbdError, code: 'EBUSY' });
      const address = await dead.addresses();
      expect(address).toMatch(/\d+\.\d+\.\d+\.\d+:\d+\/\d+/);
      expect(await alive.addresses()).not.toBe(address);
      await alive.blocklist(address, 60);
      await io.remove(name);
      expect(await io.listImages()).not.toContain(name);
      // the fenced session's own calls fail from now on; its handles are closed all the same
      await open.close().catch(() => undefined);
    } finally {
      await io.remove(name).catch(() => undefined);
      await io.close();
      await alive.close();
      await deadIo.close().catch(() => undefined);
      await dead.close().catch(() => undefined);
    }
  });

  it('blocklist() checks its arguments before calling librados', async () => {
    const cluster = await connectTo(env);
    try {
      await expect(cluster.blocklist('', 1)).rejects.toThrow(TypeError);
      await expect(cluster.blocklist('1.2.3.4:0/1', -1)).rejects.toThrow(TypeError);
    } finally {
      await cluster.close();
    }
  });
});
