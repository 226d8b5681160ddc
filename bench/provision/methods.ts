/**
 * The three ways the benchmark provisions a node, each as the same four calls on one disk and one node:
 *   floor     BMI's own librbd calls (clone, the marks in one metadata call, remove) on one long-lived
 *             connection, tgtadm's target/LUN/bind calls and the delete, and the two boot files: no HTTP, no DB,
 *             no framework, no HIL.
 *   original  the original BMI's method (reference §5.1): `rbd` CLI processes, a tgt conf file per target with
 *             `tgt-admin -s` before and `tgt-admin --execute` / `tgt-admin --delete` after, the boot files.
 *   BMI       BMI's legacy REST API, as the MOC portal calls it (HIL lookups included).
 */
import { execFile } from 'node:child_process';
import { unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as rbd from 'ceph-rbd-napi';
import { ALICE, Rig } from './rig';

const run = promisify(execFile);

export type Call = 'create_disk' | 'provision' | 'deprovision' | 'delete_disk';
export const CALLS: Call[] = ['create_disk', 'provision', 'deprovision', 'delete_disk'];

/** One way of doing the four calls, for disk `disk` on node number `node`. */
export interface Method {
  name: string;
  call(call: Call, disk: string, node: number): Promise<void>;
}

export const GOLDEN = 'gold';
const SNAP = 'bmi_snapshot';

function bootFiles(rig: Rig, node: number): { ipxe: string; pxelinux: string } {
  const mac = `52-54-00-be-${(node >> 8).toString(16).padStart(2, '0')}-${(node & 255).toString(16).padStart(2, '0')}`;
  return {
    ipxe: path.join(rig.dir, 'floor-tftp', `${rig.nodes[node]}.ipxe`),
    pxelinux: path.join(rig.dir, 'floor-tftp', `01-${mac}`),
  };
}

async function writeBootFiles(rig: Rig, node: number, target: string): Promise<void> {
  const files = bootFiles(rig, node);
  const [ip, port] = rig.tgt.portal.split(':');
  await writeFile(
    files.ipxe,
    `#!ipxe\nset keep-san 1\nifconf --configurator=dhcp net0\nsanboot --keep iscsi:${ip}:tcp:${port}:1:${target}\nboot\n`,
  );
  await writeFile(
    files.pxelinux,
    `DEFAULT ipxe\nLABEL ipxe\n  KERNEL ipxe.lkrn\n  APPEND dhcp && chain ${rig.nodes[node]}.ipxe\n`,
  );
}

async function removeBootFiles(rig: Rig, node: number): Promise<void> {
  const files = bootFiles(rig, node);
  await unlink(files.ipxe);
  await unlink(files.pxelinux);
}

/** The floor: one librbd connection, tgtadm argv calls with tids this process hands out, plain file writes. */
export async function floor(
  rig: Rig,
  io: rbd.IoCtx,
  goldenImage: string,
): Promise<Method & { parts: Record<string, number[]> }> {
  const parts: Record<string, number[]> = {};
  const part = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    const result = await fn();
    (parts[name] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6);
    return result;
  };
  const tids = new Map<string, number>();
  // tids of its own, clear of BMI's (the lowest free ones) and of the scale test's others (1000…)
  let nextTid = 5000;
  const tgtadm = (...args: string[]) => run('tgtadm', ['-C', String(rig.tgt.controlPort), '--lld', 'iscsi', ...args]);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.join(rig.dir, 'floor-tftp'), { recursive: true });
  return {
    name: 'floor',
    parts,
    async call(call, disk, node) {
      const image = `floor-${disk}`;
      if (call === 'create_disk') {
        await part('clone', () => io.clone(goldenImage, SNAP, image, { format: 1, features: rbd.Features.LAYERING }));
        await part('marks (one metadata call)', () =>
          io.metadataSetMany(image, { 'bmi.uid': rig.uid, 'bmi.operation': disk, 'bmi.source': goldenImage }),
        );
        const tid = nextTid++;
        tids.set(image, tid);
        await part('tgtadm target new', () =>
          tgtadm('--mode', 'target', '--op', 'new', '--tid', String(tid), '--targetname', image),
        );
        await part('tgtadm LUN new (tgtd opens the image)', () =>
          tgtadm(
            ...['--mode', 'logicalunit', '--op', 'new', '--tid', String(tid), '--lun', '1', '--bstype', 'rbd'],
            ...['--backing-store', `${rig.ceph.pool}/${image}`, '--bsopts', `conf=${rig.ceph.conf};id=${rig.ceph.id}`],
          ),
        );
        await part('tgtadm bind', () =>
          tgtadm('--mode', 'target', '--op', 'bind', '--tid', String(tid), '--initiator-address', 'ALL'),
        );
      } else if (call === 'provision') {
        await writeBootFiles(rig, node, image);
      } else if (call === 'deprovision') {
        await removeBootFiles(rig, node);
      } else {
        await part('tgtadm target delete', () =>
          tgtadm('--mode', 'target', '--op', 'delete', '--force', '--tid', String(tids.get(image))),
        );
        tids.delete(image);
        await part('remove', () => io.remove(image));
      }
    },
  };
}

