import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { ProjectEntity } from '../projects/project.entity';
import { DirectoryNode, DirectoryUser, StandaloneDirectory } from './standalone-directory';
import { StandaloneNodeEntity } from './standalone-node.entity';
import { StandaloneUserEntity } from './standalone-user.entity';

/**
 * StandaloneDirectory on BMI's database. It reads the project table (projects are BMI's own in standalone mode)
 * but never writes it.
 */
@Injectable()
export class TypeOrmStandaloneDirectory extends StandaloneDirectory {
  constructor(
    @InjectRepository(StandaloneUserEntity) private readonly users: Repository<StandaloneUserEntity>,
    @InjectRepository(StandaloneNodeEntity) private readonly nodes: Repository<StandaloneNodeEntity>,
  ) {
    super();
  }

  async findUser(name: string): Promise<DirectoryUser | null> {
    const user = await this.users.findOne({
      where: { name },
      relations: { memberships: { project: true } },
    });
    if (!user) return null;
    return {
      name: user.name,
      passwordHash: user.passwordHash,
      isAdmin: user.isAdmin,
      projects: (user.memberships ?? []).map((m) => m.project?.name ?? '').filter(Boolean),
    };
  }

  async findNode(name: string): Promise<DirectoryNode | null> {
    const node = await this.nodes.findOne({
      where: { name },
      relations: { project: true, nics: true },
      order: { nics: { id: 'ASC' } },
    });
    if (!node) return null;
    return {
      name: node.name,
      project: node.project?.name ?? null,
      nics: (node.nics ?? []).map((n) => ({ label: n.label, macaddr: n.macaddr })),
      bmc: node.bmcAddress
        ? { address: node.bmcAddress, username: node.bmcUsername, password: node.bmcPassword }
        : null,
    };
  }

  projectExists(name: string): Promise<boolean> {
    return this.users.manager.existsBy(ProjectEntity, { name });
  }

  async replacePasswordHash(name: string, current: string, next: string): Promise<boolean> {
    const r = await this.users.update({ name, passwordHash: current }, { passwordHash: next });
    return (r.affected ?? 0) > 0;
  }

  async listNodes(project: string | null): Promise<string[]> {
    const rows = await this.nodes.find({
      where: project === null ? { projectId: IsNull() } : { project: { name: project } },
      order: { name: 'ASC' },
    });
    return rows.map((n) => n.name);
  }
}
