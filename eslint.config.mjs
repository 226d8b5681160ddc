// ESLint: typescript-eslint's recommended rules, and the layering of the style guide as import rules:
//   controllers -> services -> ports; drivers only behind ports (a module file picks one by config);
//   common/ imports no module; src/ imports nothing from test/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Concrete drivers: only the *.module.ts that chooses one by config (and tests) may import them. */
const DRIVERS = [
  '**/drivers/**',
  '**/storage/ceph-rbd.storage',
  '**/storage/fake-block-storage',
  '**/process/spawn-command-runner',
  '**/process/fake-command-runner',
];
const TEST = ['**/test/**'];
const MODULES = ['**/modules/**', '../modules/*', './modules/*'];

/** One no-restricted-imports rule from groups of [patterns, why]. */
function restrict(...groups) {
  return {
    'no-restricted-imports': [
      'error',
      { patterns: groups.map(([group, message]) => ({ group, message })) },
    ],
  };
}

const noTest = [TEST, 'src/ never imports from test/: test helpers live under test/'];
const noDrivers = [DRIVERS, 'drivers are reached through their port; only the module file chooses one'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'native/**', 'var/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // src: no test code; drivers only through their ports
  { files: ['src/**/*.ts'], ignores: ['src/**/*.spec.ts', 'src/**/*.module.ts'], rules: restrict(noTest, noDrivers) },
  // module files choose drivers; unit specs use the unit under test and its fakes, never the app-level helpers
  { files: ['src/**/*.module.ts', 'src/**/*.spec.ts'], rules: restrict(noTest) },
  // common/ is below every module
  {
    files: ['src/common/**/*.ts'],
    ignores: ['src/common/**/*.spec.ts', 'src/common/**/*.module.ts'],
    rules: restrict(noTest, noDrivers, [MODULES, 'common/ imports no module: move the shared part into common/']),
  },
  { files: ['src/common/**/*.module.ts'], rules: restrict(noTest, [MODULES, 'common/ imports no module']) },
  // controllers talk to services: no drivers, no entities or repositories
  {
    files: ['src/modules/**/*.controller.ts'],
    rules: restrict(noTest, noDrivers, [
      ['**/*.entity', 'typeorm', '@nestjs/typeorm'],
      'controllers call services; rows and repositories stay behind them',
    ]),
  },
  // drivers implement a port and know nothing of the services or routes above them
  {
    files: ['src/modules/**/drivers/**/*.ts', 'src/modules/images/storage/*.storage.ts'],
    ignores: ['**/*.spec.ts'],
    rules: restrict(noTest, [
      ['**/*.service', '**/*.controller', '**/*.module'],
      'a driver implements its port; it does not call up into services or controllers',
    ]),
  },
  // jest specs and helpers
  {
    files: ['src/**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts', 'tools/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
