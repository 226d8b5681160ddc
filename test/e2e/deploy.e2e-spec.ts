/**
 * What an operator installs: the systemd units (checked by systemd itself) and the production config example
 * (loaded and validated as BMI would load it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/app-config';

const ROOT = path.resolve(__dirname, '../..');
/** A unit file's `Key=Value` lines by section (systemd's syntax: no continuation lines in these units). */
function parseUnit(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) out[(section = header[1])] = {};
    else if (/^\w+=/.test(line)) out[section][line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return out;
}

const UNITS = ['bmi.service', 'bmi-tgtd.service'].map((u) => path.join(ROOT, 'deploy/systemd', u));

describe('the systemd units', () => {
  it('pass systemd-analyze verify', () => {
    expect(() => execFileSync('systemd-analyze', ['verify', ...UNITS], { stdio: 'pipe' })).not.toThrow();
  });

  it('bmi.service runs the built server with the config, lets the shutdown’s grace period run, and reopens logs on reload', () => {
    const unit = parseUnit(readFileSync(UNITS[0], 'utf8'));
    const service = unit.Service;
    expect(service.ExecStart).toMatch(/ node .*\/dist\/main\.js$/);
    expect(service.Environment).toBe('BMI_CONFIG=/etc/bmi/bmiconfig.cfg');
    expect(service.KillSignal).toBe('SIGTERM');
    expect(Number(service.TimeoutStopSec)).toBeGreaterThan(30);
    expect(service.ExecReload).toContain('kill -HUP');
    expect(service.UMask).toBe('0022');
    expect(unit.Unit.After).toContain('bmi-tgtd.service');
  });
});

describe('config/bmi.production.cfg', () => {
  it('is a valid config: HIL, Ceph and tgt, CHAP, limited metrics and boot clients, JSON logs to the journal', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bmi-prod-'));
    try {
      writeFileSync(path.join(dir, 'ceph.conf'), '[global]\n');
      const config = loadConfig({
        path: path.join(ROOT, 'config/bmi.production.cfg'),
        env: { BMI_FS_CONF_FILE: path.join(dir, 'ceph.conf') },
      });
      expect(config.warnings).toEqual([]);
      expect(config.drivers).toEqual({ fs: 'ceph', iscsi: 'tgt', netIsolator: 'hil', power: 'ipmi' });
      expect(config.iscsi.chap).toBe(true);
      expect(config.http.metricsAllow).toEqual(['10.0.0.5']);
      expect(config.tftp.httpBootAllow).toEqual(['192.168.100.0/24']);
      expect(config.logs).toMatchObject({ path: '', format: 'json' });
      expect(config.auth.scryptCost).toBe(17);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
