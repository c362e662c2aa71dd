/**
 * @k6-platform/constructs as published: built and packed once (`npm pack`), then
 * - installed into a project outside the repository and used there by a plain CommonJS `node` script;
 * - its API report (constructs/etc/constructs.api.md) and API reference (docs/api/) checked fresh.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import * as YAML from 'yaml';
import { versions } from '../constructs/src/contract/versions';
import { initProject, InitError, type InitResult } from '../cli/scaffold/init';
import { readTree } from './support/files';
import {
  buildPackage,
  consumerProject,
  constructsDir,
  npmInstall,
  peerInstallArgs,
  repoRoot,
  rootVersion,
  run,
  runAsync,
  type BuiltPackage,
} from './support/package';

let work: string;
let pkg: BuiltPackage;
/** The slow independent steps overlap: typedoc runs during the build, both npm installs run together. */
let typedoc: Promise<string>;
let consumerInstall: Promise<string>;
let scaffold: InitResult;
let scaffoldInstall: Promise<string>;
let scaffoldManifest: string;
/** A promise whose rejection is reported by the test that awaits it, not as an unhandled rejection. */
const settled = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'k6-package-'));
  const typedocBin = path.join(repoRoot, 'node_modules', 'typedoc', 'bin', 'typedoc');
  typedoc = settled(runAsync(process.execPath, [typedocBin, '--options', 'typedoc.json', '--out', path.join(work, 'api-docs')], constructsDir));
  pkg = buildPackage(work);
  // a plain project with only the package and its peers
  consumerInstall = settled(npmInstall(consumerProject(path.join(work, 'consumer'), 'consumer'), [pkg.tarball, ...peerInstallArgs()]));
  // the repository `loadtest init` writes, with the library from the tarball instead of the registry
  scaffold = initProject(path.join(work, 'checkout-load-tests'));
  scaffoldManifest = readFileSync(path.join(scaffold.dir, 'package.json'), 'utf8'); // as written, before npm install edits it
  scaffoldInstall = settled(npmInstall(scaffold.dir, [pkg.tarball]));
}, 300_000);
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  immutable?: boolean;
}

