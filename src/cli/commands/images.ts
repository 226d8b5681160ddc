import { Command } from 'commander';
import {
  createDisk,
  createSnapshot,
  deleteDisk,
  getDisk,
  getImage,
  listDisks,
  listImages,
  removeImage,
} from '@bmi/client';
import { OPERATION_COLUMNS, Session } from '../session';
import { DISK_COLUMNS, diskRow, everyItem, IMAGE_COLUMNS, imageRow } from './rows';

/** A project member's commands: images, disks and snapshots. */
export function addImageCommands(program: Command, s: Session): void {
  program
    .command('ls')
    .hook('preAction', () => s.print.check(IMAGE_COLUMNS))
    .description("list the project's golden images")
    .argument('<project>')
    .action(async (project: string) => {
      const images = await everyItem(
        s,
        (cursor) => (client) => listImages({ client, path: { project }, query: { kind: 'golden', cursor } }),
      );
      s.print.list(images.map(imageRow), IMAGE_COLUMNS);
    });

  program
    .command('show')
    .hook('preAction', () => s.print.check(IMAGE_COLUMNS))
    .description('show one golden image or snapshot')
    .argument('<project>')
    .argument('<img>')
    .action(async (project: string, image: string) =>
      s.print.one(imageRow(await s.call((client) => getImage({ client, path: { project, image } }))), IMAGE_COLUMNS),
    );

  program
    .command('rm')
    .description('remove a golden image or a snapshot')
    .argument('<project>')
    .argument('<img>', 'the image to remove')
    .action(async (project: string, image: string) => {
      await s.call((client) => removeImage({ client, path: { project, image } }));
      s.print.done();
    });

  program
    .command('showdisks')
    .hook('preAction', () => s.print.check(DISK_COLUMNS))
    .description("list the project's disks: the image each was cloned from, and its iSCSI target")
    .argument('<project>')
    .action(async (project: string) => {
      const disks = await everyItem(
        s,
        (cursor) => (client) => listDisks({ client, path: { project }, query: { cursor } }),
      );
      s.print.list(disks.map(diskRow), DISK_COLUMNS);
    });

  const disk = program.command('disk').description('create, show and delete disks (clones that nodes boot from)');
  disk
    .command('create')
    .hook('preAction', () => s.print.check(DISK_COLUMNS))
    .description('clone an image into a new disk exported over iSCSI; prints the disk and its target')
    .argument('<project>')
    .argument('<img>', 'the golden image or snapshot to clone')
    .argument('<disk_name>', 'name of the new disk')
    .action(async (project: string, image: string, name: string) =>
      s.print.one(
        diskRow(await s.call((client) => createDisk({ client, path: { project }, body: { name, image } }))),
        DISK_COLUMNS,
      ),
    );
  disk
    .command('show')
    .hook('preAction', () => s.print.check(DISK_COLUMNS))
    .description('show a disk and where initiators find its iSCSI target')
    .argument('<project>')
    .argument('<disk_name>')
    .action(async (project: string, name: string) =>
      s.print.one(diskRow(await s.call((client) => getDisk({ client, path: { project, disk: name } }))), DISK_COLUMNS),
    );
  disk
    .command('delete')
    .description('delete a disk: its iSCSI target, its clone and its record')
    .argument('<project>')
    .argument('<disk_name>')
    .action(async (project: string, name: string) => {
      await s.call((client) => deleteDisk({ client, path: { project, disk: name } }));
      s.print.done();
    });

  const snap = program.command('snap').description('create, list and remove snapshots');
  snap
    .command('create')
    .hook('preAction', () => s.print.check(OPERATION_COLUMNS))
    .description(
      'save a disk as a new image. Power the node off first: the snapshot is taken as the disk is, so with the ' +
        'node running it is only crash-consistent. An operation: --wait follows it to its end',
    )
    .argument('<project>')
    .argument('<disk_name>', 'the disk to snapshot')
    .argument('<snap_name>', 'name of the new snapshot')
    .option('--wait', 'wait until it ends, showing its progress')
    .action((project: string, disk: string, name: string, o: { wait?: boolean }) =>
      s.operation((client) => createSnapshot({ client, path: { project, disk }, body: { name } }), o.wait),
    );
  snap
    .command('ls')
    .hook('preAction', () => s.print.check(IMAGE_COLUMNS))
    .description("list the project's snapshots and the image each disk was cloned from")
    .argument('<project>')
    .action(async (project: string) => {
      const images = await everyItem(
        s,
        (cursor) => (client) => listImages({ client, path: { project }, query: { kind: 'snapshot', cursor } }),
      );
      s.print.list(images.map(imageRow), IMAGE_COLUMNS);
    });
  snap
    .command('rm')
    .description('remove a snapshot')
    .argument('<project>')
    .argument('<snap_name>')
    .action(async (project: string, image: string) => {
      await s.call((client) => removeImage({ client, path: { project, image } }));
      s.print.done();
    });
}
