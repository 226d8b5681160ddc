#!/usr/bin/env node
'use strict';
// `npm install` of the binding: builds the addon with node-gyp when librbd's headers are on this machine. Without
// them (a laptop without Ceph, and no root to install librbd-dev) it says so in one line and leaves the addon
// unbuilt, so that the install of the whole project still succeeds: BMI then runs with [driver] fs = fake and
// refuses fs = ceph at start with what to install. BMI_RBD_REQUIRED=1 (set by the project's scripts, which
// install librbd-dev first) makes the missing headers an error instead.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const includeDirs = [process.env.npm_config_rbd_includedir, '/usr/include', '/usr/local/include'].filter(Boolean);
const header = includeDirs.map((d) => path.join(d, 'rbd', 'librbd.h')).find((f) => fs.existsSync(f));

if (!header) {
  const what = `librbd's headers (rbd/librbd.h) are not in ${includeDirs.join(', ')}`;
  if (process.env.BMI_RBD_REQUIRED === '1') {
    process.stderr.write(`ceph-rbd-napi: ${what}; install librbd-dev and librados-dev\n`);
    process.exit(1);
  }
  process.stderr.write(
    `ceph-rbd-napi: NOT BUILT: ${what}. BMI runs only with [driver] fs = fake until librbd-dev and ` +
      'librados-dev are installed and `npm rebuild ceph-rbd-napi` is run.\n',
  );
  process.exit(0);
}
const r = spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
