import { Command, InvalidArgumentError } from 'commander';
import {
  addImageRecord,
  copyImage,
  createProject,
  deleteImageRecord,
  deleteProject,
  exportImage,
  importImage,
  listImageRecords,
  listProjects,
  listTargets,
  mountImage,
  moveImage,
  umountImage,
} from '@bmi/client';
import { UsageError } from '../errors';
import { OPERATION_COLUMNS, Session } from '../session';
import {
  everyItem,
  IMAGE_COLUMNS,
  imageRow,
  PROJECT_COLUMNS,
  projectRow,
  RECORD_COLUMNS,
  recordRow,
  TARGET_COLUMNS,
  targetRow,
} from './rows';

/** A row id given on the command line. */
function positiveInt(value: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new InvalidArgumentError('expected a positive whole number.');
  return Number(value);
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
    .hook('preAction', () => s.print.check(PROJECT_COLUMNS))
    .description('list the projects')
    .action(async () => {
      const projects = await everyItem(s, (cursor) => (client) => listProjects({ client, query: { cursor } }));
      s.print.list(projects.map(projectRow), PROJECT_COLUMNS);
    });
  project
    .command('create')
    .hook('preAction', () => s.print.check(PROJECT_COLUMNS))
    .description('add a project (named as in HIL)')
    .argument('<project>')
    .option('--id <n>', 'explicit project id', positiveInt)
    .action(async (name: string, o: { id?: number }) =>
      s.print.one(
        projectRow(await s.call((client) => createProject({ client, body: { name, id: o.id } }))),
        PROJECT_COLUMNS,
      ),
    );
  project
    .command('rm')
    .description('delete a project; it must have no images left')
    .argument('<project>')
    .action(async (name: string) => {
      await s.call((client) => deleteProject({ client, path: { project: name } }));
      s.print.done();
    });
}

interface DbLsOptions {
  snapshots?: boolean;
  clones?: boolean;
  public?: boolean;
  project?: string;
  name?: string;
  ceph?: string;
}

function addDbCommands(program: Command, s: Session): void {
  const db = program.command('db').description('inspect and edit the image records directly (admin)');
  db.command('ls')
    .hook('preAction', () => s.print.check(RECORD_COLUMNS))
    .description(
      'list the image records of every project. --snapshots, --clones and --public select kinds (any of them; ' +
        'all kinds when none is given); --project, --name and --ceph must all match when given',
    )
    .option('-s, --snapshots', 'snapshots')
    .option('--clones', 'clones (disks)')
    .option('-p, --public', 'public images')
    .option('--project <project>', 'only this project')
    .option('--name <name>', 'only this image name')
    .option('--ceph <ceph>', 'only this Ceph image name')
    .action(async (o: DbLsOptions) => {
      const records = await everyItem(
        s,
        (cursor) => (client) =>
          listImageRecords({ client, query: { project: o.project, name: o.name, ceph_name: o.ceph, cursor } }),
      );
      const kinds = o.snapshots || o.clones || o.public;
      const wanted = records.filter(
        (r) =>
          !kinds || (o.snapshots && r.kind === 'snapshot') || (o.clones && r.kind === 'disk') || (o.public && r.public),
      );
      s.print.list(wanted.map(recordRow), RECORD_COLUMNS);
    });
  db.command('create')
    .hook('preAction', () => s.print.check(RECORD_COLUMNS))
    .description('add an image record only (nothing is made in Ceph)')
    .argument('<project>')
    .argument('<img>')
    .option('--id <n>', 'explicit id (the Ceph image is then <uid>img<id>)', positiveInt)
    .option('--snap', 'the image is a snapshot')
    .option('--parent <name>', 'parent image, in the same project')
    .option('--public', 'the image is public')
    .action(
      async (project: string, name: string, o: { id?: number; snap?: boolean; parent?: string; public?: boolean }) =>
        s.print.one(
          recordRow(
            await s.call((client) =>
              addImageRecord({
                client,
                path: { project },
                body: { name, id: o.id, snapshot: o.snap, parent: o.parent, public: o.public },
              }),
            ),
          ),
          RECORD_COLUMNS,
        ),
    );
  db.command('rm')
    .description('delete an image record only (Ceph is left alone)')
    .argument('<project>')
    .argument('<img>')
    .action(async (project: string, image: string) => {
      await s.call((client) => deleteImageRecord({ client, path: { project, image } }));
      s.print.done();
    });
}

