import { Command } from 'commander';
import { deleteBoot, getBoot, getNodeIp, getNodePower, type PowerAction, putBoot, setNodePower } from '@bmi/client';
import { InvalidArgumentError } from 'commander';
import { Session } from '../session';
import { BOOT_COLUMNS, bootRow } from './rows';

const IP_COLUMNS = ['ip', 'node'];
const POWER_COLUMNS = ['node', 'state'];
const ACTIONS: PowerAction[] = ['on', 'off', 'cycle'];

function powerAction(value: string): PowerAction {
  if (!(ACTIONS as string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${ACTIONS.join(', ')}.`);
  return value as PowerAction;
}

/** Pointing a node's network boot at a disk and back, and finding its IP. */
export function addNodeCommands(program: Command, s: Session): void {
  program
    .command('pro')
    .hook('preAction', () => s.print.check(BOOT_COLUMNS))
    .description('provision a node: write its boot files so that it network-boots from the disk')
    .argument('<project>')
    .argument('<node>', 'HIL node name; the node must belong to the project')
    .argument('<disk_name>', 'the disk to boot from')
    .argument('<nic>', 'label of the NIC the node PXE-boots from')
    .action(async (project: string, node: string, disk: string, nic: string) =>
      s.print.one(
        bootRow(await s.call((client) => putBoot({ client, path: { project, node }, body: { disk, nic } }))),
        BOOT_COLUMNS,
      ),
    );

  program
    .command('dpro')
    .description('deprovision a node: remove its boot files (the disk stays)')
    .argument('<project>')
    .argument('<node>')
    .argument('[nic]', 'the NIC it was provisioned with (default: the one its boot files name)')
    .action(async (project: string, node: string, nic?: string) => {
      await s.call((client) => deleteBoot({ client, path: { project, node }, query: { nic } }));
      s.print.done();
    });

  const node = program.command('node').description('node information');
  node
    .command('ip')
    .hook('preAction', () => s.print.check(IP_COLUMNS))
    .description('print the IP address the DHCP server leased to the node')
    .argument('<project>')
    .argument('<node>')
    .option('--nic <nic>', 'look at this NIC only (default: any NIC of the node)')
    .action(async (project: string, name: string, o: { nic?: string }) =>
      s.print.one(
        { ...(await s.call((client) => getNodeIp({ client, path: { project, node: name }, query: { nic: o.nic } }))) },
        IP_COLUMNS,
      ),
    );
  node
    .command('power')
    .hook('preAction', () => s.print.check(POWER_COLUMNS))
    .description("switch a node on or off or cycle it, as the project's member (through HIL); no action: its state")
    .argument('<project>')
    .argument('<node>')
    .argument('[action]', `${ACTIONS.join(', ')}`, powerAction)
    .action(async (project: string, name: string, action?: PowerAction) =>
      s.print.one(
        {
          ...(await s.call((client) =>
            action
              ? setNodePower({ client, path: { project, node: name }, body: { action } })
              : getNodePower({ client, path: { project, node: name } }),
          )),
        },
        POWER_COLUMNS,
      ),
    );
  node
    .command('boot')
    .hook('preAction', () => s.print.check(BOOT_COLUMNS))
    .description('show what the node boots from')
    .argument('<project>')
    .argument('<node>')
    .action(async (project: string, name: string) =>
      s.print.one(bootRow(await s.call((client) => getBoot({ client, path: { project, node: name } }))), BOOT_COLUMNS),
    );
}
