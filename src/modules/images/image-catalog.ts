import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, IsNull, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { DbWriteLock } from '../../common/concurrency/locks';
import { insertRow } from '../../database/insert-row';
import { Json, SagaActions } from '../../common/orchestration/actions';
import { Saga, Step } from '../../common/orchestration/saga';
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
 * and row changes packaged as saga steps with their undo actions (`image.row.*`, handled here).
 */
@Injectable()
export class ImageCatalog {
  constructor(
    @InjectRepository(ImageEntity) private readonly repo: Repository<ImageEntity>,
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly dbLock: DbWriteLock,
    actions: SagaActions,
  ) {
    // registered when made, so that recovery (at module init) finds every handler
    actions.register({
      'image.row.delete': async ({ id }) => {
        await this.dbLock.run(() => this.repo.delete({ id: num(id) }));
      },
      'image.row.restore': ({ row, orphaned }) => this.restore(row as unknown as SavedRow, orphaned as number[]),
      'image.row.exported': async ({ id, exported }) => {
        await this.dbLock.run(() => this.repo.update({ id: num(id) }, { exported: exported === true }));
      },
    });
  }

  /** `<uid>img<id>`: the RBD image name of a BMI image (reference §4.3). */
  cephName(row: { id: number }): string {
    return `${this.config.bmi.uid}img${row.id}`;
  }

  /** A raw RBD name shaped like BMI's own (`<uid>img<digits>`): never a name to export to or import from. */
  assertNotBmiName(name: string): void {
    if (this.idOf(name) !== null) {
      throw new WrongImageKindError(`${name} is reserved: BMI names its own images ${this.config.bmi.uid}img<id>`);
    }
  }

  /** The row id in a name shaped like BMI's own (`<uid>img<digits>`), or null. */
  idOf(cephName: string): number | null {
    const prefix = `${this.config.bmi.uid}img`;
    const digits = cephName.slice(prefix.length);
    return cephName.startsWith(prefix) && /^\d+$/.test(digits) ? Number(digits) : null;
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
    return {
      name: `mark ${row.name} ${exported ? 'exported' : 'not exported'}`,
      run: async () => void (await this.dbLock.run(() => this.repo.update({ id: row.id }, { exported }))),
      undo: { type: 'image.row.exported', args: { id: row.id, exported: row.exported } },
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
    return this.clashesAs409(values, projectName, () => this.insertRow(values));
  }

  /**
   * Reserves the row of an image the operation makes, as its first step: with the row's id, the Ceph name is
   * known before anything is made in Ceph. The insert and its journal record are one transaction; undo
   * deletes the row.
   */
  reserve(s: Saga, values: NewImageRow, projectName: string): Promise<ImageEntity> {
    return this.clashesAs409(values, projectName, () =>
      s.reserve(
        `insert image row ${values.name}`,
        (tx) => this.insertRow(values, tx),
        (row) => ({ type: 'image.row.delete', args: { id: row.id } }),
      ),
    );
  }

  /** INSERTs the row (database/insert-row), in the journal's transaction `tx` when given, else on its own. */
  private insertRow(values: NewImageRow, tx?: EntityManager): Promise<ImageEntity> {
    const insert = async (m: EntityManager) => {
      const row = m.create(ImageEntity, values);
      row.id = await insertRow(m, ImageEntity, row);
      return row;
    };
    return tx ? insert(tx) : this.dbLock.run(() => insert(this.repo.manager));
  }

  private async clashesAs409<T>(values: NewImageRow, projectName: string, insert: () => Promise<T>): Promise<T> {
    try {
      return await insert();
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      if (values.id !== undefined && (await this.repo.existsBy({ id: values.id }))) {
        throw new ConflictError(`Image id ${values.id} is already taken`);
      }
      throw new ImageExistsError(values.name, projectName);
    }
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
   * Step: delete a row. Snapshot rows made from it lose their parent and become plain images (reference §4.2);
   * they are read before the step, under the operation's locks. Undo re-inserts the row with the same id (so
   * its Ceph name is unchanged) and gives those rows their parent back.
   */
  async deleteStep(row: ImageEntity): Promise<Step> {
    const children = await this.children(row.id);
    if (children.some((c) => !c.isSnapshot)) throw new ImageHasClonesError(row.name);
    const orphaned = children.map((c) => c.id);
    const saved: SavedRow = {
      id: row.id,
      name: row.name,
      projectId: row.projectId,
      parentId: row.parentId,
      isSnapshot: row.isSnapshot,
      isPublic: row.isPublic,
      exported: row.exported,
    };
    return {
      name: `delete image row ${row.name}`,
      run: () =>
        this.transaction(async (m) => {
          if (await m.existsBy(ImageEntity, { parentId: row.id, isSnapshot: false })) {
            throw new ImageHasClonesError(row.name);
          }
          if (orphaned.length) await m.update(ImageEntity, orphaned, { parentId: null, isSnapshot: false });
          await m.delete(ImageEntity, { id: row.id });
        }),
      undo: { type: 'image.row.restore', args: { row: { ...saved }, orphaned } },
    };
  }

  /** The undo of deleteStep, idempotent: the row is inserted if it is missing, the orphans re-parented. */
  private restore(saved: SavedRow, orphaned: number[]): Promise<void> {
    return this.transaction(async (m) => {
      if (!(await m.existsBy(ImageEntity, { id: saved.id }))) await insertRow(m, ImageEntity, saved);
      if (orphaned.length) {
        await m.update(ImageEntity, { id: In(orphaned), parentId: IsNull() }, { parentId: saved.id, isSnapshot: true });
      }
    });
  }
}

/** A row as deleteStep keeps it for its undo. */
type SavedRow = Required<Omit<NewImageRow, 'exported'>> & { exported: boolean; id: number };

function num(v: Json): number {
  if (typeof v !== 'number') throw new Error(`expected a row id, got ${JSON.stringify(v)}`);
  return v;
}

/** The columns `ImageCatalog.update` may change on a row (outside a step; it takes the DB write lock too). */
export type CatalogUpdate = Partial<
  Pick<ImageEntity, 'name' | 'projectId' | 'parentId' | 'isSnapshot' | 'isPublic' | 'exported'>
>;
