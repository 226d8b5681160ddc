import type { BootState, Disk, Image, ImageRecord, ImageTarget, Node, Project, User } from '@bmi/client';
import type { Row } from '../output';
import type { Call, Session } from '../session';

/** A page of a listing, as /v1 answers it. */
interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Every item of a listing, page after page. */
export async function everyItem<T>(s: Session, page: (cursor: string | undefined) => Call<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const answer: Page<T> = await s.call(page(cursor));
    items.push(...answer.items);
    cursor = answer.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

// What each command prints: flat rows, keys as /v1 names them, and the columns shown by default.

export const PROJECT_COLUMNS = ['id', 'name'];
export const projectRow = (p: Project): Row => ({ id: p.id, name: p.name });

export const IMAGE_COLUMNS = ['name', 'kind', 'parent', 'public', 'exported'];
export const imageRow = (i: Image): Row => ({ ...i });

export const DISK_COLUMNS = ['name', 'image', 'target', 'portal', 'lun', 'uri', 'exported'];
export const diskRow = (d: Disk): Row => ({
  name: d.name,
  image: d.image,
  target: d.iscsi.target,
  portal: d.iscsi.portal,
  lun: d.iscsi.lun,
  uri: d.iscsi.uri,
  exported: d.exported,
});

export const TARGET_COLUMNS = ['image', 'target', 'portal', 'lun', 'uri'];
export const targetRow = (t: ImageTarget): Row => ({
  image: t.image,
  target: t.iscsi.target,
  portal: t.iscsi.portal,
  lun: t.iscsi.lun,
  uri: t.iscsi.uri,
});

export const BOOT_COLUMNS = ['node', 'disk', 'nic', 'mac', 'target'];
export const bootRow = (b: BootState): Row => ({ ...b });

export const RECORD_COLUMNS = ['id', 'name', 'project', 'ceph_name', 'kind', 'public', 'parent'];
export const recordRow = (r: ImageRecord): Row => ({ ...r });

export const USER_COLUMNS = ['name', 'admin', 'projects'];
export const userRow = (u: User): Row => ({ ...u });

export const NIC_COLUMNS = ['label', 'mac'];

export const NODE_COLUMNS = ['name', 'project', 'nics'];
export const nodeRow = (n: Node): Row => ({
  name: n.name,
  project: n.project,
  nics: n.nics.map((nic) => `${nic.label} ${nic.mac}`),
});
