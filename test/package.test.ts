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
import { readTree } from './support/files';
import {
  buildPackage,
  consumerProject,
  constructsDir,
  npmInstall,
  installedClosure,
  peerInstallArgs,
  peerNames,
  bytesUnder,
  repoRoot,
  run,
  runAsync,
  type BuiltPackage,
} from './support/package';

let work: string;
let pkg: BuiltPackage;
/** The slow independent steps overlap: typedoc runs during the build and the npm install. */
let typedoc: Promise<string>;
let consumerInstall: Promise<string>;
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
      pkg.files.filter(
        (f) =>
          !/^(package\.json|README\.md|crds\/[^/]+\.yaml|lib\/.+\.(js|d\.ts|sh)|lib\/dashboards\/[^/]+\.json|lib\/vendor\/THIRD-PARTY-LICENSES\.md)$/.test(
            f,
          ),
      ),
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

describe('what a consumer installs', () => {
  test('the package adds at most 5 MB to node_modules beyond its peer dependencies: its runtime dependencies are inlined', async () => {
    // GIVEN the consumer project of the test above: the tarball and the peers, installed
    const consumer = path.join(work, 'consumer');
    await consumerInstall;
    // WHEN
    const modules = path.join(consumer, 'node_modules');
    const peers = installedClosure(consumer, peerNames());
    const library = installedClosure(consumer, ['@k6-platform/constructs']);
    const added = [...library].filter((dir) => !peers.has(dir));
    const addedBytes = added.reduce((sum, dir) => sum + bytesUnder(dir), 0);
    // THEN: the library alone (no runtime dependency of its own), and everything installed is the library or a peer's
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
    expect(everything.filter((dir) => !peers.has(dir) && !library.has(dir))).toEqual([]);
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
