export { startHilServer } from './server';
export type { HilServer, HilServerOptions } from './server';
export { HilState, loadSeedFile } from './state';
export type { HilSeed, SeedNode } from './state';

import * as path from 'node:path';

/** The state of the recorded HIL before its first request (../shared/hil-fixtures, setup-01). */
export const RECORDING_SEED_FILE = path.join(__dirname, 'seeds', 'recording.json');
