import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { DbWriteLock } from '../../common/concurrency/locks';
import { AuditRecordEntity } from './audit-record.entity';

/** An audit record as /v1 shows it. */
export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  project: string | null;
  action: string;
  route: string;
  resource: Record<string, string>;
  status: number;
  result: string;
  operation: string | null;
  request_id: string;
  client: string | null;
}

export type NewAuditRecord = Omit<AuditRecordEntity, 'id'>;

const HOUR_MS = 3_600_000;

/**
 * The audit trail: written once per mutation (AuditInterceptor), read by admins, newest first, kept `[logs]
 * audit_days` (older records are deleted at most once an hour, by the instance that writes one).
 */
@Injectable()
export class AuditService {
  private purgedAt = 0;

  constructor(
    @InjectRepository(AuditRecordEntity) private readonly repo: Repository<AuditRecordEntity>,
    private readonly dbLock: DbWriteLock,
    private readonly config: AppConfig,
  ) {}

  async record(row: NewAuditRecord): Promise<void> {
    await this.dbLock.run(() => this.repo.insert(row));
    if (row.at - this.purgedAt < HOUR_MS) return;
    this.purgedAt = row.at;
    const before = row.at - this.config.logs.auditDays * 24 * HOUR_MS;
    await this.dbLock.run(() => this.repo.delete({ at: LessThan(before) }));
  }

  /** A page of records, newest first; `before` is the id of the last record of the previous page. */
  async page(filter: {
    project?: string;
    actor?: string;
    action?: string;
    limit: number;
    before?: number;
  }): Promise<{ rows: AuditRow[]; last: number | null }> {
    const q = this.repo.createQueryBuilder('a');
    if (filter.project !== undefined) q.andWhere('a.project = :project', { project: filter.project });
    if (filter.actor !== undefined) q.andWhere('a.actor = :actor', { actor: filter.actor });
    if (filter.action !== undefined) q.andWhere('a.action = :action', { action: filter.action });
    if (filter.before !== undefined) q.andWhere('a.id < :before', { before: filter.before });
    const rows = await q
      .orderBy('a.id', 'DESC')
      .take(filter.limit + 1)
      .getMany();
    const more = rows.length > filter.limit;
    const page = rows.slice(0, filter.limit);
    return { rows: page.map(toRow), last: more ? page[page.length - 1].id : null };
  }
}

function toRow(r: AuditRecordEntity): AuditRow {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    project: r.project,
    action: r.action,
    route: r.route,
    resource: JSON.parse(r.resource) as Record<string, string>,
    status: r.status,
    result: r.result,
    operation: r.operationId,
    request_id: r.requestId,
    client: r.client,
  };
}
