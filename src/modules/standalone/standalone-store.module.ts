import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { STANDALONE_ENTITIES } from './standalone.entities';
import { StandaloneDirectory } from './standalone-directory';
import { TypeOrmStandaloneDirectory } from './typeorm-standalone.directory';

/** The standalone tables and the directory the standalone HIL driver reads (imported by HilModule). */
@Module({
  imports: [TypeOrmModule.forFeature(STANDALONE_ENTITIES)],
  providers: [{ provide: StandaloneDirectory, useClass: TypeOrmStandaloneDirectory }],
  exports: [StandaloneDirectory],
})
export class StandaloneStoreModule {}
