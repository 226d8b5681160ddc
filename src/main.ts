// Each librbd call in flight holds a libuv pool thread (default 4): give Ceph calls room before any I/O starts.
process.env.UV_THREADPOOL_SIZE ??= '16';

import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap';
import { ConfigError, loadConfig } from './config/app-config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const app = await createApp(config);
  for (const warning of config.warnings) new Logger('Config').warn(warning);
  await app.listen(config.http.port, config.http.ip);
  const logger = new Logger('BMI');
  logger.log(
    `serving on http://${config.http.ip}:${config.http.port} (docs at /docs) with config ${config.source}; ` +
      `drivers fs=${config.drivers.fs} iscsi=${config.drivers.iscsi} net_isolator=${config.drivers.netIsolator}`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bmi: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
