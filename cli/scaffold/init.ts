/**
 * `loadtest init <dir>`: writes a ready load-test repository for a service team, built on the published construct
 * library `@k6-platform/constructs`: one typed example test, one environment, a cdk8s app, a README with the two
 * commands and a CI workflow that synthesizes and judges runs.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DNS_LABEL } from '@k6-platform/constructs';

/** Options of {@link initProject}. */
export interface InitOptions {
  /**
   * npm package name of the new repository.
   * @default - the directory's base name
   */
  readonly name?: string;
  /**
   * The one environment the config declares (`Pulumi.<environment>.yaml`).
   * @default "dev"
   */
  readonly environment?: string;
  /**
   * Version range of `@k6-platform/constructs` the repository depends on.
   * @default - "^" + the version in constructs/package.json
   */
  readonly libraryVersion?: string;
  /**
   * npm package that provides the `loadtest` command the CI workflow runs (`npx --package <cliPackage> loadtest`).
   * @default "@k6-platform/cli"
   */
  readonly cliPackage?: string;
}

/** What {@link initProject} wrote. */
export interface InitResult {
  /** The repository directory (absolute). */
  readonly dir: string;
  /** Files written, relative to `dir`, sorted. */
  readonly files: readonly string[];
}

/** Thrown for a directory that cannot be initialized or a bad option. */
export class InitError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'InitError';
  }
}

/** Name of the example test (and of its script, `scripts/<name>.ts`). */
export const EXAMPLE_TEST = 'example';
/** npm package names: lower case, optional scope, URL-safe characters. */
const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

