import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { msTime } from '../../database/dialect';

/** One mutation asked of BMI, and what became of it (table `audit_record`). */
@Entity('audit_record')
export class AuditRecordEntity {
  @PrimaryGeneratedColumn()
  id: number;

  /** ms since the epoch when the answer was decided */
  @Column({ type: 'bigint', transformer: msTime })
  at: number;

  /** the caller's user name, as sent (a refused caller's too) */
  @Column({ type: 'varchar', length: 64 })
  actor: string;

  /** the project the caller acted from */
  @Column({ type: 'varchar', length: 64, nullable: true })
  project: string | null;

  /** what was asked: the route's operation (`createDisk`, `deprovisionNode` …) */
  @Column({ type: 'varchar', length: 64 })
  action: string;

  /** `PUT /create_disk`, `POST /v1/projects/:project/disks` … */
  @Column({ type: 'varchar', length: 160 })
  route: string;

  /** the names it acted on, as JSON (`{"disk_name":"web1","img":"centos7"}`) */
  @Column({ type: 'varchar', length: 512 })
  resource: string;

  /** the HTTP status answered */
  @Column({ type: 'integer' })
  status: number;

  /** `ok`, or the error code answered */
  @Column({ type: 'varchar', length: 64 })
  result: string;

  /** the journaled operation the request ran, if any */
  @Column({ name: 'operation_id', type: 'varchar', length: 36, nullable: true })
  operationId: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId: string;

  /** the client's address */
  @Column({ type: 'varchar', length: 64, nullable: true })
  client: string | null;
}
