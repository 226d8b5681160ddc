#!/usr/bin/env node
'use strict';
// The `bmi` command: runs the compiled CLI (src/cli, built into dist/cli by `npm run build`).
const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(`bmi: the CLI is not built (${entry} is missing); run \`npm run build\` first\n`);
  process.exit(1);
}
require(entry);