/**
 * The original's method, one call at a time (its tgt-admin runs over the whole conf directory, so concurrent
 * calls would trip over each other).
 */
export async function original(rig: Rig, goldenImage: string): Promise<Method> {
  const { mkdir } = await import('node:fs/promises');
  const confDir = path.join(rig.dir, 'tgt-conf.d');
  await mkdir(confDir, { recursive: true });
  const targetsConf = path.join(rig.dir, 'targets.conf');
  await writeFile(targetsConf, `include ${confDir}/*.conf\n`);
  const ceph = ['--conf', rig.ceph.conf, '--id', rig.ceph.id, '--keyring', rig.ceph.keyring];
  const tgtAdmin = (...args: string[]) => run('tgt-admin', ['-C', String(rig.tgt.controlPort), ...args]);
  const listed = async (name: string) =>
    (await tgtAdmin('-s')).stdout.split('\n').some((l) => /^Target \d+:/.test(l) && l.split(':')[1].trim() === name);
  return {
    name: 'original',
    async call(call, disk, node) {
      const image = `orig-${disk}`;
      if (call === 'create_disk') {
        await run('rbd', ['clone', ...ceph, `${rig.ceph.pool}/${goldenImage}@${SNAP}`, `${rig.ceph.pool}/${image}`]);
        if (await listed(image)) throw new Error(`target ${image} exists`);
        await writeFile(
          path.join(confDir, `${image}.conf`),
          [
            `<target ${image}>`,
            '    driver iscsi',
            '    bs-type rbd',
            `    backing-store ${rig.ceph.pool}/${image}`,
            `    bsopts "conf=${rig.ceph.conf};id=${rig.ceph.id}"`,
            '    write-cache off',
            '    initiator-address ALL',
            '</target>',
            '',
          ].join('\n'),
        );
        await tgtAdmin('-c', targetsConf, '--execute');
      } else if (call === 'provision') {
        await writeBootFiles(rig, node, image);
      } else if (call === 'deprovision') {
        await removeBootFiles(rig, node);
      } else {
        if (!(await listed(image))) throw new Error(`target ${image} does not exist`);
        await unlink(path.join(confDir, `${image}.conf`));
        await tgtAdmin('-c', targetsConf, '-f', '--delete', image);
        await run('rbd', ['rm', '--no-progress', ...ceph, `${rig.ceph.pool}/${image}`]);
      }
    },
  };
}

const auth = (user: [string, string]) => `Basic ${Buffer.from(user.join(':')).toString('base64')}`;

/** One legacy API request as the portal sends it (form fields); throws unless it answers 200. */
export async function legacy(
  rig: Rig,
  method: string,
  route: string,
  fields: Record<string, string>,
  user = ALICE,
): Promise<string> {
  const res = await fetch(`${rig.url}/${route}`, {
    method,
    headers: { authorization: auth(user), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ project: 'proj1', ...fields }).toString(),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${route} answered ${res.status}: ${text}`);
  return text;
}

export function bmiLegacy(rig: Rig, goldenName: string): Method {
  return {
    name: 'BMI legacy API',
    async call(call, disk, node) {
      const n = rig.nodes[node];
      if (call === 'create_disk') await legacy(rig, 'PUT', 'create_disk', { disk_name: disk, img: goldenName });
      else if (call === 'provision') await legacy(rig, 'PUT', 'provision', { node: n, disk_name: disk, nic: 'eth0' });
      else if (call === 'deprovision') await legacy(rig, 'DELETE', 'deprovision', { node: n, nic: 'eth0' });
      else await legacy(rig, 'DELETE', 'delete_disk', { disk_name: disk });
    },
  };
}
