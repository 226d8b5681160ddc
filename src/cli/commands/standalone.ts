import { Command } from 'commander';
import { CliError, EXIT, UsageError } from '../errors';
import { plain, Render, table } from '../format';
import { Session } from '../session';
import { Env } from '../settings';

/** Reads the whole standard input (for --password-stdin). */
export type ReadStdin = () => Promise<string>;

/** Where a new password comes from: never the command line, where other users of the host could read it. */
export interface PasswordSource {
  env: Env;
  readStdin: ReadStdin;
}

/** The first line of standard input with --password-stdin, or else BMI_NEW_PASSWORD. */
async function newPassword(fromStdin: boolean | undefined, src: PasswordSource): Promise<string> {
  let password: string | undefined;
  if (fromStdin) {
    password = (await src.readStdin()).split(/\r?\n/)[0];
  } else {
    password = src.env.BMI_NEW_PASSWORD;
    if (password === undefined) {
      throw new UsageError('give the new password on standard input with --password-stdin, or in BMI_NEW_PASSWORD');
    }
  }
  if (!password) throw new CliError('Error: the new password is empty', EXIT.USAGE);
  return password;
}

interface UserRow {
  name: string;
  isAdmin: boolean;
  projects: string[];
}

interface NodeRow {
  name: string;
  project: string | null;
  nics: { label: string; macaddr: string }[];
}

function rowsOf<T>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value !== null && typeof value === 'object') return [value as T];
  throw new CliError(`Error: unexpected answer from the server: ${JSON.stringify(value).slice(0, 200)}`, EXIT.REFUSED);
}

const userRows: Render = (result) =>
  result.kind === 'success'
    ? 'Success'
    : table(
        ['Name', 'Admin', 'Projects'],
        rowsOf<UserRow>(result.value).map((u) => [u.name, u.isAdmin, (u.projects ?? []).join(', ')]),
      );

const nodeRows: Render = (result) =>
  result.kind === 'success'
    ? 'Success'
    : table(
        ['Name', 'Project', 'NICs'],
        rowsOf<NodeRow>(result.value).map((n) => [
          n.name,
          n.project ?? '',
          (n.nics ?? []).map((nic) => `${nic.label} ${nic.macaddr}`).join(', '),
        ]),
      );

/**
 * Standalone mode (`[driver] net_isolator = standalone`): users, project members, nodes and NICs kept by BMI.
 * Admin commands, sent from the admin project; `user passwd` also works for one's own password.
 */
export function addStandaloneCommands(program: Command, s: Session, passwords: PasswordSource): void {
  addUserCommands(program, s, passwords);
  addNodeAdminCommands(program, s);
  addNicCommands(program, s);
}

function addUserCommands(program: Command, s: Session, passwords: PasswordSource): void {
  const user = program
    .command('user')
    .description('manage users and their projects (standalone mode; admin, except passwd of your own password)');
  user
    .command('ls')
    .description('list the users, their admin flag and their projects')
    .action(() => s.send('POST', 'list_users/', { project: s.adminProject() }, userRows));
  user
    .command('create')
    .description('create a user; the password comes from --password-stdin or BMI_NEW_PASSWORD')
    .argument('<name>')
    .option('--admin', 'the user is an admin')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .action(async (name: string, o: { admin?: boolean; passwordStdin?: boolean }) => {
      const password = await newPassword(o.passwordStdin, passwords);
      await s.send(
        'PUT',
        'create_user/',
        { project: s.adminProject(), user: name, password, is_admin: o.admin ? 'true' : undefined },
        userRows,
      );
    });
  user
    .command('rm')
    .description('delete a user (not the last admin)')
    .argument('<name>')
    .action((name: string) => s.send('DELETE', 'delete_user/', { project: s.adminProject(), user: name }, plain));
  user
    .command('grant')
    .description('make a user a member of a project')
    .argument('<name>')
    .argument('<project>')
    .action((name: string, project: string) =>
      s.send('PUT', 'add_user_project/', { project: s.adminProject(), user: name, target_project: project }, plain),
    );
  user
    .command('revoke')
    .description('remove a user from a project')
    .argument('<name>')
    .argument('<project>')
    .action((name: string, project: string) =>
      s.send(
        'DELETE',
        'remove_user_project/',
        { project: s.adminProject(), user: name, target_project: project },
        plain,
      ),
    );
  user
    .command('passwd')
    .description("change a user's password (your own, or anyone's as an admin): --password-stdin or BMI_NEW_PASSWORD")
    .argument('<name>')
    .option('--password-stdin', 'read the new password from the first line of standard input')
    .action(async (name: string, o: { passwordStdin?: boolean }) => {
      const password = await newPassword(o.passwordStdin, passwords);
      await s.send('PUT', 'change_password/', { project: s.adminProject(), user: name, new_password: password }, plain);
    });
}

