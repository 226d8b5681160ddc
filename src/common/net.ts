import { BlockList, isIP, isIPv4 } from 'node:net';

/** An IPv4 or IPv6 address, optionally with a /prefix length that fits it. */
export function isCidr(entry: string): boolean {
  const [ip, prefix, ...rest] = entry.split('/');
  const family = isIP(ip);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A list of addresses and CIDRs (each one `isCidr`) to match clients against with `onList`. */
export function addressList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, prefix] = entry.split('/');
    const type = isIPv4(ip) ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(prefix), type);
  }
  return list;
}

/** Whether a client's address is on the list; an IPv4 client may arrive as `::ffff:a.b.c.d`. */
export function onList(list: BlockList, client: string | undefined): boolean {
  if (!client) return false;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(client)?.[1] ?? (isIPv4(client) ? client : null);
  try {
    return v4 ? list.check(v4, 'ipv4') : list.check(client, 'ipv6');
  } catch {
    return false;
  }
}
