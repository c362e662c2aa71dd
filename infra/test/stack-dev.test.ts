import { stackSuite } from './stack-suite';

// The mocks test of Pulumi.dev.yaml (one stack per test file: the Pulumi runtime and the program are per module registry).
// A typed require() after setMocks: `await import()` of the program fails under ts-jest (STYLE.md section 6).
// eslint-disable-next-line @typescript-eslint/no-require-imports
stackSuite('dev', () => require('../stack') as typeof import('../stack'));