function addNodeAdminCommands(program: Command, s: Session): void {
  // `bmi node ip` exists already (commands/nodes.ts): these go beside it
  const node =
    program.commands.find((c) => c.name() === 'node') ?? program.command('node').description('node information');
  node.description('node information; in standalone mode, node registration and ownership (admin)');
  node
    .command('ls')
    .description('list the nodes, their project and NICs (standalone mode)')
    .action(() => s.send('POST', 'list_nodes/', { project: s.adminProject() }, nodeRows));
  node
    .command('register')
    .description('register a node, free (standalone mode)')
    .argument('<name>')
    .action((name: string) => s.send('PUT', 'register_node/', { project: s.adminProject(), node: name }, nodeRows));
  node
    .command('rm')
    .description('delete a free node and its NICs (standalone mode)')
    .argument('<name>')
    .action((name: string) => s.send('DELETE', 'delete_node/', { project: s.adminProject(), node: name }, plain));
  node
    .command('connect')
    .description('give a free node to a project (standalone mode)')
    .argument('<node>')
    .argument('<project>')
    .action((name: string, project: string) =>
      s.send('PUT', 'connect_node/', { project: s.adminProject(), node: name, target_project: project }, plain),
    );
  node
    .command('detach')
    .description('take a node away from its project: it becomes free (standalone mode)')
    .argument('<node>')
    .action((name: string) => s.send('DELETE', 'detach_node/', { project: s.adminProject(), node: name }, plain));
}

function addNicCommands(program: Command, s: Session): void {
  const nic = program.command('nic').description("manage nodes' NICs (standalone mode; admin)");
  nic
    .command('add')
    .description('add a NIC to a node (the MAC is stored lower-cased)')
    .argument('<node>')
    .argument('<label>')
    .argument('<mac>', 'e.g. 52:54:00:12:34:56')
    .action((node: string, label: string, mac: string) =>
      s.send('PUT', 'add_nic/', { project: s.adminProject(), node, nic: label, macaddr: mac }, plain),
    );
  nic
    .command('rm')
    .description('remove a NIC from a node')
    .argument('<node>')
    .argument('<label>')
    .action((node: string, label: string) =>
      s.send('DELETE', 'remove_nic/', { project: s.adminProject(), node, nic: label }, plain),
    );
}

/**
 * process.stdin up to its first line break (or its end): enough for --password-stdin, and a terminal user does
 * not have to type Ctrl-D. Closes standard input afterwards, so that the process can exit.
 */
export function readProcessStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let text = '';
    const done = (): void => {
      stdin.off('data', onData);
      stdin.off('end', done);
      stdin.off('error', onError);
      stdin.destroy();
      resolve(text);
    };
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      if (text.includes('\n')) done();
    };
    const onError = (e: Error): void => {
      stdin.off('data', onData);
      stdin.off('end', done);
      reject(e);
    };
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.once('end', done);
    stdin.once('error', onError);
  });
}