describe('the packed tarball', () => {
  test('holds the compiled library with declarations, the starter script, the CRD and the README; no sources or tests', () => {
    // THEN
    expect(pkg.files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'crds/k6.io_testruns.yaml',
        'lib/index.js',
        'lib/index.d.ts',
        'lib/platform/load-test-platform.js',
        'lib/platform/load-test-platform.d.ts',
        'lib/imports/k6.io.js',
        'lib/k6/starter.sh',
        ...readdirSync(path.join(repoRoot, 'dashboards', 'generated'))
          .filter((f) => f.endsWith('.json'))
          .map((f) => `lib/dashboards/${f}`),
      ]),
    );
    expect(
      pkg.files.filter((f) => !/^(package\.json|README\.md|crds\/[^/]+\.yaml|lib\/.+\.(js|d\.ts|sh)|lib\/dashboards\/[^/]+\.json)$/.test(f)),
    ).toEqual([]);
    expect(pkg.files.filter((f) => /\.test\.|(^|\/)src\/|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(pkg.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: '@k6-platform/constructs',
      version: '0.1.0',
      license: 'Apache-2.0',
      main: './lib/index.js',
      types: './lib/index.d.ts',
      exports: { '.': { types: './lib/index.d.ts', default: './lib/index.js' } },
    });
  });

  test('`npm pack` in constructs/ builds the library first (prepack), so it publishes the same files as this harness', () => {
    // WHEN: packing the package as a maintainer would, from its own folder (a dry run still runs prepack)
    const out = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: path.join(repoRoot, 'constructs'), encoding: 'utf8' });
    // THEN
    expect(out.status).toBe(0);
    const packed = JSON.parse(out.stdout.slice(out.stdout.indexOf('['))) as { files: { path: string }[] }[];
    expect(packed[0]!.files.map((f) => f.path).sort()).toEqual(pkg.files);
  });

  test('installs into a project outside the repository and synthesizes there from a plain node script', async () => {
    // GIVEN: a consumer project with its own scripts, the tarball and the peers installed from the npm cache
    const consumer = path.join(work, 'consumer');
    await consumerInstall;
    mkdirSync(path.join(consumer, 'scripts', 'lib'), { recursive: true });
    writeFileSync(
      path.join(consumer, 'scripts', 'hello.js'),
      "import http from 'k6/http';\nimport { target } from './lib/target.js';\nexport default function () { http.get(target); }\n",
    );
    writeFileSync(path.join(consumer, 'scripts', 'lib', 'target.js'), "export const target = 'https://test.k6.io/';\n");
    writeFileSync(
      path.join(consumer, 'synth.js'),
      [
        "'use strict';",
        "const fs = require('node:fs');",
        "const path = require('node:path');",
        "const { App } = require('cdk8s');",
        "const lib = require('@k6-platform/constructs');",
        "const app = new App({ outdir: path.join(__dirname, 'out'), outputFileExtension: '.k8s.yaml' });",
        "const platform = new lib.LoadTestPlatform(app, 'Platform', {",
        "  scriptsDir: path.join(__dirname, 'scripts'),",
        "  environment: 'staging',",
        "  namespaces: { loadTests: 'perf' },",
        "  tests: [{ name: 'hello', script: 'hello.js', parallelism: 3, thresholds: { http_req_failed: ['rate<0.01'] } }],",
        '});',
        'app.synth();',
        'fs.writeFileSync(path.join(__dirname, "report.json"), JSON.stringify({',
        "  resolved: require.resolve('@k6-platform/constructs'),",
        '  values: platform.monitoringStack.values,',
        '  remoteWriteUrl: platform.remoteWriteUrl,',
        '  k6: lib.versions.k6,',
        '}));',
        '',
      ].join('\n'),
    );

    // WHEN
    run(process.execPath, ['synth.js'], consumer);

    // THEN: the library came from the installed package, not from the repository
    const report = JSON.parse(readFileSync(path.join(consumer, 'report.json'), 'utf8')) as {
      resolved: string;
      values: { prometheus: { prometheusSpec: { enableRemoteWriteReceiver: boolean; enableFeatures: string[] } }; grafana: { sidecar: unknown } };
      remoteWriteUrl: string;
      k6: string;
    };
    expect(report.resolved).toBe(path.join(consumer, 'node_modules', '@k6-platform', 'constructs', 'lib', 'index.js'));
    expect(report.k6).toBe(versions.k6);
    // the monitoring values
    expect(report.values.prometheus.prometheusSpec.enableRemoteWriteReceiver).toBe(true);
    expect(report.values.prometheus.prometheusSpec.enableFeatures).toEqual(['native-histograms']);
    expect(report.remoteWriteUrl).toBe('http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write');
    // the objects
    const objects = readdirSync(path.join(consumer, 'out'))
      .filter((f) => f.endsWith('.k8s.yaml'))
      .flatMap((f) => YAML.parseAllDocuments(readFileSync(path.join(consumer, 'out', f), 'utf8')).map((d) => d.toJS() as Obj))
      .filter((o) => o !== null);
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['monitoring', 'perf']);
    const scripts = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['app.kubernetes.io/component'] === 'test-script');
    expect(scripts).toHaveLength(1);
    const cm = scripts[0]!;
    expect(cm.metadata.name).toMatch(/^k6-hello-[0-9a-f]{12}$/);
    expect(cm.metadata.namespace).toBe('perf');
    expect(cm.immutable).toBe(true);
    expect(Object.keys(cm.data ?? {}).sort()).toEqual(['hello.js', 'lib__target.js']);
    expect(cm.metadata.labels?.['k6.platform/environment']).toBe('staging');
    // the dashboards shipped in the package, one sidecar-labelled ConfigMap each, in the monitoring namespace
    const shipped = readdirSync(path.join(repoRoot, 'dashboards', 'generated')).filter((f) => f.endsWith('.json'));
    const dashboards = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards.flatMap((o) => Object.keys(o.data ?? {})).sort()).toEqual(shipped.sort());
    expect(new Set(dashboards.map((o) => o.metadata.namespace))).toEqual(new Set(['monitoring']));
    // and the run of the test: three runners
    expect(objects.filter((o) => o.kind === 'Job').length).toBeGreaterThan(0);
  });
});

describe('API report and reference', () => {
  test('constructs/etc/constructs.api.md matches the public API (run `npm run docs:api` after an API change)', () => {
    // GIVEN: the committed config, analyzing the packed declarations, comparing with the committed report
    const configFile = path.join(pkg.dir, 'api-extractor.json');
    const configObject = ExtractorConfig.loadFile(configFile);
    const apiReport = configObject.apiReport!;
    configObject.apiReport = { ...apiReport, reportFolder: path.join(constructsDir, 'etc'), reportTempFolder: path.join(work, 'api-report') };
    const config = ExtractorConfig.prepare({
      configObject,
      configObjectFullPath: configFile,
      packageJsonFullPath: path.join(pkg.dir, 'package.json'),
    });
    const messages: string[] = [];

    // WHEN
    const result = Extractor.invoke(config, {
      localBuild: false,
      messageCallback: (m) => {
        if (m.logLevel === 'error') messages.push(m.text);
        m.handled = true;
      },
    });

    // THEN: the report generated now equals the committed one
    const fresh = path.join(work, 'api-report', 'constructs.api.md');
    expect(messages).toEqual([]);
    expect(readFileSync(fresh, 'utf8')).toBe(readFileSync(path.join(constructsDir, 'etc', 'constructs.api.md'), 'utf8'));
    expect(result.apiReportChanged).toBe(false);
  });

  test('docs/api is what typedoc generates from the TSDoc today (run `npm run docs:api` after a doc change)', async () => {
    // GIVEN / WHEN: typedoc over the sources into a temporary directory (started in beforeAll)
    const out = path.join(work, 'api-docs');
    await typedoc;
    // THEN
    const fresh = readTree(out);
    const committed = readTree(path.join(repoRoot, 'docs', 'api'));
    expect(fresh.size).toBeGreaterThan(10);
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    const stale = [...fresh].filter(([f, text]) => committed.get(f) !== text).map(([f]) => f);
    expect(stale).toEqual([]);
  });
});

