/**
 * The SDK in a few lines, as the README shows it: import an image (an operation, followed to its end), make a
 * disk from it, and tell a conflict by its code. Run by test/e2e/sdk.e2e-spec.ts against the app.
 */
import { BmiApiError, createBmiClient, createDisk, importImage, unwrap, waitForOperation } from '@bmi/client';

export async function quickstart(baseUrl: string, log: (line: string) => void = console.log): Promise<void> {
  const admin = createBmiClient({ baseUrl, username: 'admin', password: 'admin' });
  const op = await unwrap(importImage({ client: admin, path: { project: 'proj1' }, body: { source: 'centos7' } }));
  const ended = await waitForOperation(admin, 'proj1', op.id, {
    onUpdate: (o) => log(`${o.state} ${o.progress?.done ?? 0}`),
  });
  log(`import ${ended.state}`);

  const alice = createBmiClient({ baseUrl, username: 'alice', password: 'alicepass' });
  for (let i = 0; i < 2; i++) {
    try {
      const disk = await unwrap(
        createDisk({ client: alice, path: { project: 'proj1' }, body: { name: 'web1', image: 'centos7' } }),
      );
      log(`disk ${disk.name} at ${disk.iscsi.uri}`);
    } catch (e) {
      if (e instanceof BmiApiError && e.code === 'DISK_EXISTS') log('web1 is there already');
      else throw e;
    }
  }
}
