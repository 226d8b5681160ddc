import { describeBlockStorageContract } from '../../src/modules/images/storage/block-storage.contract';
import { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import { describeWithCeph } from '../utils/ceph-env';

describeWithCeph('CephRbdStorage on a real cluster', (env) => {
  let storage: CephRbdStorage | undefined;
  describeBlockStorageContract(
    `CephRbdStorage (pool ${env.pool})`,
    async () => {
      storage = await CephRbdStorage.connect({ ...env, timeoutSeconds: 20 });
      return { storage, pool: env.pool };
    },
    async () => storage?.close(),
  );
});
