import type { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import type { TgtIscsiTargetDriver } from '../../src/modules/iscsi/drivers/tgt-iscsi-target.driver';

/**
 * Removes everything a test run made under its uid: its targets, then its images with their snapshots (clones
 * before their parents: a few passes). Says what it could not remove.
 */
export async function purgeRun(
  uid: string,
  tgt: TgtIscsiTargetDriver,
  ceph: CephRbdStorage | undefined,
): Promise<void> {
  for (const t of await tgt.listTargets()) if (t.image.startsWith(uid)) await tgt.removeTarget(t.name);
  if (!ceph) return;
  const ours = async () => (await ceph.listImages()).filter((i) => i.startsWith(uid));
  for (let pass = 0; pass < 4 && (await ours()).length; pass++) {
    for (const image of await ours()) {
      try {
        for (const snap of await ceph.listSnapshots(image)) {
          if (snap.protected) await ceph.unprotectSnapshot(image, snap.name);
          await ceph.removeSnapshot(image, snap.name);
        }
        await ceph.removeImage(image);
      } catch {
        // a parent whose clones go in this pass: the next pass removes it
      }
    }
  }
  const left = await ours();
  if (left.length) process.stdout.write(`left in the pool: ${left.join(', ')}\n`);
}
