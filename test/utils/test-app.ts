import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { INestApplication } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { Repository } from 'typeorm';
import { freshTestDatabase } from './test-db';
import { createApp } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import type { Credentials } from '../../src/common/auth/caller';
import type { AccessLevel, ProjectScope } from '../../src/modules/access/access-level';
import { ProjectAccess } from '../../src/modules/access/project-access.service';
import type { HilSeed } from '../../src/modules/hil/hil-directory';
import { ImageEntity } from '../../src/modules/images/image.entity';
import { BlockStorage } from '../../src/modules/images/storage/block-storage';
import { IscsiTargetDriver } from '../../src/modules/iscsi/iscsi-target.driver';

export const ADMIN = { username: 'admin', password: 'admin' };
export const ALICE = { username: 'alice', password: 'alicepass' };
export const BOB = { username: 'bob', password: 'bobpass' };

/** The seed of the fake HIL used by the tests (the same as config/hil-seed.json). */
export const HIL_SEED_FILE = path.resolve(__dirname, '../../config/hil-seed.json');

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  /** the TFTP root (iPXE files) and pxelinux.cfg directory, in a fresh temp dir */
  tftpRoot: string;
  pxelinuxDir: string;
  storage: BlockStorage;
  iscsi: IscsiTargetDriver;
  /** the image table, read and broken on purpose by the tests (the app reaches it through ImageCatalog) */
  imageRows: Repository<ImageEntity>;
  http: () => ReturnType<typeof request>;
  /** what a route declaring `level` hands its service for this caller (rejects as the route would) */
  scope: (credentials: Credentials, project: string, level?: AccessLevel) => Promise<ProjectScope>;
  close: () => Promise<void>;
}

/**
 * The whole app on SQLite :memory: (or, in the app-pg project, a fresh PostgreSQL database) with the fake storage, target and HIL drivers, and boot files in a temp
 * dir. `extraIni` lines are appended to the config (e.g. `[bmi]\nsnapshot = x`). `hilSeed` replaces the fake HIL's
 * users, projects and nodes (default: config/hil-seed.json).
 */
/**
 * Tests make and check many passwords, and send many wrong ones from one address: cheap hashes, and throttling
 * out of the way. They compare boot scripts with the original's byte for byte: targets without CHAP. The
 * tests of those features set them back (pass these keys in `env`).
 */
export const TEST_AUTH = {
  BMI_AUTH_SCRYPT_COST: '10',
  BMI_AUTH_MAX_FAILURES_PER_USER_AND_ADDRESS: '100000',
  BMI_AUTH_MAX_FAILURES_PER_ADDRESS: '100000',
  BMI_ISCSI_CHAP: 'false',
};

export async function startTestApp(
  opts: {
    fakeImages?: string[];
    extraIni?: string[];
    env?: NodeJS.ProcessEnv;
    hilSeed?: HilSeed;
    /** a database shared with other apps (sharedTestDatabase), which close leaves */
    database?: string;
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bmi-test-'));
  let seedFile = HIL_SEED_FILE;
  if (opts.hilSeed) {
    seedFile = path.join(dir, 'hil-seed.json');
    writeFileSync(seedFile, JSON.stringify(opts.hilSeed));
  }
  const db = opts.database ? { location: opts.database, drop: async () => undefined } : await freshTestDatabase();
  const tftpRoot = path.join(dir, 'tftpboot');
  const pxelinuxDir = path.join(tftpRoot, 'pxelinux.cfg');
  const text = [
    '[bmi]',
    'uid = 5',
    'snapshot = bmi_snapshot',
    '[db]',
    `path = ${db.location}`,
    '[driver]',
    'fs = fake',
    'iscsi = fake',
    'net_isolator = fake',
    'power = fake',
    '[fs]',
    'pool = bmi',
    `fake_images = ${(opts.fakeImages ?? ['bmi_test', 'centos7']).join(', ')}`,
    '[net_isolator]',
    `fake_seed = ${seedFile}`,
    '[iscsi]',
    'ip = 10.0.0.1',
    '[tftp]',
    `pxelinux_path = ${pxelinuxDir}/`,
    `ipxe_path = ${tftpRoot}/`,
    `leases_file = ${path.join(dir, 'dnsmasq.leases')}`,
    ...(opts.extraIni ?? []),
  ].join('\n');
  let config: AppConfig;
  let app: INestApplication;
  try {
    config = loadConfig({ text, env: { ...TEST_AUTH, ...opts.env } });
    app = await createApp(config, { logger: false });
  } catch (e) {
    // a start that is meant to fail (tests of bad configs) leaves no temp dir behind
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
    throw e;
  }
  const server = app.getHttpServer();
  return {
    app,
    config,
    tftpRoot,
    pxelinuxDir,
    storage: app.get(BlockStorage),
    iscsi: app.get(IscsiTargetDriver),
    imageRows: app.get<Repository<ImageEntity>>(getRepositoryToken(ImageEntity)),
    http: () => request(server),
    scope: (credentials, project, level = 'member') => app.get(ProjectAccess).resolve({ credentials, project }, level),
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    },
  };
}
