import { describeBlockStorageContract } from './block-storage.contract';
import { FakeBlockStorage } from './fake-block-storage';

describeBlockStorageContract('FakeBlockStorage', async () => ({ storage: new FakeBlockStorage('bmi'), pool: 'bmi' }));