describe('loadtest init: the scaffold of a team repository', () => {
  test('refuses a non-empty directory, naming it, and writes nothing', () => {
    // GIVEN
    const dir = path.join(work, 'taken');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
    // WHEN / THEN
    expect(() => initProject(dir)).toThrow(
      new InitError(`loadtest init: directory ${dir} is not empty (found: notes.txt); choose a new or empty directory, nothing was written`),
    );
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  test('bad options are refused with the option named', () => {
    expect(() => initProject(path.join(work, 'bad-env'), { environment: 'Prod' })).toThrow(
      `loadtest init: 'environment' must be a DNS label of at most 30 characters such as "dev", got "Prod"`,
    );
    expect(() => initProject(path.join(work, 'bad-name'), { name: 'My Tests' })).toThrow(
      `loadtest init: 'name' must be an npm package name (lower-case letters, digits, "-", "." or "_"), got "My Tests"`,
    );
  });

  test('writes a repository whose own tests pass with the packed library installed: type-check and synth', async () => {
    // GIVEN: the repository written in beforeAll
    const dir = scaffold.dir;
    const result = scaffold;
    // THEN: the files
    expect(result.files).toEqual([
      '.github/workflows/loadtest.yml',
      '.gitignore',
      'Pulumi.dev.yaml',
      'README.md',
      'cdk8s.yaml',
      'main.ts',
      'package.json',
      'scripts/example.ts',
      'scripts/tsconfig.json',
      'tsconfig.json',
    ]);
    const manifest = JSON.parse(scaffoldManifest) as {
      name: string;
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(manifest.name).toBe('checkout-load-tests');
    expect(manifest.dependencies).toEqual({
      '@k6-platform/constructs': '^0.1.0',
      cdk8s: `^${rootVersion('cdk8s')}`,
      'cdk8s-plus-27': `^${rootVersion('cdk8s-plus-27')}`,
      constructs: `^${rootVersion('constructs')}`,
    });
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('npm install && npm test ');
    expect(readme).toContain('loadtest run example --env dev ');
    // the CI workflow synthesizes and judges
    const workflow = YAML.parse(readFileSync(path.join(dir, '.github', 'workflows', 'loadtest.yml'), 'utf8')) as {
      jobs: Record<string, { steps: { run?: string }[] }>;
    };
    expect(Object.keys(workflow.jobs)).toEqual(['synth', 'run']);
    expect(workflow.jobs.synth!.steps.map((s) => s.run).filter(Boolean)).toEqual(['npm ci', 'npm test']);
    expect(workflow.jobs.run!.steps.map((s) => s.run ?? '').filter((r) => r.includes('loadtest'))).toEqual([
      'npx --yes --package @k6-platform/cli loadtest run "${{ inputs.test }}" --env dev --run-id "$RUN_ID"',
      'npx --yes --package @k6-platform/cli loadtest verdict --testid "$RUN_ID" --env dev',
    ]);

    // WHEN: its dependencies are installed, with the library from the packed tarball, and its own tests run
    await scaffoldInstall;
    run('npm', ['test'], dir);

    // THEN: the synthesized manifests hold the example test's script and its runners
    const out = path.join(dir, 'dist', 'dev');
    const objects = readdirSync(out)
      .filter((f) => f.endsWith('.k8s.yaml'))
      .flatMap((f) => YAML.parseAllDocuments(readFileSync(path.join(out, f), 'utf8')).map((d) => d.toJS() as Obj | null))
      .filter((o): o is Obj => o !== null);
    const scripts = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['app.kubernetes.io/component'] === 'test-script');
    expect(scripts.map((o) => [o.metadata.namespace, Object.keys(o.data ?? {})])).toEqual([['k6', ['example.ts']]]);
    expect(objects.filter((o) => o.kind === 'Job' && o.metadata.labels?.['k6.platform/test'] === 'example').length).toBeGreaterThan(0);
    expect(objects.filter((o) => o.metadata.labels?.grafana_dashboard === '1').length).toBeGreaterThan(0);

    // and a type error in a script fails its tests
    writeFileSync(
      path.join(dir, 'scripts', 'example.ts'),
      `${readFileSync(path.join(dir, 'scripts', 'example.ts'), 'utf8')}\nconst n: number = 'x';\n`,
    );
    expect(() => run('npm', ['run', 'typecheck'], dir)).toThrow(/scripts\/example\.ts\(\d+,\d+\): error TS2322/);
  });
});
