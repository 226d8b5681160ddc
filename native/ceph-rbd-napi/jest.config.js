// Jest projects for this package; run with the repository root's jest:
//   npx jest -c native/ceph-rbd-napi/jest.config.js                 (both)
//   npx jest -c native/ceph-rbd-napi/jest.config.js --selectProjects rbd-unit
// The integration project needs a Ceph cluster in the environment
// (CEPH_CONF, CEPH_KEYRING, CEPH_ID, CEPH_POOL; see README).
const path = require('node:path');

const tsJest = ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.json') }];
const common = {
  rootDir: __dirname,
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'rbd-unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'rbd-integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
  ],
};
