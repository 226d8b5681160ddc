import type { TgtEnv } from './tgt-env';

/** A reply of a BMI process. */
export interface Reply {
  status: number;
  text: string;
}

export interface User {
  username: string;
  password: string;
}

/**
 * The config of a BMI process on the real Ceph and tgtd of `env`, with the fake HIL of `seed`, its boot files
 * under `dir`, listening on `port`. `db` and `iscsi` hold the lines of those sections that differ from test to
 * test (`[iscsi]` gets the portal and the tgtd's control port besides).
 */
export function realBmiConfig(
  env: TgtEnv,
  o: { uid: string; dir: string; port: number; seed: string; db: string[]; iscsi: string[] },
): string {
  return [
    '[bmi]',
    `uid = ${o.uid}`,
    'snapshot = bmi_snapshot',
    '[db]',
    ...o.db,
    '[driver]',
    'fs = ceph',
    'iscsi = tgt',
    'net_isolator = fake',
    '[fs]',
    `conf_file = ${env.ceph.confFile}`,
    `keyring = ${env.ceph.keyring}`,
    `id = ${env.ceph.clientId}`,
    `pool = ${env.ceph.pool}`,
    'timeout_seconds = 20',
    '[net_isolator]',
    `fake_seed = ${o.seed}`,
    '[iscsi]',
    'ip = 127.0.0.1',
    `tgt_control_port = ${env.controlPort}`,
    ...o.iscsi,
    '[tftp]',
    `pxelinux_path = ${o.dir}/tftpboot/pxelinux.cfg/`,
    `ipxe_path = ${o.dir}/tftpboot/`,
    `leases_file = ${o.dir}/dnsmasq.leases`,
    '[rest_api]',
    'ip = 127.0.0.1',
    `port = ${o.port}`,
  ].join('\n');
}

/** A request of the original API (a form, Basic auth) to the BMI at `base`; rejects when the connection dies. */
export async function sendForm(
  base: string,
  method: string,
  route: string,
  user: User,
  fields: Record<string, string>,
): Promise<Reply> {
  const res = await fetch(`${base}/${route}`, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, text: await res.text() };
}

/** The reply, when it is a 200; else fails with what BMI answered. */
export async function ok(reply: Promise<Reply>): Promise<Reply> {
  const r = await reply;
  if (r.status !== 200) throw new Error(`expected 200, got ${r.status}: ${r.text}`);
  return r;
}
