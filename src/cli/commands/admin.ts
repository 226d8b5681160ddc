import { Command, InvalidArgumentError } from 'commander';
import { UsageError } from '../errors';
import { entriesOf, plain, recordsOf } from '../format';
import type { ImageFilter } from '../../modules/images/images.service';
import { Session } from '../session';

/** A row id given on the command line. */
function positiveInt(value: string): string {
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new InvalidArgumentError('expected a positive whole number.');
  return value;
}

const projectRows = recordsOf(['Id', 'Name'], ['id', 'name']);

/** A flag is sent as "true" when given and left out otherwise. */
function flag(on: boolean | undefined): string | undefined {
  return on ? 'true' : undefined;
}

/** The admin commands the original ran in-process on the BMI host; here they go to the server too. */
export function addAdminCommands(program: Command, s: Session): void {
  addProjectCommands(program, s);
  addDbCommands(program, s);
  addImageAdminCommands(program, s);
  addIscsiCommands(program, s);
}

function addProjectCommands(program: Command, s: Session): void {
  const project = program.command('project').description('manage BMI projects (admin)');
  project
    .command('ls')
    .description('list the projects')
    .action(() => s.send('POST', 'list_projects/', { project: s.adminProject() }, projectRows));
  project
    .command('create')
    .description('add a project (named as in HIL); prints its row')
    .argument('<project>')
    .option('--id <n>', 'explicit project id', positiveInt)
    .action((name: string, opts: { id?: string }) =>
      s.send('PUT', 'add_project/', { project: s.adminProject(), name, id: opts.id }, projectRows),
    );
  project
    .command('rm')
    .description('delete a project; it must have no images left')
    .argument('<project>')
    .action((name: string) => s.send('DELETE', 'delete_project/', { project: s.adminProject(), name }, plain));
}

/** `bmi db ls` filters exactly as list_all_images does. */
type DbLsOptions = ImageFilter;

function addDbCommands(program: Command, s: Session): void {
  const db = program.command('db').description('inspect and edit the image records directly (admin)');
  db.command('ls')
    .description(
      'list the image records of every project. -s, -c and -p select kinds (any of them; all kinds when none ' +
        'is given); --project, --name and --ceph must all match when given',
    )
    .option('-s, --snapshots', 'snapshots')
    .option('-c, --clones', 'clones (disks)')
    .option('-p, --public', 'public images')
    .option('--project <project>', 'only this project')
    .option('--name <name>', 'only this image name')
    .option('--ceph <ceph>', 'only this Ceph image name')
    .action((o: DbLsOptions) =>
      s.send(
        'POST',
        'list_all_images/',
        {
          project: s.adminProject(),
          snapshots: flag(o.snapshots),
          clones: flag(o.clones),
          public: flag(o.public),
          filter_project: o.project,
          filter_name: o.name,
          filter_ceph: o.ceph,
        },
        recordsOf(
          ['Id', 'Name', 'Project', 'Ceph', 'Public', 'Snapshot', 'Parent'],
          ['id', 'name', 'project', 'cephName', 'isPublic', 'isSnapshot', 'parent'],
        ),
      ),
    );
  db.command('create')
    .description('add an image record only (nothing is created in Ceph); prints the new id')
    .argument('<project>')
    .argument('<img>')
    .option('--id <n>', 'explicit id (the Ceph image is then <uid>img<id>)', positiveInt)
    .option('--snap', 'the image is a snapshot')
    .option('--parent <name>', 'parent image, in the same project')
    .option('--public', 'the image is public')
    .action((project: string, img: string, o: { id?: string; snap?: boolean; parent?: string; public?: boolean }) =>
      s.send(
        'PUT',
        'add_image/',
        { project, img, id: o.id, snap: flag(o.snap), parent: o.parent, public: flag(o.public) },
        plain,
      ),
    );
  db.command('rm')
    .description('delete an image record only (Ceph is left alone)')
    .argument('<project>')
    .argument('<img>')
    .action((project: string, img: string) => s.send('DELETE', 'delete_image/', { project, img }, plain));
}

function addImageAdminCommands(program: Command, s: Session): void {
  program
    .command('import')
    .description('import a raw Ceph image of the pool (or one of its snapshots) as a golden image of the project')
    .argument('<project>')
    .argument('<img>', 'the Ceph image; it also becomes the image name')
    .option('--snap <snapname>', 'import this existing snapshot of the image')
    .option('--protect', 'protect the snapshot for the import (with --snap)')
    .action((project: string, img: string, o: { snap?: string; protect?: boolean }) => {
      if (o.protect && o.snap === undefined) throw new UsageError('--protect is only meaningful with --snap');
      return s.send('PUT', 'import_image/', { project, img, snap: o.snap, protect: flag(o.protect) }, plain);
    });
  program
    .command('export')
    .description('copy an image out to a new, independent Ceph image of the pool')
    .argument('<project>')
    .argument('<img>')
    .argument('<name>', 'name of the new Ceph image')
    .action((project: string, img: string, name: string) =>
      s.send('PUT', 'export_image/', { project, img, name }, plain),
    );
  for (const [name, path, what] of [
    ['cp', 'copy_image/', 'copy an image (as a new, independent image)'],
    ['mv', 'move_image/', 'move or rename an image'],
  ] as const) {
    program
      .command(name)
      .description(`${what}, within the project, or into another project (admin)`)
      .argument('<src_project>')
      .argument('<img1>', 'the image')
      .argument('<dest_project>')
      .argument('[img2]', 'new name (default: the same name)')
      .action((project: string, img: string, dest: string, newName?: string) =>
        s.send('PUT', path, { project, img, dest_project: dest, new_name: newName }, plain),
      );
  }
}

function addIscsiCommands(program: Command, s: Session): void {
  const iscsi = program.command('iscsi').description('export images over iSCSI directly (admin)');
  iscsi
    .command('create')
    .description('export an image over iSCSI; prints the target name')
    .argument('<project>')
    .argument('<img>')
    .action((project: string, img: string) => s.send('PUT', 'mount_image/', { project, img }, plain));
  iscsi
    .command('rm')
    .description("remove an image's iSCSI target")
    .argument('<project>')
    .argument('<img>')
    .action((project: string, img: string) => s.send('DELETE', 'umount_image/', { project, img }, plain));
  iscsi
    .command('ls')
    .description("list the project's images exported over iSCSI")
    .argument('<project>')
    .action((project: string) => s.send('POST', 'show_mounted/', { project }, entriesOf(['Image', 'Target'])));
}
