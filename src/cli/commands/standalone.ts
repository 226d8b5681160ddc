import { Command } from 'commander';
import { CliError, EXIT, UsageError } from '../errors';
import {
  addNic,
  changePassword,
  connectNode,
  createUser,
  deleteNode,
  deleteNodeBmc,
  deleteUser,
  detachNode,
  grantProject,
  listNodes,
  listUsers,
  registerNode,
  removeNic,
  revokeProject,
  setNodeBmc,
} from '@bmi/client';
import { Session } from '../session';
import { everyItem, NIC_COLUMNS, NODE_COLUMNS, nodeRow, USER_COLUMNS, userRow } from './rows';
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

/**
 * Standalone mode (`[driver] net_isolator = standalone`): users, project members, nodes and NICs kept by BMI.
 * Admin commands; `user passwd` also works for one's own password.
 */
export function addStandaloneCommands(program: Command, s: Session, passwords: PasswordSource): void {
  addUserCommands(program, s, passwords);
  addNodeAdminCommands(program, s, passwords);
  addNicCommands(program, s);
}

function addUserCommands(program: Command, s: Session, passwords: PasswordSource): void {
  const user = program
    .command('user')
    .description('manage users and their projects (standalone mode; admin, except passwd of your own password)');
  user
    .command('ls')
    .hook('preAction', () => s.print.check(USER_COLUMNS))
    .description('list the users, their admin flag and their projects')
    .action(async () => {
      const users = await everyItem(s, (cursor) => (client) => listUsers({ client, query: { cursor } }));
      s.print.list(users.map(userRow), USER_COLUMNS);
    });
  user
    .command('create')
    .hook('preAction', () => s.print.check(USER_COLUMNS))
    .description('create a user; the password comes from --password-stdin or BMI_NEW_PASSWORD')
    .argument('<name>')
    .option('--admin', 'the user is an admin')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .action(async (name: string, o: { admin?: boolean; passwordStdin?: boolean }) => {
      const password = await newPassword(o.passwordStdin, passwords);
      const made = await s.call((client) => createUser({ client, body: { name, password, admin: o.admin === true } }));
      s.print.one(userRow(made), USER_COLUMNS);
    });
  user
    .command('rm')
    .description('delete a user (not the last admin)')
    .argument('<name>')
    .action(async (name: string) => {
      await s.call((client) => deleteUser({ client, path: { user: name } }));
      s.print.done();
    });
  user
    .command('grant')
    .description('make a user a member of a project')
    .argument('<name>')
    .argument('<project>')
    .action(async (name: string, project: string) => {
      await s.call((client) => grantProject({ client, path: { user: name, project } }));
      s.print.done();
    });
  user
    .command('revoke')
    .description('remove a user from a project')
    .argument('<name>')
    .argument('<project>')
    .action(async (name: string, project: string) => {
      await s.call((client) => revokeProject({ client, path: { user: name, project } }));
      s.print.done();
    });
  user
    .command('passwd')
    .description("change a user's password (your own, or anyone's as an admin): --password-stdin or BMI_NEW_PASSWORD")
    .argument('<name>')
    .option('--password-stdin', 'read the new password from the first line of standard input')
    .action(async (name: string, o: { passwordStdin?: boolean }) => {
      const password = await newPassword(o.passwordStdin, passwords);
      await s.call((client) => changePassword({ client, path: { user: name }, body: { password } }));
      s.print.done();
    });
}

interface BmcOptions {
  user?: string;
  passwordStdin?: boolean;
  forget?: boolean;
}

function addNodeAdminCommands(program: Command, s: Session, passwords: PasswordSource): void {
  // `bmi node ip` and `node boot` exist already (commands/nodes.ts): these go beside them
  const node =
    program.commands.find((c) => c.name() === 'node') ?? program.command('node').description('node information');
  node.description('node information; in standalone mode, node registration and ownership (admin)');
  node
    .command('ls')
    .hook('preAction', () => s.print.check(NODE_COLUMNS))
    .description('list the nodes, their project and NICs (standalone mode)')
    .action(async () => {
      const nodes = await everyItem(s, (cursor) => (client) => listNodes({ client, query: { cursor } }));
      s.print.list(nodes.map(nodeRow), NODE_COLUMNS);
    });
  node
    .command('register')
    .hook('preAction', () => s.print.check(NODE_COLUMNS))
    .description('register a node, free (standalone mode)')
    .argument('<name>')
    .action(async (name: string) =>
      s.print.one(nodeRow(await s.call((client) => registerNode({ client, body: { name } }))), NODE_COLUMNS),
    );
  node
    .command('rm')
    .description('delete a free node and its NICs (standalone mode)')
    .argument('<name>')
    .action(async (name: string) => {
      await s.call((client) => deleteNode({ client, path: { node: name } }));
      s.print.done();
    });
  node
    .command('connect')
    .description('give a free node to a project (standalone mode)')
    .argument('<node>')
    .argument('<project>')
    .action(async (name: string, project: string) => {
      await s.call((client) => connectNode({ client, path: { node: name }, body: { project } }));
      s.print.done();
    });
  node
    .command('bmc')
    .description(
      "record the node's BMC, which its power requests go to (standalone mode, [driver] power = ipmi); " +
        'the password, if the node has an account of its own, from --password-stdin or BMI_NEW_PASSWORD',
    )
    .argument('<node>')
    .argument('[address]', "the BMC's host name or IP address")
    .option('--user <user>', 'the BMC account (default: [power] ipmi_user)')
    .option('--password-stdin', "read the account's password from the first line of standard input")
    .option('--forget', 'forget the BMC instead')
    .action(async (name: string, address: string | undefined, o: BmcOptions) => {
      if (o.forget) {
        await s.call((client) => deleteNodeBmc({ client, path: { node: name } }));
      } else {
        if (!address) throw new UsageError('give the BMC address, or --forget');
        const password =
          o.passwordStdin || passwords.env.BMI_NEW_PASSWORD !== undefined
            ? await newPassword(o.passwordStdin, passwords)
            : undefined;
        await s.call((client) =>
          setNodeBmc({ client, path: { node: name }, body: { address, username: o.user, password } }),
        );
      }
      s.print.done();
    });
  node
    .command('detach')
    .description('take a node away from its project: it becomes free (standalone mode)')
    .argument('<node>')
    .action(async (name: string) => {
      await s.call((client) => detachNode({ client, path: { node: name } }));
      s.print.done();
    });
}

function addNicCommands(program: Command, s: Session): void {
  const nic = program.command('nic').description("manage nodes' NICs (standalone mode; admin)");
  nic
    .command('add')
    .hook('preAction', () => s.print.check(NIC_COLUMNS))
    .description('add a NIC to a node (the MAC is stored lower-cased)')
    .argument('<node>')
    .argument('<label>')
    .argument('<mac>', 'e.g. 52:54:00:12:34:56')
    .action(async (node: string, label: string, mac: string) =>
      s.print.one(
        { ...(await s.call((client) => addNic({ client, path: { node }, body: { label, mac } }))) },
        NIC_COLUMNS,
      ),
    );
  nic
    .command('rm')
    .description('remove a NIC from a node')
    .argument('<node>')
    .argument('<label>')
    .action(async (node: string, label: string) => {
      await s.call((client) => removeNic({ client, path: { node, nic: label } }));
      s.print.done();
    });
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
