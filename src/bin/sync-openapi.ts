import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createApp } from '../bootstrap';
import { loadConfig } from '../config/app-config';
import { buildOpenApi } from '../common/openapi/use-swagger';

/**
 * Writes openapi/openapi.json from the built app (the Swagger plugin's metadata exists only in `nest build`
 * output). With --check, fails when the committed file differs instead of writing it.
 */
async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const config = loadConfig({
    text: [
      '[bmi]',
      'uid = 1',
      '[db]',
      'path = :memory:',
      '[driver]',
      'fs = fake',
      'iscsi = fake',
      'net_isolator = fake',
      '[tftp]',
      'pxelinux_path = /nonexistent/pxelinux.cfg',
      'ipxe_path = /nonexistent/tftpboot',
      '[iscsi]',
      'ip = 127.0.0.1',
    ].join('\n'),
    env: {},
  });
  const app = await createApp(config, { logger: false });
  const text = `${JSON.stringify(buildOpenApi(app), null, 2)}\n`;
  await app.close();
  const file = path.resolve(__dirname, '../../openapi/openapi.json');
  if (check) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== text) {
      process.stderr.write(`${file} is stale: run "npm run openapi:sync" and commit the result\n`);
      process.exit(1);
    }
    process.stdout.write(`${file} is up to date\n`);
    return;
  }
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}

void main();
