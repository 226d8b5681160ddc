import { Command } from 'commander';
import { listOf, plain, tuplesOf } from '../format';
import { Session } from '../session';

/** The project member's commands: images, disks and snapshots (the original's REST commands). */
export function addImageCommands(program: Command, s: Session): void {
  program
    .command('ls')
    .description("list the project's golden images")
    .argument('<project>')
    .action((project: string) => s.send('POST', 'list_images/', { project }, listOf('Image')));

  program
    .command('rm')
    .description('remove a golden image or a snapshot')
    .argument('<project>')
    .argument('<img>', 'the image to remove')
    .action((project: string, img: string) => s.send('DELETE', 'remove_image/', { project, img }, plain));

  program
    .command('showdisks')
    .description("list the project's disks and the image each was cloned from")
    .argument('<project>')
    .action((project: string) => s.send('POST', 'list_disks/', { project }, tuplesOf(['Disk', 'Source Image'])));

  const disk = program.command('disk').description('create and delete disks (clones that nodes boot from)');
  disk
    .command('create')
    .description('clone an image into a new disk exported over iSCSI; prints the iSCSI target name')
    .argument('<project>')
    .argument('<img>', 'the golden image or snapshot to clone')
    .argument('<disk_name>', 'name of the new disk')
    .action((project: string, img: string, diskName: string) =>
      s.send('PUT', 'create_disk', { project, disk_name: diskName, img }, plain),
    );
  disk
    .command('delete')
    .description('delete a disk: its iSCSI target, its clone and its record')
    .argument('<project>')
    .argument('<disk_name>')
    .action((project: string, diskName: string) =>
      s.send('DELETE', 'delete_disk', { project, disk_name: diskName }, plain),
    );

  const snap = program.command('snap').description('create, list and remove snapshots');
  snap
    .command('create')
    .description(
      'save a disk as a new image. Power the node off first: the snapshot is taken as the disk is, ' +
        'so with the node running it is only crash-consistent',
    )
    .argument('<project>')
    .argument('<disk_name>', 'the disk to snapshot')
    .argument('<snap_name>', 'name of the new snapshot')
    .action((project: string, diskName: string, snapName: string) =>
      s.send('PUT', 'create_snapshot/', { project, disk_name: diskName, snap_name: snapName }, plain),
    );
  snap
    .command('ls')
    .description("list the project's snapshots and their parent images")
    .argument('<project>')
    .action((project: string) => s.send('POST', 'list_snapshots/', { project }, tuplesOf(['Snapshot', 'Parent'])));
  snap
    .command('rm')
    .description('remove a snapshot')
    .argument('<project>')
    .argument('<snap_name>')
    .action((project: string, snapName: string) =>
      s.send('DELETE', 'remove_image/', { project, img: snapName }, plain),
    );
}
