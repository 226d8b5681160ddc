import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { FileHandle, open } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { cancelUpload, getOperation, getUpload, sendUploadData, type UploadFormat, uploadImage } from '@bmi/client';
import { CliError, EXIT, ServerError, UnreachableError } from '../errors';
import type { Output } from '../output';
import { OPERATION_COLUMNS, Session } from '../session';

/**
 * Data goes in PUTs that should take about PART_SECONDS each at the rate seen so far (from 1 to 64 MiB, 8 MiB
 * first): each well within BMI's time for one request ([rest_api] request_timeout_seconds, 30 s by default)
 * on a slow link as on a fast one, and the unit of a resume.
 */
const PART_SECONDS = 8;
const MIN_PART = 1024 * 1024;
const MAX_PART = 64 * 1024 * 1024;
/** A PUT that fails for want of BMI (or of the network) is tried again from where BMI says, this many times. */
const RETRIES = 5;
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

function format(value: string): UploadFormat | 'auto' {
  if (!['raw', 'qcow2', 'auto'].includes(value)) throw new InvalidArgumentError('expected raw, qcow2 or auto.');
  return value as UploadFormat | 'auto';
}

/** `bmi image upload`: a local raw or qcow2 file into a new golden image of the project. */
export function addUploadCommands(program: Command, s: Session): void {
  const image = program.command('image').description('golden images from files');
  image
    .command('upload')
    .hook('preAction', () => s.print.check(OPERATION_COLUMNS))
    .description(
      'upload a raw or qcow2 file as a new golden image: its SHA-256 is checked by BMI, a broken transfer goes on ' +
        'where it stopped, and a failure leaves nothing behind; prints the operation (--wait: until it ends)',
    )
    .argument('<project>')
    .argument('<name>', 'name of the new golden image')
    .argument('<file>', 'the raw or qcow2 file')
    .option('--format <format>', 'raw, qcow2 or auto (by the file’s first bytes; the default)', format)
    .option('--wait', 'wait until the image is made (a qcow2 file is converted after its upload)')
    .action(
      async (project: string, name: string, file: string, o: { format?: UploadFormat | 'auto'; wait?: boolean }) => {
        const handle = await open(file, 'r').catch((e: Error) => {
          throw new CliError(`Error: cannot read ${file}: ${e.message}`, EXIT.USAGE);
        });
        try {
          const { size } = await handle.stat();
          if (size === 0) throw new CliError(`Error: ${file} is empty`, EXIT.USAGE);
          const head = Buffer.alloc(4);
          await handle.read(head, 0, 4, 0);
          const kind = !o.format || o.format === 'auto' ? (head.equals(QCOW2_MAGIC) ? 'qcow2' : 'raw') : o.format;
          // the SHA-256 is made while the file is sent (one read of it), and given with the last part
          const op = await s.call((client) =>
            uploadImage({ client, path: { project }, body: { name, format: kind, size } }),
          );
          const bar = new BytesLine(s.stderr, size);
          try {
            await sendAll(s, handle, file, project, name, size, (done) => bar.update(done));
          } catch (e) {
            // nothing of it is kept: cancelled now rather than when BMI gives up on it
            await s.call((client) => cancelUpload({ client, path: { project, image: name } })).catch(() => undefined);
            throw e;
          } finally {
            bar.end();
          }
          await s.operation((client) => getOperation({ client, path: { project, operation: op.id } }), o.wait);
        } finally {
          await handle.close();
        }
      },
    );
}

/**
 * Sends the file from where BMI's upload is. A PUT that fails for want of BMI or of the network is followed by
 * asking BMI where the upload is, and the data goes on from there; RETRIES failures in a row end it.
 */
async function sendAll(
  s: Session,
  handle: FileHandle,
  file: string,
  project: string,
  image: string,
  size: number,
  onProgress: (done: number) => void,
): Promise<void> {
  let offset = 0;
  let failures = 0;
  let part = 8 * 1024 * 1024;
  // the bytes hashed so far, in order: a resume from further back (rare) makes the last part read the file again
  const hash = createHash('sha256');
  let hashed = 0;
  while (offset < size) {
    const data = Buffer.allocUnsafe(Math.min(part, size - offset));
    await handle.read(data, 0, data.length, offset);
    const last = offset + data.length === size;
    const inOrder = offset === hashed;
    // the last part carries the SHA-256 (of a copy: the part may be sent again); the others are hashed while
    // they are on their way
    const sha256 = last ? (inOrder ? hash.copy().update(data).digest('hex') : await digest(file)) : undefined;
    const started = Date.now();
    try {
      const sending = s.call((client) =>
        sendUploadData({
          client,
          path: { project, image },
          headers: { 'Upload-Offset': String(offset), ...(sha256 ? { 'Upload-Sha256': sha256 } : {}) },
          // the bytes as they are: fetch sends a Uint8Array in one piece, where a Blob goes through a web stream
          // (several times slower); the SDK's type says Blob, its serializer passes the body through
          body: data as unknown as Blob,
        }),
      );
      if (!last && inOrder) {
        hash.update(data);
        hashed += data.length;
      }
      const at = await sending;
      offset = at.received;
      failures = 0;
      const rate = data.length / Math.max(0.001, (Date.now() - started) / 1000);
      part = Math.max(MIN_PART, Math.min(MAX_PART, Math.round(rate * PART_SECONDS)));
      onProgress(offset);
    } catch (e) {
      if (!transient(e) || ++failures > RETRIES) throw e;
      await new Promise((r) => setTimeout(r, 1000 * failures));
      // where BMI is (asked again as long as BMI cannot be reached); a PUT that was still being written is
      // waited for (409), and an upload that got all its data is done
      for (;;) {
        try {
          offset = (await s.call((client) => getUpload({ client, path: { project, image } }))).received;
          break;
        } catch (again) {
          if (again instanceof ServerError && again.code === 'UPLOAD_NOT_RECEIVING' && offset + data.length >= size) {
            return;
          }
          if (!(transient(again) || again instanceof ServerError) || ++failures > RETRIES) throw again;
          await new Promise((r) => setTimeout(r, 1000 * failures));
        }
      }
    }
  }
}

/** BMI could not be reached, or failed for a moment: worth trying again. */
function transient(e: unknown): boolean {
  return e instanceof UnreachableError || (e instanceof ServerError && (e.status >= 500 || e.status === 408));
}

function digest(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * The bytes sent, on stderr, redrawn in place on a terminal: `[#####.....]  45%  1.2 GiB of 2.0 GiB  85 MiB/s
 * ETA 10 s`; nothing on a pipe.
 */
class BytesLine {
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly err: Output,
    private readonly total: number,
  ) {}

  update(done: number): void {
    if (!this.err.isTTY) return;
    const share = Math.min(1, done / this.total);
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? `  ETA ${Math.ceil((this.total - done) / rate)} s` : '';
    const bar = `[${'#'.repeat(Math.round(share * 30)).padEnd(30, '.')}]`;
    this.err.write(
      `\r\x1b[2K${bar} ${String(Math.round(share * 100)).padStart(3)}%  ${bytes(done)} of ${bytes(this.total)}  ` +
        `${bytes(rate)}/s${eta}`,
    );
    this.drawn = true;
  }

  end(): void {
    if (this.drawn) this.err.write('\n');
  }
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
