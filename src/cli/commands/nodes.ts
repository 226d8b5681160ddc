import { Command } from 'commander';
import { plain } from '../format';
import { Session } from '../session';

/** Pointing a node's network boot at a disk and back, and finding its IP. */
export function addNodeCommands(program: Command, s: Session): void {
  program
    .command('pro')
    .description('provision a node: write its boot files so that it network-boots from the disk')
    .argument('<project>')
    .argument('<node>', 'HIL node name; the node must belong to the project')
    .argument('<disk_name>', 'the disk to boot from')
    .argument('<nic>', 'label of the NIC the node PXE-boots from')
    .action((project: string, node: string, diskName: string, nic: string) =>
      s.send('PUT', 'provision/', { project, node, disk_name: diskName, nic }, plain),
    );

  program
    .command('dpro')
    .description('deprovision a node: remove its boot files (the disk stays)')
    .argument('<project>')
    .argument('<node>')
    .argument('<nic>')
    .action((project: string, node: string, nic: string) =>
      s.send('DELETE', 'deprovision/', { project, node, nic }, plain),
    );

  const node = program.command('node').description('node information');
  node
    .command('ip')
    .description('print the IP address the DHCP server leased to the node')
    .argument('<project>')
    .argument('<node>')
    .option('--nic <nic>', 'look at this NIC only (default: any NIC of the node)')
    .action((project: string, name: string, opts: { nic?: string }) =>
      s.send('POST', 'node_ip/', { project, node: name, nic: opts.nic }, plain),
    );
}
