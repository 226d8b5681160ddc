import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseLeases, readLeases } from './leases';

describe('parseLeases', () => {
  it('reads dnsmasq lines: expiry, MAC (lower-cased), IP, hostname', () => {
    const text = [
      '1700000000 52:54:00:12:34:56 10.0.0.5 node-01 01:52:54:00:12:34:56',
      '1700000100 52:54:00:AA:BB:CC 10.0.0.6 * *',
    ].join('\n');
    expect(parseLeases(text)).toEqual([
      { expires: 1700000000, mac: '52:54:00:12:34:56', ip: '10.0.0.5', hostname: 'node-01' },
      { expires: 1700000100, mac: '52:54:00:aa:bb:cc', ip: '10.0.0.6', hostname: '*' },
    ]);
  });

  it('does not require the client-id to be 01:<mac> (the original matched only that)', () => {
    const leases = parseLeases('1700000000 52:54:00:12:34:56 10.0.0.5 node-01 ff:00:11:22:33:44:55:66:77\n');
    expect(leases).toEqual([{ expires: 1700000000, mac: '52:54:00:12:34:56', ip: '10.0.0.5', hostname: 'node-01' }]);
  });

  it('skips duid lines, IPv6 leases, garbage, blank lines and CRLF endings', () => {
    const text = [
      'duid 00:01:00:01:2c:5f:1a:2b:52:54:00:12:34:56',
      '1700000000 305419896 fd00::5 node-01 00:01:00:01:2c:5f:1a:2b:52:54:00:12:34:56',
      'this is not a lease',
      '',
      '   ',
      'soon 52:54:00:12:34:56 10.0.0.9 x *',
      '1700000000 52:54:00:12:34 10.0.0.9 short-mac *',
      '1700000000 52-54-00-12-34-56 10.0.0.9 dashed-mac *',
      '1700000000 52:54:00:12:34:56',
      '1700000200 52:54:00:12:34:56 10.0.0.7 node-01 *\r',
    ].join('\n');
    expect(parseLeases(text)).toEqual([
      { expires: 1700000200, mac: '52:54:00:12:34:56', ip: '10.0.0.7', hostname: 'node-01' },
    ]);
  });

  it('a line without hostname gets *', () => {
    expect(parseLeases('1 52:54:00:12:34:56 10.0.0.7')).toEqual([
      { expires: 1, mac: '52:54:00:12:34:56', ip: '10.0.0.7', hostname: '*' },
    ]);
  });

  it('an empty file has no leases', () => {
    expect(parseLeases('')).toEqual([]);
  });
});

describe('readLeases', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'bmi-leases-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and parses the file', async () => {
    const file = path.join(dir, 'dnsmasq.leases');
    writeFileSync(file, '1700000000 52:54:00:12:34:56 10.0.0.5 node-01 *\n');
    expect(await readLeases(file)).toEqual([
      { expires: 1700000000, mac: '52:54:00:12:34:56', ip: '10.0.0.5', hostname: 'node-01' },
    ]);
  });

  it('a missing file means no leases yet', async () => {
    expect(await readLeases(path.join(dir, 'none'))).toEqual([]);
  });

  it('other read errors are not hidden', async () => {
    await expect(readLeases(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
