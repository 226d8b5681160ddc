import { promises as fs } from 'node:fs';

export interface Lease {
  expires: number;
  mac: string;
  ip: string;
  hostname: string;
}

/**
 * Parses a dnsmasq leases file (`<expiry> <mac> <ip> <hostname> <client-id>` per line). Lines that are not
 * Ethernet leases (IPv6 `duid` lines, garbage) are skipped. MACs come back lower-cased.
 */
export function parseLeases(text: string): Lease[] {
  const leases: Lease[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || !/^\d+$/.test(f[0]) || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(f[1])) continue;
    leases.push({ expires: Number(f[0]), mac: f[1].toLowerCase(), ip: f[2], hostname: f[3] ?? '*' });
  }
  return leases;
}

/** Reads the leases file; a missing file means no leases yet. */
export async function readLeases(file: string): Promise<Lease[]> {
  try {
    return parseLeases(await fs.readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
