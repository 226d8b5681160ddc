import { createHash, Hash } from 'node:crypto';
import { FileHandle, mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { BeforeApplicationShutdown, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { exclusive, lockKey, OperationLocks, shared } from '../../common/concurrency/locks';
import { SagaActions } from '../../common/orchestration/actions';
import { currentOperationId, progressReporter } from '../../common/orchestration/journal';
import type { Saga } from '../../common/orchestration/saga';
import { CommandFailedError, CommandRunner, EXIT_NOT_STARTED } from '../../common/process/command-runner';
import { StorageFailedError } from './storage/storage.errors';
import { AppConfig } from '../../config/app-config';
import type { ProjectScope } from '../access/access-level';
import { OperationLauncher } from '../operations/operation-launcher';
import type { OperationRow } from '../operations/operation-journal.service';
import { Sagas } from '../operations/sagas';
import { ImageCatalog } from './image-catalog';
import {
  BadImageFileError,
  ImageExistsError,
  QuotaExceededError,
  UploadNotReceivingError,
  UploadOffsetError,
  UploadTooLargeError,
} from './images.errors';
import { BlockStorage, ImageWriter } from './storage/block-storage';
import { StorageSteps } from './storage/storage-steps';

export const UPLOAD_FORMATS = ['raw', 'qcow2'] as const;
export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

export interface UploadRequest {
  /** the new golden image */
  name: string;
  format: UploadFormat;
  /** the file's size in bytes, as it will be sent */
  size: number;
  /** the file's SHA-256, hex; checked when the last byte has arrived */
  sha256?: string;
}

/** An upload while it receives its data: what a client resuming it needs. */
export interface UploadView {
  image: string;
  format: UploadFormat;
  size: number;
  received: number;
  /** the operation that makes the image */
  operation: string;
}

/** Data is written to Ceph (or the staging file) in pieces of this size: an RBD object each by default. */
const PIECE = 4 * 1024 * 1024;
/** Pieces being written at once. */
const WRITE_DEPTH = 4;
/** The metadata key of an uploaded image's SHA-256 (of the file as it was sent). */
export const SHA256_KEY = 'bmi.sha256';

/** One upload in progress, in this process. */
class Upload {
  received = 0;
  lastActivity = Date.now();
  /** the request sending data now, if any: its end is awaited before the writer is closed */
  sending: Promise<unknown> | null = null;
  writer?: ImageWriter;
  staged?: FileHandle;
  /** set once the writer (or staging file) is closed: no more data is taken */
  closed = false;
  digest?: string;
  readonly hash: Hash = createHash('sha256');
  readonly finished: Promise<void>;
  /** the image (raw) or the staging file (qcow2) is there to write to */
  readonly ready: Promise<void>;
  markReady!: (error?: unknown) => void;
  private settle!: { resolve: () => void; reject: (e: unknown) => void };

  constructor(
    readonly operation: string,
    readonly project: string,
    readonly request: UploadRequest,
    readonly report: (done: number, total: number) => void,
  ) {
    this.finished = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.ready = new Promise((resolve, reject) => (this.markReady = (e) => (e ? reject(e) : resolve())));
    // failures nobody awaits yet must not be unhandled rejections
    this.finished.catch(() => undefined);
    this.ready.catch(() => undefined);
  }

  get busy(): boolean {
    return this.sending !== null;
  }

  /** the SHA-256 the client gave with its data (when it announced none: it hashed while it sent) */
  lateSha256?: string;

  /** All the data is in: checks the checksum, then the receive step ends. */
  complete(): void {
    this.digest = this.hash.digest('hex');
    const want = (this.request.sha256 ?? this.lateSha256)?.toLowerCase();
    if (want && want !== this.digest) {
      this.fail(new BadImageFileError(`The SHA-256 of the data is ${this.digest}, not ${want}`));
    } else {
      this.settle.resolve();
    }
  }

  fail(e: unknown): void {
    this.settle.reject(e);
  }

  view(): UploadView {
    const { name, format, size } = this.request;
    return { image: name, format, size, received: this.received, operation: this.operation };
  }
}

/**
 * Golden images uploaded through the API, each as one journaled operation (`upload_image`): the name is
 * reserved (its row), the RBD image made (raw) or a staging file opened (qcow2); the data arrives in one or
 * more PUTs, each from where the last stopped (so that a broken transfer resumes), and is written straight
 * to Ceph through the binding (raw) or to the staging file; once the last byte is in, its SHA-256 is checked,
 * a qcow2 file is converted into a new RBD image by `qemu-img` (argv; its rbd driver), and the image gets its
 * protected snapshot. Any failure (a bad checksum, a qcow2 with a backing file, an upload abandoned for
 * `[upload] idle_seconds`, a crash) rolls everything back: no row, no RBD image, no staging file.
 *
 * The data must reach the instance that runs the operation (it is held in its memory); another instance
 * answers UPLOAD_NOT_RECEIVING.
 */
@Injectable()
export class UploadsService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly uploads = new Map<string, Upload>();
  private readonly timer: NodeJS.Timeout;
  private staging?: Promise<string>;

  constructor(
    private readonly sagas: Sagas,
    private readonly locks: OperationLocks,
    private readonly catalog: ImageCatalog,
    private readonly steps: StorageSteps,
    private readonly storage: BlockStorage,
    private readonly config: AppConfig,
    private readonly launcher: OperationLauncher,
    private readonly runner: CommandRunner,
    actions: SagaActions,
  ) {
    actions.register({
      'upload.staging.remove': async ({ file }) => void (await rm(String(file), { force: true })),
    });
    this.timer = setInterval(() => this.abandonIdle(), 5000);
    this.timer.unref();
  }

  /** Starts an upload: answered as soon as its operation is recorded, with the operation. */
  async start(scope: ProjectScope, req: UploadRequest): Promise<OperationRow> {
    const { project } = scope;
    if (req.size > this.config.upload.maxBytes) {
      throw new UploadTooLargeError(`${req.size} bytes is more than an upload may be (${this.config.upload.maxBytes})`);
    }
    // one being uploaded here holds its name under its lock for as long as that takes: said at once
    if (this.uploads.has(this.key(project.name, req.name))) throw new ImageExistsError(req.name, project.name);
    const locks = [shared(lockKey.project(project.name)), exclusive(lockKey.image(project.id, req.name))];
    return this.launcher.launch(() =>
      this.locks.run(locks, async () => {
        await this.catalog.assertFree(project, req.name);
        await this.checkQuota(scope, req.size);
        await this.sagas
          .of(scope, { image: req.name, format: req.format, size: req.size })
          .run('upload_image', (s) => this.run(s, scope, req));
      }),
    );
  }

  /** The upload of `image`, while it receives data here. */
  view(scope: ProjectScope, image: string): UploadView {
    return this.receiving(scope, image).view();
  }

  /**
   * Data of the upload of `image`, from `offset` (which must be where it is): written as it arrives. A transfer
   * that breaks keeps what was written; GET says from where to go on. The request that brings the last byte
   * waits for the checksum: a wrong one is its error, and the upload is rolled back. A client that hashed the
   * file while sending it gives the SHA-256 with its data (`sha256`, at the latest with the last byte).
   */
  async receive(
    scope: ProjectScope,
    image: string,
    offset: number,
    body: Readable,
    sha256?: string,
  ): Promise<UploadView> {
    const u = this.receiving(scope, image);
    if (sha256 !== undefined) {
      const announced = u.request.sha256?.toLowerCase();
      if (announced && announced !== sha256.toLowerCase()) {
        throw new BadImageFileError(`Upload-Sha256 ${sha256} is not the SHA-256 announced (${announced})`);
      }
      u.lateSha256 = sha256;
    }
    if (u.digest !== undefined) {
      // all of it arrived already (a client that lost the last answer asks again): where it is, or no more
      if (offset === u.request.size && (await isEmpty(body))) return u.view();
      throw new UploadNotReceivingError(`All the data of ${image} has arrived; it is being made into an image`);
    }
    if (u.busy) throw new UploadNotReceivingError(`Another request is sending the data of ${image}`);
    if (offset !== u.received) throw new UploadOffsetError(image, u.received);
    const sending = this.take(u, image, body);
    u.sending = sending;
    try {
      await sending;
    } finally {
      u.sending = null;
      u.lastActivity = Date.now();
    }
    if (u.received === u.request.size) {
      u.complete();
      await u.finished;
    }
    return u.view();
  }

  /**
   * Writes the body where the upload is, in pieces, up to WRITE_DEPTH of them in flight (librbd spreads them
   * over the OSDs); the hash and `received` follow what was written, in order. A piece that fails ends the
   * request once the others in flight have settled: `received` is where a resume goes on from.
   */
  private async take(u: Upload, image: string, body: Readable): Promise<void> {
    await u.ready;
    const inflight: { data: Buffer; written: Promise<void> }[] = [];
    let next = u.received;
    let pieces: Buffer[] = [];
    let length = 0;
    const settleOldest = async () => {
      const w = inflight.shift()!;
      await w.written;
      u.hash.update(w.data);
      u.received += w.data.length;
      u.lastActivity = Date.now();
      u.report(u.received, u.request.size);
    };
    const flush = async () => {
      if (!length) return;
      const data = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, length);
      pieces = [];
      length = 0;
      if (u.closed) throw new UploadNotReceivingError(`The upload of ${image} has ended`);
      const at = next;
      next += data.length;
      // zeros need no writing: the new image (and a hole of the staging file) reads as zeros already
      const written = isZeros(data)
        ? Promise.resolve()
        : u.writer
          ? u.writer.write(at, data)
          : writeAt(u.staged!, data, at);
      written.catch(() => undefined);
      inflight.push({ data, written });
      if (inflight.length >= WRITE_DEPTH) await settleOldest();
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (next + length + chunk.length > u.request.size) {
          throw new UploadTooLargeError(`The upload of ${image} announced ${u.request.size} bytes; more came`);
        }
        pieces.push(chunk);
        length += chunk.length;
        if (length >= PIECE) await flush();
      }
      await flush();
      while (inflight.length) await settleOldest();
    } finally {
      // nothing left writing when the request ends (the writer may be closed next)
      await Promise.allSettled(inflight.map((w) => w.written));
    }
  }

  /** Stops the upload of `image` while it receives data: it is rolled back. */
  abort(scope: ProjectScope, image: string): void {
    const u = this.receiving(scope, image);
    if (u.digest !== undefined) {
      throw new UploadNotReceivingError(`All the data of ${image} has arrived; it is being made into an image`);
    }
    u.fail(new BadImageFileError(`The upload of ${image} was cancelled`));
  }

  beforeApplicationShutdown(): void {
    // an upload cannot finish without its client: rolled back now rather than left to recovery
    for (const u of this.uploads.values()) {
      if (!u.digest) u.fail(new UploadNotReceivingError('BMI is stopping'));
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async run(s: Saga, scope: ProjectScope, req: UploadRequest): Promise<void> {
    const { project } = scope;
    const u = new Upload(currentOperationId() ?? '', project.name, req, progressReporter());
    this.uploads.set(this.key(project.name, req.name), u);
    try {
      const row = await this.catalog.reserve(
        s,
        { name: req.name, projectId: project.id, parentId: null, isSnapshot: false, isPublic: false },
        project.name,
      );
      const ceph = this.catalog.cephName(row);
      const source = `upload of ${req.name}`;
      const file = path.join(await this.stagingDir(), `${u.operation}.qcow2`);
      try {
        if (req.format === 'raw') {
          await s.step(this.steps.createImage(ceph, req.size, source));
          u.writer = await this.storage.openWriter(ceph);
        } else {
          await s.step({
            name: `stage ${path.basename(file)}`,
            run: async () => void (u.staged = await open(file, 'wx', 0o600)),
            undo: { type: 'upload.staging.remove', args: { file } },
          });
        }
        u.markReady();
      } catch (e) {
        u.markReady(e);
        throw e;
      }
      await s.step({
        name: `receive ${req.size} bytes`,
        run: async () => {
          await u.finished;
          await this.closeTarget(u);
          if (req.format === 'raw') await this.storage.setMetadata(ceph, { [SHA256_KEY]: u.digest! });
        },
        undo:
          req.format === 'raw'
            ? { type: 'rbd.remove', args: { image: ceph } }
            : { type: 'upload.staging.remove', args: { file } },
      });
      if (req.format === 'qcow2') {
        const size = await this.virtualSize(file);
        await this.checkQuota(scope, size, req.name);
        await s.step(this.steps.createImage(ceph, size, source));
        await s.step({
          name: `convert ${path.basename(file)} into ${ceph}`,
          run: async () => {
            await this.convert(file, ceph, u.report);
            await this.storage.setMetadata(ceph, { [SHA256_KEY]: u.digest! });
          },
          undo: { type: 'rbd.remove', args: { image: ceph } },
        });
        await s.step({
          name: `remove ${path.basename(file)}`,
          run: () => rm(file, { force: true }),
          undo: { type: 'upload.staging.remove', args: { file } },
        });
      }
      await s.step(this.steps.protectedSnapshot(ceph));
    } finally {
      u.markReady(new UploadNotReceivingError(`The upload of ${req.name} has ended`));
      this.uploads.delete(this.key(project.name, req.name));
      await this.closeTarget(u).catch(() => undefined);
    }
  }

  /** Closes what the data went to, once the request writing to it (if any) has stopped. */
  private async closeTarget(u: Upload): Promise<void> {
    u.closed = true;
    await u.sending?.catch(() => undefined);
    const { writer, staged } = u;
    u.writer = undefined;
    u.staged = undefined;
    await writer?.close();
    await staged?.close();
  }

  /** `qemu-img info`: a qcow2 file without a backing file (which could name any file of this host); its size. */
  private async virtualSize(file: string): Promise<number> {
    const { stdout } = await this.qemuImg(['info', '--output=json', '-f', 'qcow2', file]);
    let info: {
      format?: string;
      'virtual-size'?: number;
      'backing-filename'?: string;
      'format-specific'?: { data?: { 'data-file'?: string } };
    };
    try {
      info = JSON.parse(stdout) as typeof info;
    } catch {
      throw new BadImageFileError('qemu-img could not read the file as qcow2');
    }
    if (info.format !== 'qcow2') throw new BadImageFileError('The file is not a qcow2 image');
    if (info['backing-filename'] || info['format-specific']?.data?.['data-file']) {
      throw new BadImageFileError('A qcow2 image with a backing or external data file is refused');
    }
    const size = info['virtual-size'];
    if (typeof size !== 'number' || size <= 0) throw new BadImageFileError('The qcow2 image has no size');
    if (size > this.config.upload.maxBytes) {
      throw new UploadTooLargeError(`The qcow2 image is of ${size} bytes, more than an image may be uploaded of`);
    }
    return size;
  }

  /** `qemu-img convert` into the RBD image made for it (-n: not created by qemu-img), with its progress. */
  private async convert(file: string, ceph: string, report: (done: number, total: number) => void): Promise<void> {
    const fs = this.config.fs;
    // qemu-img's rbd: filename; its separators (":", "@", "\\", ",") must not appear in the values
    const values = [fs.pool, ceph, fs.id, fs.confFile, fs.keyring];
    if (values.some((v) => /[:@\\,]/.test(v))) {
      throw new StorageFailedError('The Ceph settings ([fs] pool, id, conf_file, keyring) cannot be given to qemu-img');
    }
    const target = [`rbd:${fs.pool}/${ceph}`, `id=${fs.id}`, `conf=${fs.confFile}`];
    if (fs.keyring) target.push(`keyring=${fs.keyring}`);
    report(0, 100);
    try {
      // -n: into the image made for it, which reads as zeros already; as long as a large image takes
      await this.runner.run(
        [
          this.config.upload.qemuImg,
          'convert',
          '-n',
          '--target-is-zero',
          '-f',
          'qcow2',
          '-O',
          'raw',
          file,
          target.join(':'),
        ],
        { timeoutMs: 6 * 3600_000 },
      );
    } catch (e) {
      // the file was read fine by qemu-img info: a failure here is Ceph's or this host's, not the tenant's (and
      // its message names the Ceph settings: not for a client)
      throw new StorageFailedError(`qemu-img could not convert the upload into ${ceph}`, { cause: e });
    }
    report(100, 100);
  }

  private async qemuImg(args: string[], timeoutMs = 60_000) {
    try {
      return await this.runner.run([this.config.upload.qemuImg, ...args], { timeoutMs });
    } catch (e) {
      if (e instanceof CommandFailedError && e.exitCode !== EXIT_NOT_STARTED) {
        throw new BadImageFileError(`qemu-img refused the file: ${e.message}`);
      }
      throw e;
    }
  }

  /** `[upload] images_per_project` and `bytes_per_project`, with `size` more bytes (and one more image). */
  private async checkQuota(scope: ProjectScope, size: number, self?: string): Promise<void> {
    const { imagesPerProject, bytesPerProject } = this.config.upload;
    if (!imagesPerProject && !bytesPerProject) return;
    const images = (await this.catalog.listProject(scope.project.id)).filter(
      (r) => this.catalog.kind(r) !== 'disk' && r.name !== self,
    );
    if (imagesPerProject && images.length + 1 > imagesPerProject) {
      throw new QuotaExceededError(`Project ${scope.project.name} may hold ${imagesPerProject} images`);
    }
    if (bytesPerProject) {
      let used = 0;
      for (const r of images) used += await this.storage.imageSize(this.catalog.cephName(r)).catch(() => 0);
      if (used + size > bytesPerProject) {
        throw new QuotaExceededError(
          `Project ${scope.project.name} holds ${used} bytes of images; ${size} more would pass its ${bytesPerProject}`,
        );
      }
    }
  }

  private receiving(scope: ProjectScope, image: string): Upload {
    const u = this.uploads.get(this.key(scope.project.name, image));
    if (u) return u;
    throw new UploadNotReceivingError(`No upload of ${image} is receiving data here`);
  }

  private abandonIdle(): void {
    const limit = Date.now() - this.config.upload.idleSeconds * 1000;
    for (const u of this.uploads.values()) {
      if (!u.busy && !u.digest && u.lastActivity < limit) {
        u.fail(
          new UploadNotReceivingError(`No data for ${this.config.upload.idleSeconds} s: the upload was abandoned`),
        );
      }
    }
  }

  /**
   * `[upload] staging_dir` (made 0700 if missing), or else a directory of this process's own in the temp dir
   * (mkdtemp: a name no other user can have taken beforehand).
   */
  private stagingDir(): Promise<string> {
    this.staging ??= (async () => {
      const configured = this.config.upload.stagingDir;
      if (!configured) return mkdtemp(path.join(tmpdir(), 'bmi-uploads-'));
      await mkdir(configured, { recursive: true, mode: 0o700 });
      return configured;
    })();
    return this.staging;
  }

  private key(project: string, image: string): string {
    return `${project}/${image}`;
  }
}

const ZEROS = Buffer.alloc(PIECE);

/** Whether `data` holds zeros only (compared natively, a piece at a time). */
function isZeros(data: Buffer): boolean {
  for (let at = 0; at < data.length; at += PIECE) {
    const part = data.subarray(at, at + PIECE);
    if (part.compare(ZEROS, 0, part.length) !== 0) return false;
  }
  return true;
}

/** Writes all of `data` at `position` of the file (a short write is continued, never taken for the whole). */
async function writeAt(file: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let at = 0; at < data.length;) {
    const { bytesWritten } = await file.write(data, at, data.length - at, position + at);
    at += bytesWritten;
  }
}

/** Whether a request body is empty (read to its end). */
async function isEmpty(body: Readable): Promise<boolean> {
  let empty = true;
  for await (const chunk of body as AsyncIterable<Buffer>) if (chunk.length) empty = false;
  return empty;
}
