// The boot benchmark (`npm run bench:boot`, part of `npm run bench`): QEMU nodes booting at once from BMI's
// disks, on the boot tests' machinery. Not a test tier: `npm test` does not run it.
module.exports = {
  rootDir: '../..',
  testTimeout: 900000,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testMatch: ['<rootDir>/bench/boot/**/*.bench-spec.ts'],
};
