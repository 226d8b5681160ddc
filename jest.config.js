// The tiers, selectable with --selectProjects: unit (src/**/*.spec.ts: one unit with fakes, beside its code),
// app (test/app: the services of the whole app built in-process on the fake drivers and a real SQLite, and the
// migrations), app-pg (the same on PostgreSQL), e2e (test/e2e: the app over HTTP, the server and CLI as processes), integration (real Ceph and
// tgtd), faults (a real BMI process killed at every step, on Ceph and tgtd), multi (several BMI processes on PostgreSQL), boot (QEMU nodes), browser (Swagger UI in a headless Chromium), and the binding's own rbd-unit and rbd-integration.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json' }];
// the librbd binding's own tests (native/ceph-rbd-napi): its unit tests and its tests against real Ceph
const rbd = require('./native/ceph-rbd-napi/jest.config.js').projects;
// the ES-modules-only packages the browser tests load, and how they are turned into CommonJS for Jest
const ESM_ONLY = ['puppeteer-core', '@puppeteer/browsers', 'chromium-bidi'];
const esmToCommonJs = [
  'ts-jest',
  { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true } },
];
const common = { transform: { '^.+\\.ts$': tsJest }, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
module.exports = {
  // a Ceph call may wait on the cluster; no test relies on this for timing
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'app',
      rootDir: '.',
      testMatch: ['<rootDir>/test/app/**/*.app-spec.ts'],
      // SQLite to PostgreSQL: app-pg only
      testPathIgnorePatterns: ['/test/app/database/copy-to-postgres\\.app-spec\\.ts$'],
    },
    // the same on PostgreSQL (scripts/pg-local.sh): each app on a fresh database; the SQLite files' own
    // migrations (the original's tables adopted in place) stay on the app project
    {
      ...common,
      displayName: 'app-pg',
      rootDir: '.',
      // and the /v1 face over HTTP, whose pages and keys are SQL of their own
      testMatch: ['<rootDir>/test/app/**/*.app-spec.ts', '<rootDir>/test/e2e/v1-api.e2e-spec.ts'],
      testPathIgnorePatterns: ['/test/app/database/(initial-schema|image-exported)\\.app-spec\\.ts$'],
      setupFiles: ['<rootDir>/test/utils/on-postgres.setup.js'],
    },
    { ...common, displayName: 'e2e', rootDir: '.', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
    // against the real components (a Ceph cluster from scripts/ceph-local.sh); fail in CI when they are missing
    {
      ...common,
      displayName: 'integration',
      rootDir: '.',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
    },
    // several real BMI processes on one PostgreSQL, Ceph pool and tgtd, one of them killed under load
    { ...common, displayName: 'multi', rootDir: '.', testMatch: ['<rootDir>/test/multi/**/*.multi-spec.ts'] },
    // a real BMI process killed at every step of every operation, on a real Ceph and tgtd; then recovery
    { ...common, displayName: 'faults', rootDir: '.', testMatch: ['<rootDir>/test/faults/**/*.faults-spec.ts'] },
    // real QEMU nodes PXE-booting from BMI's disks (scripts/boot-lib.sh sets the environment up); minutes, not ms
    { ...common, displayName: 'boot', rootDir: '.', testMatch: ['<rootDir>/test/boot/**/*.boot-spec.ts'] },
    // Swagger UI at /docs driven in a real headless Chromium (Debian's chromium, through puppeteer-core); fails in
    // CI when Chromium is missing. puppeteer-core and the packages it loads ship ES modules only, which Jest's
    // CommonJS runtime cannot load: they go through ts-jest like the tests (to CommonJS, no type-check; cached).
    {
      ...common,
      displayName: 'browser',
      rootDir: '.',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
      transform: { ...common.transform, [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: esmToCommonJs },
      transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
    },
    ...rbd,
  ],
};
