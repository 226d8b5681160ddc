/**
 * The standalone operations of the SDK (`[driver] net_isolator = standalone`): users, memberships, nodes and
 * NICs made through /v1, then a member using what the admin set up.
 */
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import * as bmi from '@bmi/client';
import { createBmiClient, unwrap } from '@bmi/client';
import { startTestApp, TestApp } from '../utils/test-app';

const ROOT = { username: 'admin', password: 'Root-pw-9xQ' };
let t: TestApp;
let root: bmi.Client;
let baseUrl: string;

beforeAll(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp({
    env: { BMI_DRIVER_NET_ISOLATOR: 'standalone', BMI_NET_ISOLATOR_ADMIN_PASSWORD: ROOT.password },
  });
  await t.app.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  root = createBmiClient({ baseUrl, ...ROOT });
});
afterAll(async () => {
  await t.close();
  jest.restoreAllMocks();
});

it('an admin sets up users, projects, nodes and NICs; the member then boots a node of theirs', async () => {
  await unwrap(bmi.createProject({ client: root, body: { name: 'proj1' } }));
  expect(
    await unwrap(bmi.createUser({ client: root, body: { name: 'alice', password: 'Alice:pw-4kD', admin: false } })),
  ).toEqual({ name: 'alice', admin: false, projects: [] });
  await unwrap(bmi.grantProject({ client: root, path: { user: 'alice', project: 'proj1' } }));
  await unwrap(bmi.createUser({ client: root, body: { name: 'bob', password: 'Bob-pw-2mZ' } }));
  await unwrap(bmi.deleteUser({ client: root, path: { user: 'bob' } }));
  const users = await unwrap(bmi.listUsers({ client: root }));
  expect(users.items).toEqual([
    { name: 'admin', admin: true, projects: [] },
    { name: 'alice', admin: false, projects: ['proj1'] },
  ]);

  expect(await unwrap(bmi.registerNode({ client: root, body: { name: 'node-01' } }))).toEqual({
    name: 'node-01',
    project: null,
    nics: [],
  });
  expect(
    await unwrap(
      bmi.addNic({ client: root, path: { node: 'node-01' }, body: { label: 'eth0', mac: '52:54:00:AA:BB:CC' } }),
    ),
  ).toEqual({ label: 'eth0', mac: '52:54:00:aa:bb:cc' });
  await unwrap(
    bmi.addNic({ client: root, path: { node: 'node-01' }, body: { label: 'eth9', mac: '52:54:00:aa:bb:cd' } }),
  );
  await unwrap(bmi.removeNic({ client: root, path: { node: 'node-01', nic: 'eth9' } }));
  await unwrap(bmi.connectNode({ client: root, path: { node: 'node-01' }, body: { project: 'proj1' } }));
  // its BMC: power then goes through the power driver (fake here; ipmitool in production)
  await unwrap(
    bmi.setNodeBmc({
      client: root,
      path: { node: 'node-01' },
      body: { address: '10.1.0.21', username: 'ADMIN', password: 'bmc-pw' },
    }),
  );
  const cycled = await unwrap(
    bmi.setNodePower({ client: root, path: { project: 'proj1', node: 'node-01' }, body: { action: 'cycle' } }),
  );
  expect(cycled).toEqual({ node: 'node-01', state: 'on' });
  const badBmc = await unwrap(
    bmi.setNodeBmc({ client: root, path: { node: 'node-01' }, body: { address: '-rf /' } }),
  ).catch((e) => e);
  expect([badBmc.status, badBmc.code]).toEqual([400, 'BAD_REQUEST']);
  await unwrap(bmi.deleteNodeBmc({ client: root, path: { node: 'node-01' } }));
  await unwrap(bmi.registerNode({ client: root, body: { name: 'node-02' } }));
  await unwrap(bmi.connectNode({ client: root, path: { node: 'node-02' }, body: { project: 'proj1' } }));
  await unwrap(bmi.detachNode({ client: root, path: { node: 'node-02' } }));
  await unwrap(bmi.deleteNode({ client: root, path: { node: 'node-02' } }));
  expect((await unwrap(bmi.listNodes({ client: root }))).items).toEqual([
    { name: 'node-01', project: 'proj1', nics: [{ label: 'eth0', mac: '52:54:00:aa:bb:cc' }] },
  ]);

  // alice changes her own password, and works with the new one
  const alice = createBmiClient({ baseUrl, username: 'alice', password: 'Alice:pw-4kD' });
  await unwrap(bmi.changePassword({ client: alice, path: { user: 'alice' }, body: { password: 'Alice-new-1' } }));
  const stale = await unwrap(bmi.getProject({ client: alice, path: { project: 'proj1' } })).catch((e) => e);
  expect([stale.status, stale.code]).toEqual([401, 'HIL_AUTHENTICATION_FAILED']);
  const fresh = createBmiClient({ baseUrl, username: 'alice', password: 'Alice-new-1' });
  expect(await unwrap(bmi.getProject({ client: fresh, path: { project: 'proj1' } }))).toMatchObject({ name: 'proj1' });
  const notHers = await unwrap(
    bmi.changePassword({ client: fresh, path: { user: 'admin' }, body: { password: 'x' } }),
  ).catch((e) => e);
  expect([notHers.status, notHers.code]).toEqual([403, 'ADMIN_REQUIRED']);
  await unwrap(bmi.revokeProject({ client: root, path: { user: 'alice', project: 'proj1' } }));
  const revoked = await unwrap(bmi.getProject({ client: fresh, path: { project: 'proj1' } })).catch((e) => e);
  expect(revoked.status).toBe(401);
});
