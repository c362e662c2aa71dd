/**
 * How jest loads ESM-only dependencies (settled once, here): jest runs everything as CommonJS. Packages listed in
 * test/jest/esm-packages.js are resolved with the `import` export condition (test/jest/resolver.js) and transpiled
 * to CommonJS by ts-jest like our own sources. No --experimental-vm-modules needed.
 */
const { esmPackages } = require('./test/jest/esm-packages');

const escaped = esmPackages.map((p) => p.replace(/[/.]/g, '\\$&')).join('|');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  resolver: '<rootDir>/test/jest/resolver.js',
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/', '/\\.cdk8s\\.out/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // Example consumer programs (examples/) import the library by its published name; in the repo it is the source.
  moduleNameMapper: {
    '^@k6-platform/constructs$': '<rootDir>/constructs/src/index.ts',
    '^@k6-platform/constructs/output$': '<rootDir>/constructs/src/output/index.ts',
    '^@k6-platform/constructs/internal$': '<rootDir>/constructs/src/internal.ts',
  },
  transform: {
    '^.+\\.[tj]s$': [
      'ts-jest',
      {
        tsconfig: { module: 'commonjs', moduleResolution: 'node10', allowJs: true, isolatedModules: true, esModuleInterop: true, target: 'ES2022' },
        diagnostics: false,
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${escaped})/)`],
  testTimeout: 60000,
  // One worker per core, not jest's default of cores - 1: many test files spend their time waiting on child processes
  // (npm install, helm, Prometheus, the synth app), so on a 2-core machine the default ran every file in band.
  maxWorkers: '100%',
};