interface PackageJson {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const repoRoot = path.resolve(__dirname, '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/**
 * Writes a new load-test repository into `dir` (created when missing). Refuses a directory that exists and is not
 * empty, so nothing is ever overwritten.
 */
export function initProject(dir: string, options: InitOptions = {}): InitResult {
  const root = path.resolve(dir);
  if (existsSync(root)) {
    if (!statSync(root).isDirectory()) throw new InitError(`loadtest init: ${root} exists and is not a directory; choose a new or empty directory`);
    const entries = readdirSync(root).sort();
    if (entries.length > 0) {
      const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, ... (${entries.length} entries)` : '');
      throw new InitError(`loadtest init: directory ${root} is not empty (found: ${shown}); choose a new or empty directory, nothing was written`);
    }
  }
  const name = options.name ?? path.basename(root).toLowerCase();
  if (!NPM_NAME.test(name) || name.length > 214) {
    throw new InitError(
      `loadtest init: 'name' must be an npm package name (lower-case letters, digits, "-", "." or "_"), got ${JSON.stringify(name)}`,
    );
  }
  const environment = options.environment ?? 'dev';
  if (environment.length > 30 || !DNS_LABEL.test(environment)) {
    throw new InitError(
      `loadtest init: 'environment' must be a DNS label of at most 30 characters such as "dev", got ${JSON.stringify(environment)}`,
    );
  }
  const library = readJson(path.join(repoRoot, 'constructs', 'package.json'));
  const rootPkg = readJson(path.join(repoRoot, 'package.json'));
  const caret = (pkg: string) => {
    const v = rootPkg.devDependencies?.[pkg] ?? rootPkg.dependencies?.[pkg];
    if (v === undefined) throw new Error(`loadtest init: ${pkg} is not a dependency of ${path.join(repoRoot, 'package.json')}`);
    return `^${v}`;
  };
  const files = projectFiles({
    name,
    environment,
    libraryVersion: options.libraryVersion ?? `^${library.version}`,
    peers: library.peerDependencies ?? {},
    devVersions: { typescript: caret('typescript'), tsx: caret('tsx'), '@types/k6': caret('@types/k6'), '@types/node': caret('@types/node') },
    cliPackage: options.cliPackage ?? '@k6-platform/cli',
  });
  for (const [rel, content] of files) {
    const full = path.join(root, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return { dir: root, files: [...files.keys()].sort() };
}

interface Inputs {
  readonly name: string;
  readonly environment: string;
  readonly libraryVersion: string;
  readonly peers: Readonly<Record<string, string>>;
  readonly devVersions: Readonly<Record<string, string>>;
  readonly cliPackage: string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The generated repository: relative path -> content. */
function projectFiles(i: Inputs): Map<string, string> {
  const env = i.environment;
  const files = new Map<string, string>();

  files.set(
    'package.json',
    json({
      name: i.name,
      version: '0.1.0',
      private: true,
      description: 'Load tests of this service, run on Kubernetes by the k6 platform (@k6-platform/constructs)',
      engines: { node: '>=20.19' },
      scripts: {
        synth: 'tsx main.ts',
        typecheck: 'tsc -p tsconfig.json && tsc -p scripts/tsconfig.json',
        test: 'npm run typecheck && npm run synth',
      },
      dependencies: {
        '@k6-platform/constructs': i.libraryVersion,
        ...Object.fromEntries(Object.entries(i.peers).sort(([a], [b]) => (a < b ? -1 : 1))),
      },
      devDependencies: i.devVersions,
    }),
  );

  files.set(
    'tsconfig.json',
    json({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'node16',
        moduleResolution: 'node16',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        esModuleInterop: true,
        types: ['node'],
      },
      include: ['main.ts'],
    }),
  );

  files.set(
    'main.ts',
    `/**
 * The cdk8s app of this repository (\`npm run synth\`, or \`npx cdk8s synth\` with cdk8s.yaml): the k6 platform from
 * @k6-platform/constructs, configured by Pulumi.<env>.yaml (keys \`k6platform:<setting>\`, checked by the platform's
 * schema), with the tests under scripts/. Writes dist/<env>/.
 */
import * as path from 'node:path';
import { App } from 'cdk8s';
import { LoadTestPlatform, loadEnvironmentConfig } from '@k6-platform/constructs';

const environment = process.env.K6_PLATFORM_ENV ?? '${env}';
const config = loadEnvironmentConfig(__dirname, environment);
const app = new App({ outdir: process.env.CDK8S_OUTDIR ?? path.join(__dirname, 'dist', environment), outputFileExtension: '.k8s.yaml' });
new LoadTestPlatform(app, 'Platform', { ...config, scriptsDir: path.join(__dirname, 'scripts') });
app.synth();
`,
  );

  files.set('cdk8s.yaml', `language: typescript\napp: npx tsx main.ts\noutput: dist/${env}\n`);

  files.set(
    `Pulumi.${env}.yaml`,
    `# The ${env} environment of the k6 platform: the same keys \`pulumi config set k6platform:<key>\` writes.
# Settings and defaults: \`PlatformConfigInput\` in the API reference of @k6-platform/constructs.
config:
  k6platform:namespaces:
    monitoring: monitoring
    loadTests: k6
  k6platform:tests:
    - name: ${EXAMPLE_TEST}
      script: ${EXAMPLE_TEST}.ts
      parallelism: 2
      vus: 10
      duration: 1m
      thresholds:
        http_req_failed: ['rate<0.01']
        http_req_duration: ['p(95)<500']
      env:
        BASE_URL: https://test.k6.io
      targets:
        - cidr: 0.0.0.0/0
          ports: [443]
`,
  );

  files.set(
    `scripts/${EXAMPLE_TEST}.ts`,
    `// The example load test (k6 runs TypeScript as it is). Typed with @types/k6: \`npm run typecheck\`.
import http from 'k6/http';
import { check, sleep } from 'k6';
import type { Options } from 'k6/options';

const BASE_URL = __ENV.BASE_URL ?? 'https://test.k6.io';

export const options: Options = {
  stages: [
    { duration: '30s', target: 10 },
    { duration: '30s', target: 0 },
  ],
};

export default function (): void {
  const res = http.get(\`\${BASE_URL}/\`);
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(1);
}
`,
  );

  files.set(
    'scripts/tsconfig.json',
    json({
      compilerOptions: {
        target: 'ES2020',
        module: 'ES2020',
        moduleResolution: 'bundler',
        lib: ['ES2020'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['k6'],
      },
      include: ['**/*.ts'],
    }),
  );

  files.set('.gitignore', 'node_modules/\ndist/\n');

  files.set(
    'README.md',
    `# ${i.name}: load tests

Load tests of this service, run on Kubernetes by the k6 platform: each test runs on N runner pods that write their
metrics to Prometheus, Grafana shows the run live, and the verdict judges the thresholds over all runners together.

\`\`\`sh
npm install && npm test                           # 1. type-check the scripts, synthesize the manifests into dist/${env}/ (no cluster needed)
npx --package ${i.cliPackage} loadtest run ${EXAMPLE_TEST} --env ${env}   # 2. run the test on the current kube-context, follow it, judge it
\`\`\`

- Add a test: write \`scripts/<name>.ts\`, add it under \`k6platform:tests\` in \`Pulumi.${env}.yaml\`, run \`npm test\`.
- Judge a run again later: \`npx --package ${i.cliPackage} loadtest verdict --testid <run id> --env ${env}\` (exit 0 pass, 99 fail).
- CI: \`.github/workflows/loadtest.yml\` synthesizes on every push; "Run workflow" runs a test and fails on a failed verdict.
- The platform's settings, constructs and API: the \`@k6-platform/constructs\` package (\`LoadTestPlatform\`).
`,
  );

  files.set(
    '.github/workflows/loadtest.yml',
    `# Generated by \`loadtest init\`. Synthesizes on every push; a manual run deploys nothing, it runs one test on the
# cluster of the KUBECONFIG secret and fails when the verdict (thresholds over all runners) fails.
name: loadtest
on:
  push:
  pull_request:
  workflow_dispatch:
    inputs:
      test:
        description: Test to run (a name under k6platform:tests)
        required: true
        default: ${EXAMPLE_TEST}
permissions:
  contents: read
jobs:
  synth:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - name: Type-check and synthesize
        run: npm test
      - uses: actions/upload-artifact@v4
        with:
          name: manifests
          path: dist/
  run:
    if: github.event_name == 'workflow_dispatch'
    needs: synth
    runs-on: ubuntu-latest
    environment: ${env}
    env:
      RUN_ID: \${{ inputs.test }}-\${{ github.run_id }}
      LOADTEST_PROMETHEUS_URL: \${{ vars.LOADTEST_PROMETHEUS_URL }}
      LOADTEST_GRAFANA_URL: \${{ vars.LOADTEST_GRAFANA_URL }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - name: Kubeconfig
        run: mkdir -p ~/.kube && printf '%s' "$KUBECONFIG_DATA" > ~/.kube/config
        env:
          KUBECONFIG_DATA: \${{ secrets.KUBECONFIG }}
      - name: Run the test
        run: npx --yes --package ${i.cliPackage} loadtest run "\${{ inputs.test }}" --env ${env} --run-id "$RUN_ID"
      - name: Verdict (thresholds over all runners)
        if: always()
        run: npx --yes --package ${i.cliPackage} loadtest verdict --testid "$RUN_ID" --env ${env}
`,
  );
  return files;
}
