import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { DbWriteLock } from '../../common/concurrency/locks';
import { Step } from '../../common/orchestration/saga';
import { isUniqueViolation } from '../../database/unique-violation';
import { ConflictError } from '../../common/errors/domain-error';
import { ProjectEntity } from '../projects/project.entity';
import { ImageEntity } from './image.entity';
import { ImageExistsError, ImageHasClonesError, ImageNotFoundError, WrongImageKindError } from './images.errors';

export type ImageKind = 'image' | 'disk' | 'snapshot';

/** A row's values before it is inserted. */
export interface NewImageRow {
  name: string;
  projectId: number;
  parentId: number | null;
  isSnapshot: boolean;
  isPublic: boolean;
  /** the image should have an iSCSI target (default false) */
  exported?: boolean;
  id?: number;
}

/**
 * The image table, seen the way the operations need it: look-ups by (project, name), the Ceph name of a row,
 * and row changes packaged as saga steps with their undo.
 */
@Injectable()
export class ImageCatalog {
  constructor(
    @InjectRepository(ImageEntity) private readonly repo: Repository<ImageEntity>,
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly dbLock: DbWriteLock,
  ) {}

  /** `<uid>img<id>`: the RBD image name of a BMI image (reference §4.3). */
  cephName(row: { id: number }): string {
    return `${this.config.bmi.uid}img${row.id}`;
  }

  /** A raw RBD name shaped like BMI's own (`<uid>img<digits>`): never a name to export to or import from. */
  assertNotBmiName(name: string): void {
    if (name.startsWith(`${this.config.bmi.uid}img`) && /^\d+$/.test(name.slice(this.config.bmi.uid.length + 3))) {
      throw new WrongImageKindError(`${name} is reserved: BMI names its own images ${this.config.bmi.uid}img<id>`);
    }
  }

  kind(row: ImageEntity): ImageKind {
    if (row.isSnapshot) return 'snapshot';
    return row.parentId === null ? 'image' : 'disk';
  }

  find(projectId: number, name: string): Promise<ImageEntity | null> {
    return this.repo.findOneBy({ projectId, name });
  }

  async require(project: ProjectEntity, name: string): Promise<ImageEntity> {
    const row = await this.find(project.id, name);
    if (!row) throw new ImageNotFoundError(name);
    return row;
  }

  async assertFree(project: ProjectEntity, name: string): Promise<void> {
    if (await this.find(project.id, name)) throw new ImageExistsError(name, project.name);
  }

  async byId(id: number | null): Promise<ImageEntity | null> {
    return id === null ? null : this.repo.findOneBy({ id });
  }

  children(id: number): Promise<ImageEntity[]> {
    return this.repo.findBy({ parentId: id });
  }

  /** Disks (non-snapshot rows) cloned from this image: while any exists the image cannot go. */
  async assertNoDiskChildren(row: ImageEntity): Promise<void> {
    const children = await this.children(row.id);
    if (children.some((c) => !c.isSnapshot)) throw new ImageHasClonesError(row.name);
  }

  /** Rows of a project, with their parent's name, in id order. */
  async listProject(projectId: number): Promise<(ImageEntity & { parentName: string })[]> {
    const rows = await this.repo.find({ where: { projectId }, relations: { parent: true }, order: { id: 'ASC' } });
    return rows.map((r) => Object.assign(r, { parentName: r.parent?.name ?? '' }));
  }

  async listAll(): Promise<(ImageEntity & { parentName: string; projectName: string })[]> {
    const rows = await this.repo.find({ relations: { parent: true, project: true }, order: { id: 'ASC' } });
    return rows.map((r) => Object.assign(r, { parentName: r.parent?.name ?? '', projectName: r.project?.name ?? '' }));
  }

  /** Rows whose image should have an iSCSI target (disks, mounted images), in id order. */
  listExported(): Promise<ImageEntity[]> {
    return this.repo.find({ where: { exported: true }, order: { id: 'ASC' } });
  }