function addImageAdminCommands(program: Command, s: Session): void {
  program
    .command('import')
    .hook('preAction', () => s.print.check(OPERATION_COLUMNS))
    .description(
      'import a raw Ceph image of the pool (or one of its snapshots) as a golden image of the project (an ' +
        'operation: --wait follows it to its end)',
    )
    .argument('<project>')
    .argument('<img>', 'the Ceph image; it also becomes the image name')
    .option('--snap <snapname>', 'import this existing snapshot of the image')
    .option('--protect', 'protect the snapshot for the import (with --snap)')
    .option('--wait', 'wait until it ends, showing its progress')
    .action((project: string, source: string, o: { snap?: string; protect?: boolean; wait?: boolean }) => {
      if (o.protect && o.snap === undefined) throw new UsageError('--protect is only meaningful with --snap');
      return s.operation(
        (client) => importImage({ client, path: { project }, body: { source, snapshot: o.snap, protect: o.protect } }),
        o.wait,
      );
    });
  program
    .command('export')
    .hook('preAction', () => s.print.check(OPERATION_COLUMNS))
    .description('copy an image out to a new, independent Ceph image of the pool (an operation, see --wait)')
    .argument('<project>')
    .argument('<img>')
    .argument('<name>', 'name of the new Ceph image')
    .option('--wait', 'wait until it ends, showing its progress')
    .action((project: string, image: string, name: string, o: { wait?: boolean }) =>
      s.operation((client) => exportImage({ client, path: { project, image }, body: { name } }), o.wait),
    );
  program
    .command('cp')
    .hook('preAction', () => s.print.check(OPERATION_COLUMNS))
    .description(
      'copy an image (as a new, independent image), within the project, or into another project (admin); an ' +
        'operation, see --wait',
    )
    .argument('<src_project>')
    .argument('<img1>', 'the image')
    .argument('<dest_project>')
    .argument('[img2]', 'new name (default: the same name)')
    .option('--wait', 'wait until it ends, showing its progress')
    .action((project: string, image: string, dest: string, name: string | undefined, o: { wait?: boolean }) =>
      s.operation(
        (client) => copyImage({ client, path: { project, image }, body: { dest_project: dest, name } }),
        o.wait,
      ),
    );
  program
    .command('mv')
    .hook('preAction', () => s.print.check(IMAGE_COLUMNS))
    .description('move or rename an image, within the project, or into another project (admin)')
    .argument('<src_project>')
    .argument('<img1>', 'the image')
    .argument('<dest_project>')
    .argument('[img2]', 'new name (default: the same name)')
    .action(async (project: string, image: string, dest: string, name?: string) =>
      s.print.one(
        imageRow(
          await s.call((client) => moveImage({ client, path: { project, image }, body: { dest_project: dest, name } })),
        ),
        IMAGE_COLUMNS,
      ),
    );
}

function addIscsiCommands(program: Command, s: Session): void {
  const iscsi = program.command('iscsi').description('export images over iSCSI directly (admin)');
  iscsi
    .command('create')
    .hook('preAction', () => s.print.check(TARGET_COLUMNS))
    .description('export an image over iSCSI')
    .argument('<project>')
    .argument('<img>')
    .action(async (project: string, image: string) =>
      s.print.one(
        targetRow(await s.call((client) => mountImage({ client, path: { project, image } }))),
        TARGET_COLUMNS,
      ),
    );
  iscsi
    .command('rm')
    .description("remove an image's iSCSI target")
    .argument('<project>')
    .argument('<img>')
    .action(async (project: string, image: string) => {
      await s.call((client) => umountImage({ client, path: { project, image } }));
      s.print.done();
    });
  iscsi
    .command('ls')
    .hook('preAction', () => s.print.check(TARGET_COLUMNS))
    .description("list the project's images exported over iSCSI")
    .argument('<project>')
    .action(async (project: string) => {
      const targets = await everyItem(
        s,
        (cursor) => (client) => listTargets({ client, path: { project }, query: { cursor } }),
      );
      s.print.list(targets.map(targetRow), TARGET_COLUMNS);
    });
}
