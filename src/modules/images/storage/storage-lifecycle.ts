import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BlockStorage } from './block-storage';

/** Closes the one long-lived storage connection when the app shuts down. */
@Injectable()
export class StorageLifecycle implements OnApplicationShutdown {
  constructor(private readonly storage: BlockStorage) {}

  async onApplicationShutdown(): Promise<void> {
    await this.storage.close();
  }
}