  /** Step: mark whether the row's image should have an iSCSI target; undo puts the previous value back. */
  exportedStep(row: ImageEntity, exported: boolean): Step {
    const before = row.exported;
    const set = (value: boolean) => this.dbLock.run(() => this.repo.update({ id: row.id }, { exported: value }));
    return {
      name: `mark ${row.name} ${exported ? 'exported' : 'not exported'}`,
      run: async () => void (await set(exported)),
      undo: async () => void (await set(before)),
    };
  }

  listGolden(projectId: number): Promise<ImageEntity[]> {
    return this.repo.find({ where: { projectId, parentId: IsNull() }, order: { id: 'ASC' } });
  }

  /**
   * Inserts a row; a (project, name) or id clash that slipped past the pre-checks still becomes a clean 409.
   * One INSERT is atomic by itself, so it runs without a transaction: on SQLite, TypeORM shares one connection
   * between concurrent requests, and the ROLLBACK of a failed insert would also discard the row a concurrent
   * request had just inserted (its clone and target then had no row).
   */
  async insert(values: NewImageRow, projectName: string): Promise<ImageEntity> {
    const row = this.repo.create(values);
    try {
      // INSERT, never save(): with an explicit id, save() turns into an UPDATE of whatever row has that id
      const result = await this.dbLock.run(() => this.repo.insert(row));
      row.id = result.identifiers[0].id as number;
      return row;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      if (values.id !== undefined && (await this.repo.existsBy({ id: values.id }))) {
        throw new ConflictError(`Image id ${values.id} is already taken`);
      }
      throw new ImageExistsError(values.name, projectName);
    }
  }

  /** Step: insert a row; undo deletes it. The inserted row is handed to `onRow`. */
  insertStep(values: NewImageRow, projectName: string, onRow: (row: ImageEntity) => void): Step {
    let id: number | null = null;
    return {
      name: `insert image row ${values.name}`,
      run: async () => {
        const row = await this.insert(values, projectName);
        id = row.id;
        onRow(row);
      },
      undo: async () => {
        const inserted = id;
        if (inserted !== null) await this.dbLock.run(() => this.repo.delete({ id: inserted }));
      },
    };
  }

  /** Changes a row in place (rename, move); a name clash becomes a clean 409. */
  async update(row: ImageEntity, values: CatalogUpdate, projectName: string): Promise<void> {
    try {
      await this.dbLock.run(() => this.repo.update({ id: row.id }, values));
    } catch (e) {
      if (isUniqueViolation(e)) throw new ImageExistsError(values.name ?? row.name, projectName);
      throw e;
    }
  }

  private transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dbLock.run(() => this.dataSource.transaction(fn));
  }

  /**
   * Step: delete a row. Snapshot rows made from it lose their parent and become plain images (reference §4.2).
   * Undo re-inserts the row with the same id (so its Ceph name is unchanged) and restores those children.
   */
  deleteStep(row: ImageEntity): Step {
    let orphaned: number[] = [];
    const saved = { ...row };
    return {
      name: `delete image row ${row.name}`,
      run: async () => {
        await this.transaction(async (m) => {
          const children = await m.findBy(ImageEntity, { parentId: row.id });
          if (children.some((c) => !c.isSnapshot)) throw new ImageHasClonesError(row.name);
          orphaned = children.map((c) => c.id);
          if (orphaned.length) await m.update(ImageEntity, orphaned, { parentId: null, isSnapshot: false });
          await m.delete(ImageEntity, { id: row.id });
        });
      },
      undo: async () => {
        await this.transaction(async (m) => {
          await m.insert(ImageEntity, {
            id: saved.id,
            name: saved.name,
            projectId: saved.projectId,
            parentId: saved.parentId,
            isSnapshot: saved.isSnapshot,
            isPublic: saved.isPublic,
            exported: saved.exported,
          });
          if (orphaned.length) await m.update(ImageEntity, orphaned, { parentId: row.id, isSnapshot: true });
        });
      },
    };
  }
}

/** The columns `ImageCatalog.update` may change on a row (outside a step; it takes the DB write lock too). */
export type CatalogUpdate = Partial<
  Pick<ImageEntity, 'name' | 'projectId' | 'parentId' | 'isSnapshot' | 'isPublic' | 'exported'>
>;
