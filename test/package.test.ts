/**
 * The two packages as published, built and packed once each (`npm pack`), and adopted as a team would, with only the
 * tarballs (neither comes from a registry):
 * - @k6-platform/constructs installed into a project outside the repository and used there by a plain CommonJS
 *   `node` script, with what it adds to node_modules measured; its API report (constructs/etc/constructs.api.md) and
 *   API reference (docs/api/) checked fresh;
 * - @k6-platform/cli installed from its tarball: its `loadtest init` writes a team's repository, the commands of that
 *   repository's own README and CI workflow pass there, and `loadtest synth`, `verdict --json`/`--junit` (against the
 *   real Prometheus harness holding runs of the scaffold's example test) and `loadtest runs` work from inside it, each
 *   as the compiled bin a team installs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import * as YAML from 'yaml';
import { parsePlatformConfig } from '../constructs/src/config/platform-config';
import { versions } from '../constructs/src/contract/versions';
import { monitoringValues } from '../constructs/src/monitoring/monitoring-stack';
import { startFakeApiServer } from './support/fake-api-server';
import { readTree } from './support/files';
import { parseJunit } from './support/junit';
import { pushK6Run, type K6RunTruth } from './support/k6-run';
import {
  buildCliPackage,
  buildPackage,
  bytesUnder,
  cliDir,
  consumerProject,
  constructsDir,
  installedClosure,
  npmInstall,
  peerInstallArgs,
  peerNames,
  repoRoot,
  rootVersion,
  run,
  runAsync,
  type BuiltPackage,
} from './support/package';
import { startPrometheus, type PrometheusHandle } from './support/prometheus';

let work: string;
let lib: BuiltPackage;
let cli: BuiltPackage;
/** The consumer project: both tarballs and the library's peers installed; the CLI a team first runs comes from here. */
let tool: string;
let team: string;
/** The slow independent steps overlap: typedoc runs during the builds, the npm install and Prometheus' start. */
let typedoc: Promise<string>;
let prom: PrometheusHandle;
let passing: K6RunTruth;
let failing: K6RunTruth;
/** The run `loadtest run` started (its metrics written by the fake cluster's runners). */
let followed: K6RunTruth;
/** The run of the CI workflow's run job. */
let fromCi: K6RunTruth;
const cliManifest = JSON.parse(readFileSync(path.join(cliDir, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
};
const MB = 1024 * 1024;
/** A promise whose rejection is reported by the test that awaits it, not as an unhandled rejection. */
const settled = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'k6-package-'));
  const typedocBin = path.join(repoRoot, 'node_modules', 'typedoc', 'bin', 'typedoc');
  typedoc = settled(runAsync(process.execPath, [typedocBin, '--options', 'typedoc.json', '--out', path.join(work, 'api-docs')], constructsDir));
  lib = buildPackage(work);
  cli = buildCliPackage(work);
  // a plain project with both packages and the library's peers (the CLI depends on the library at its version)
  tool = consumerProject(path.join(work, 'consumer'), 'consumer');
  const [, started] = await Promise.all([
    npmInstall(tool, [lib.tarball, cli.tarball, ...peerInstallArgs()]),
    startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec }),
  ]);
  prom = started;
  // GIVEN two runs of the scaffold's example test (2 runners, 1m, thresholds rate<0.01 and p(95)<500): one clean, one
  // with 5 % failed requests
  const now = Date.now();
  passing = await pushK6Run(prom.writeUrl, {
    testid: 'example-20261203-070000',
    test: 'example',
    runners: 2,
    durationSeconds: 60,
    endTime: now - 200_000,
  });
  failing = await pushK6Run(prom.writeUrl, {
    testid: 'example-20261203-071000',
    test: 'example',
    runners: 2,
    durationSeconds: 60,
    endTime: now - 60_000,
    urls: [{ url: 'http://target.local/', failureFraction: 0.05 }],
  });
}, 300_000);
afterAll(() => {
  prom?.stop();
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
    expect(lib.files).toEqual(
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
      lib.files.filter(
        (f) =>
          !/^(package\.json|README\.md|crds\/[^/]+\.yaml|lib\/.+\.(js|d\.ts|sh)|lib\/dashboards\/[^/]+\.json|lib\/vendor\/THIRD-PARTY-LICENSES\.md)$/.test(
            f,
          ),
      ),
    ).toEqual([]);
    expect(lib.files.filter((f) => /\.test\.|(^|\/)src\/|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(lib.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
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
    expect(packed[0]!.files.map((f) => f.path).sort()).toEqual(lib.files);
  });

  test('installs into a project outside the repository and synthesizes there from a plain node script', async () => {
    // GIVEN: a consumer project with its own scripts, the tarballs and the peers installed from the npm cache
    const consumer = path.join(work, 'consumer');
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

describe('what a consumer installs', () => {
  test('the package adds at most 5 MB to node_modules beyond its peer dependencies: its runtime dependencies are inlined', async () => {
    // GIVEN the consumer project of the test above: both tarballs and the peers, installed
    const consumer = path.join(work, 'consumer');
    // WHEN
    const modules = path.join(consumer, 'node_modules');
    const peers = installedClosure(consumer, peerNames());
    const library = installedClosure(consumer, ['@k6-platform/constructs']);
    const added = [...library].filter((dir) => !peers.has(dir));
    const addedBytes = added.reduce((sum, dir) => sum + bytesUnder(dir), 0);
    // THEN: the library alone (no runtime dependency of its own), and everything installed is the library's, a peer's
    // or the CLI's
    console.log(
      `@k6-platform/constructs adds ${(addedBytes / 1048576).toFixed(2)} MB beyond its peers (limit 5 MB); node_modules in all: ${(bytesUnder(modules) / 1048576).toFixed(1)} MB`,
    );
    expect(added).toEqual([path.join(modules, '@k6-platform', 'constructs')]);
    expect(addedBytes).toBeLessThan(5 * 1048576);
    const everything = readdirSync(modules, { withFileTypes: true }).flatMap((e) =>
      e.name.startsWith('.')
        ? []
        : e.name.startsWith('@')
          ? readdirSync(path.join(modules, e.name)).map((n) => path.join(modules, e.name, n))
          : [path.join(modules, e.name)],
    );
    const cliSide = installedClosure(consumer, ['@k6-platform/cli']);
    expect(everything.filter((dir) => !peers.has(dir) && !library.has(dir) && !cliSide.has(dir))).toEqual([]);
  });
});

describe('API report and reference', () => {
  test('constructs/etc/constructs.api.md matches the public API (run `npm run docs:api` after an API change)', () => {
    // GIVEN: the committed config, analyzing the packed declarations, comparing with the committed report
    const configFile = path.join(lib.dir, 'api-extractor.json');
    const configObject = ExtractorConfig.loadFile(configFile);
    const apiReport = configObject.apiReport!;
    configObject.apiReport = { ...apiReport, reportFolder: path.join(constructsDir, 'etc'), reportTempFolder: path.join(work, 'api-report') };
    const config = ExtractorConfig.prepare({
      configObject,
      configObjectFullPath: configFile,
      packageJsonFullPath: path.join(lib.dir, 'package.json'),
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

/** The environment of every command: no kubeconfig, no colors, this machine's npm cache, Prometheus of the harness. */
function env(): NodeJS.ProcessEnv {
  const { KUBECONFIG: _k, FORCE_COLOR: _f, ...rest } = process.env;
  return {
    ...rest,
    HOME: path.join(work, 'home'),
    NO_COLOR: '1',
    LOADTEST_PROMETHEUS_URL: prom.url,
    npm_config_cache: npmCache(),
    npm_config_prefer_offline: 'true',
  };
}
/** npm's cache of the user running the tests, kept when HOME moves (installs stay offline-first). */
const npmCache = () => process.env.npm_config_cache ?? path.join(process.env.HOME ?? tmpdir(), '.npm');

/** Runs a command in `cwd`; gives its exit code and output (never throws on a non-zero exit). */
function sh(command: string, cwd: string) {
  mkdirSync(path.join(work, 'home'), { recursive: true });
  const r = spawnSync('sh', ['-c', command], { cwd, env: env(), encoding: 'utf8', maxBuffer: 64 * MB });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** {@link sh} without blocking this process (the fake API server answering the command runs in it). */
function shAsync(command: string, cwd: string, extraEnv: NodeJS.ProcessEnv) {
  mkdirSync(path.join(work, 'home'), { recursive: true });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd, env: { ...env(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the packed CLI', () => {
  test('holds the compiled bin, its templates and scaffold versions, and nothing to compile', () => {
    expect(cli.files.filter((f) => !f.startsWith('lib/templates/'))).toEqual([
      'README.md',
      'lib/loadtest.js',
      'lib/loadtest.js.map',
      'lib/scaffold.json',
      'package.json',
    ]);
    expect(cli.files.filter((f) => f.startsWith('lib/templates/'))).toEqual(
      readdirSync(path.join(cliDir, 'scaffold', 'templates'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => `lib/templates/${path.relative(path.join(cliDir, 'scaffold', 'templates'), path.join(e.parentPath, e.name))}`)
        .sort(),
    );
    const manifest = JSON.parse(readFileSync(path.join(cli.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: '@k6-platform/cli', bin: { loadtest: 'lib/loadtest.js' }, engines: { node: '>=20.19 <21 || >=22' } });
    // the library at exactly the version released with it
    expect(cliManifest.dependencies['@k6-platform/constructs']).toBe(
      (JSON.parse(readFileSync(path.join(lib.dir, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  test('both packages say where they come from and which Node versions they support, the same way', () => {
    // GIVEN the two manifests as packed
    const manifests = [lib, cli].map((p) => JSON.parse(readFileSync(path.join(p.dir, 'package.json'), 'utf8')) as Record<string, unknown>);
    // THEN
    expect(manifests.map((m) => [m.name, (m.repository as { directory: string }).directory, m.homepage])).toEqual([
      ['@k6-platform/constructs', 'constructs', 'https://github.com/k6-platform/k6-platform/tree/main/constructs#readme'],
      ['@k6-platform/cli', 'cli', 'https://github.com/k6-platform/k6-platform/tree/main/cli#readme'],
    ]);
    expect(
      new Set(manifests.map((m) => JSON.stringify([(m.repository as { url: string }).url, m.bugs, m.engines, m.license, m.version]))),
    ).toHaveProperty('size', 1);
    expect(manifests[0]!.engines).toEqual({ node: '>=20.19 <21 || >=22' });
  });

  test('`npm pack` in cli/ builds the bin first (prepack), so it publishes the same files as this harness', () => {
    // WHEN: packing the package as a maintainer would, from its own folder (a dry run still runs prepack)
    const out = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: cliDir, encoding: 'utf8' });
    // THEN
    expect(out.status).toBe(0);
    const packed = JSON.parse(out.stdout.slice(out.stdout.indexOf('['))) as { files: { path: string }[] }[];
    expect(packed[0]!.files.map((f) => f.path).sort()).toEqual(cli.files);
  });

  test('its bin loads only Node built-ins and the dependencies its manifest declares: no devDependency at run time', () => {
    // GIVEN every module the bundle requires
    const bundle = readFileSync(path.join(cli.dir, 'lib', 'loadtest.js'), 'utf8');
    const required = [...new Set([...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!))].sort();
    // THEN
    expect(bundle.startsWith('#!/usr/bin/env node\n')).toBe(true);
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const declared = new Set(Object.keys(cliManifest.dependencies));
    const packageOf = (spec: string) =>
      spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/');
    expect(required.filter((m) => !builtins.has(m) && !declared.has(packageOf(m)))).toEqual([]);
    expect(required).toEqual(expect.arrayContaining(['@k6-platform/constructs/internal', '@k6-platform/constructs/output', 'commander']));
  });

  test('installed from the tarballs, `loadtest --version` runs the compiled bin; the install stays under 150 MB', () => {
    // WHEN
    const r = sh('./node_modules/.bin/loadtest --version', tool);
    // THEN
    expect(r).toEqual({ code: 0, stdout: `${cliManifest.version}\n`, stderr: '' });
    // no TypeScript tooling came with it
    for (const devTool of ['typescript', 'tsx', 'esbuild', 'ts-node']) expect(existsSync(path.join(tool, 'node_modules', devTool))).toBe(false);
    const installed = bytesUnder(path.join(tool, 'node_modules'));
    console.log(`@k6-platform/cli install (with its dependencies and the library): ${(installed / MB).toFixed(1)} MB (limit 150 MB)`);
    expect(installed).toBeLessThan(150 * MB);
  });
});

describe('a team repository written by the installed `loadtest init`', () => {
  test('init writes it and says what to do next', () => {
    // WHEN
    team = path.join(work, 'checkout-load-tests');
    const r = sh(`./node_modules/.bin/loadtest init ${team}`, tool);
    // THEN
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`next: cd ${team} && npm install && npm test\n`);
    expect(readdirSync(team, { recursive: true }).map(String).sort()).toEqual([
      '.github',
      '.github/workflows',
      '.github/workflows/loadtest.yml',
      '.gitignore',
      'Pulumi.dev.yaml',
      'README.md',
      'package.json',
      'scripts',
      'scripts/example.ts',
      'scripts/tsconfig.json',
    ]);
    const manifest = JSON.parse(readFileSync(path.join(team, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(manifest.scripts).toEqual({
      synth: 'loadtest synth',
      typecheck: 'tsc -p scripts/tsconfig.json',
      test: 'npm run typecheck && npm run synth',
    });
    expect(manifest.dependencies).toEqual({
      '@k6-platform/constructs': `^${cliManifest.dependencies['@k6-platform/constructs']}`,
      cdk8s: `^${rootVersion('cdk8s')}`,
      'cdk8s-plus-27': `^${rootVersion('cdk8s-plus-27')}`,
      constructs: `^${rootVersion('constructs')}`,
      zod: `^${rootVersion('zod')}`,
    });
    expect(manifest.devDependencies).toEqual({
      '@k6-platform/cli': `^${cliManifest.version}`,
      '@types/k6': `^${rootVersion('@types/k6')}`,
      typescript: `^${rootVersion('typescript')}`,
    });
    expect(manifest.engines).toEqual({ node: cliManifest.engines.node });
  }, 60_000);

  test("its README's first command installs and synthesizes (with the packed tarballs in place of the registry)", () => {
    // GIVEN the two packages' tarballs in place of their registry versions, as `npm install <tarball>` would record them
    const file = path.join(team, 'package.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
    manifest.dependencies!['@k6-platform/constructs'] = `file:${lib.tarball}`;
    manifest.devDependencies!['@k6-platform/cli'] = `file:${cli.tarball}`;
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
    const commands = readmeCommands(readFileSync(path.join(team, 'README.md'), 'utf8'));
    expect(commands).toEqual(['npm install && npm test', 'npx --no-install loadtest run example --env dev']);
    // WHEN
    const r = sh(commands[0]!, team);
    // THEN
    // (npm 11 also warns that cdk8s-plus-27's own dependency backport has an install script: not ours to change)
    expect(r.stderr).not.toMatch(/npm error|EBADENGINE|deprecated/);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(team, 'package-lock.json'))).toBe(true);
    const runs = YAML.parseAllDocuments(readFileSync(path.join(team, 'dist', 'dev', 'runs', 'example.k8s.yaml'), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; labels?: Record<string, string> } },
    );
    expect(runs.filter((o) => o.kind === 'Job' && o.metadata.labels?.['k6.platform/test'] === 'example').length).toBeGreaterThan(0);
    expect(readdirSync(path.join(team, 'dist', 'dev', 'platform')).filter((f) => f.endsWith('.k8s.yaml')).length).toBeGreaterThan(0);
  }, 240_000);

  test("its README's second command runs the example test on the current kube-context, follows it and judges it", async () => {
    // GIVEN a kube-context whose cluster runs what is applied: the runners write the run's metrics, then succeed
    const ran: K6RunTruth[] = [];
    const api = await startFakeApiServer(path.join(work, 'cluster'), async (testid, test, runners) => {
      ran.push(await pushK6Run(prom.writeUrl, { testid, test, runners, durationSeconds: 60, endTime: Date.now() }));
    });
    try {
      // WHEN
      const r = await shAsync(readmeCommands(readFileSync(path.join(team, 'README.md'), 'utf8'))[1]!, team, { KUBECONFIG: api.kubeconfig });
      // THEN the run's objects were applied, the run was followed to its end and judged over both runners
      expect(api.unexpected).toEqual([]);
      expect(ran.map((t) => [t.test, t.perRunner.length])).toEqual([['example', 2]]);
      followed = ran[0]!;
      const runId = followed.testid;
      expect(runId).toMatch(/^example-\d{8}-\d{6}/);
      expect(api.applied.map((o) => o.kind).sort()).toEqual([
        'ConfigMap',
        'ConfigMap',
        'Job',
        'NetworkPolicy',
        'NetworkPolicy',
        'Service',
        'ServiceAccount',
      ]);
      // every object of the run carries its id; the test's script ConfigMap (named by its content) is shared by runs
      const perRun = api.applied.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] !== 'test-script');
      expect(perRun).toHaveLength(api.applied.length - 1);
      expect(new Set(perRun.map((o) => o.metadata.labels?.['k6.platform/run-id']))).toEqual(new Set([runId]));
      expect(r.stdout).toContain(`run ${runId}: test example, 2 runner(s), namespace k6`);
      expect(r.stdout).toMatch(/^http_req_failed rate<0\.01 +0 +pass$/m);
      expect(r.stdout).toContain('verdict: PASS (2 thresholds over all runners)\n');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      await api.stop();
    }
  }, 120_000);

  test('a type error in a script fails its npm test', () => {
    const script = path.join(team, 'scripts', 'example.ts');
    const original = readFileSync(script, 'utf8');
    writeFileSync(script, `${original}\nconst n: number = 'x';\n`);
    try {
      expect(() => run('npm', ['run', 'typecheck'], team)).toThrow(/scripts\/example\.ts\(\d+,\d+\): error TS2322/);
    } finally {
      writeFileSync(script, original);
    }
  });

  test("its CI workflow's steps exist: the actions it uses, its install and test commands, and its loadtest run and verdict", async () => {
    // GIVEN the workflow as written
    interface Step {
      uses?: string;
      run?: string;
      if?: string;
      with?: Record<string, string>;
      env?: Record<string, string>;
    }
    const workflow = YAML.parse(readFileSync(path.join(team, '.github', 'workflows', 'loadtest.yml'), 'utf8')) as {
      jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>;
    };
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    // THEN it uses only these actions, at the first major version of each that runs on Node 24 (GitHub's runners dropped
    // Node 20 for actions in 2026): actions/checkout v5.0.0, actions/setup-node and actions/upload-artifact v5
    expect([...new Set(steps.flatMap((st) => st.uses ?? []))].sort()).toEqual([
      'actions/checkout@v5',
      'actions/setup-node@v5',
      'actions/upload-artifact@v5',
    ]);
    // its install works with and without a committed lockfile, and `npm test` is a script of the repository
    const install = 'if [ -f package-lock.json ]; then npm ci; else npm install; fi';
    expect(workflow.jobs.synth!.steps.flatMap((st) => st.run ?? [])).toEqual([install, 'npm test']);
    expect(workflow.jobs.run!.steps.flatMap((st) => st.run ?? []).slice(0, 1)).toEqual([install]);
    // WHEN its loadtest steps run as the runner would (inputs.test = example, RUN_ID from the job's env)
    const loadtestSteps = workflow.jobs.run!.steps.flatMap((st) =>
      st.run?.includes('loadtest') ? [st.run.replaceAll('${{ inputs.test }}', 'example')] : [],
    );
    expect(loadtestSteps).toEqual([
      'npx --no-install loadtest run "example" --env dev --run-id "$RUN_ID" --report loadtest-report',
      'npx --no-install loadtest verdict --testid "$RUN_ID" --env dev',
    ]);
    // and the report the run writes is uploaded whatever the run's outcome
    expect(workflow.jobs.run!.steps.find((st) => st.uses === 'actions/upload-artifact@v5' && st.with?.path === 'loadtest-report/')).toMatchObject({
      if: 'always()',
    });
    expect(workflow.jobs.run!.env).toMatchObject({ RUN_ID: '${{ inputs.test }}-${{ github.run_id }}' });
    const api = await startFakeApiServer(path.join(work, 'ci-cluster'), async (testid, test, runners) => {
      fromCi = await pushK6Run(prom.writeUrl, { testid, test, runners, durationSeconds: 60, endTime: Date.now() });
    });
    try {
      const results = [];
      for (const cmd of loadtestSteps) results.push(await shAsync(cmd, team, { KUBECONFIG: api.kubeconfig, RUN_ID: 'example-4242' }));
      // THEN both pass: the run with the id given, and its verdict judged again
      expect(results.map((r) => [r.code, r.stderr])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      expect(results[0]!.stdout).toContain('run example-4242: test example, 2 runner(s)');
      expect(fromCi.testid).toBe('example-4242');
      expect(results[0]!.stdout).toContain('verdict: PASS (2 thresholds over all runners)\n');
      expect(
        results[0]!.stdout.endsWith(
          `report: ${['summary.json', 'junit.xml', 'index.html'].map((f) => path.join('loadtest-report', f)).join(', ')}\n`,
        ),
      ).toBe(true);
      expect(results[1]!.stdout.endsWith('verdict: PASS (2 thresholds over all runners)\n')).toBe(true);
      expect(JSON.parse(readFileSync(path.join(team, 'loadtest-report', 'summary.json'), 'utf8'))).toMatchObject({
        testid: 'example-4242',
        test: 'example',
      });
    } finally {
      await api.stop();
    }
  }, 120_000);

  test('without a kubeconfig, `loadtest run` says how to set one', () => {
    const r = sh('npx --no-install loadtest run example --env dev', team);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('point $KUBECONFIG at a kubeconfig file');
  });

  test('`loadtest synth` writes the same dist/ as its npm test', () => {
    // GIVEN what `npm test` wrote
    const before = readTree(path.join(team, 'dist'));
    // WHEN
    const r = sh('npx --no-install loadtest synth', team);
    // THEN
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ dev: \d+ objects -> dist\/dev\n/);
    const after = readTree(path.join(team, 'dist'));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect([...after].filter(([f, text]) => before.get(f) !== text).map(([f]) => f)).toEqual([]);
  });

  test('`loadtest verdict --json` and `--junit` judge the runs of its example test from Prometheus', () => {
    // WHEN
    const pass = sh(`npx --no-install loadtest verdict --testid ${passing.testid} --env dev --json --junit verdict.xml`, team);
    const fail = sh(`npx --no-install loadtest verdict --testid ${failing.testid} --env dev --json`, team);
    // THEN
    expect(pass.stderr).toBe('');
    expect(pass.code).toBe(0);
    const doc = JSON.parse(pass.stdout) as { status: string; test: string; thresholds: { name: string; pass: boolean }[] };
    expect(doc).toMatchObject({ schemaVersion: 1, testid: passing.testid, test: 'example', status: 'pass', exitCode: 0, prometheus: prom.url });
    expect(doc.thresholds.map((t) => [t.name, t.pass])).toEqual([
      ['http_req_failed: rate<0.01', true],
      ['http_req_duration: p(95)<500', true],
    ]);
    const junit = parseJunit(path.join(team, 'verdict.xml'));
    expect(junit.root).toEqual({ tag: 'testsuites', name: 'loadtest', tests: '2', failures: '0', errors: '0' });
    expect(junit.suites[0]!.cases.map((c) => c.name)).toEqual(['http_req_failed: rate<0.01', 'http_req_duration: p(95)<500']);
    // the failing run
    expect(fail.code).toBe(99);
    const failed = JSON.parse(fail.stdout) as { status: string; thresholds: { name: string; pass: boolean; observed: number }[] };
    expect(failed.status).toBe('fail');
    expect(failed.thresholds[0]).toMatchObject({ name: 'http_req_failed: rate<0.01', pass: false, observed: 0.05 });
  });

  test('`loadtest runs --json` lists the four runs with their verdicts, newest first', () => {
    // WHEN
    const r = sh('npx --no-install loadtest runs --env dev --since 1h --json', team);
    // THEN
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: { testid: string; test: string; runners: number; verdict: unknown }[] };
    expect(doc.runs.map((x) => [x.testid, x.test, x.runners, x.verdict])).toEqual([
      [fromCi.testid, 'example', 2, { status: 'pass', exitCode: 0 }],
      [followed.testid, 'example', 2, { status: 'pass', exitCode: 0 }],
      [failing.testid, 'example', 2, { status: 'fail', exitCode: 99 }],
      [passing.testid, 'example', 2, { status: 'pass', exitCode: 0 }],
    ]);
  });
});

/** The commands of a README's first `sh` block: its lines that are not comments. */
function readmeCommands(readme: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readme);
  if (block === null) throw new Error('README has no ```sh block');
  return block[1]!
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
