/**
 * @k6-platform/constructs as published: built and packed once (`npm pack`), then
 * - installed into a project outside the repository and used there by a plain CommonJS `node` script;
 * - its API report (constructs/etc/constructs.api.md) and API reference (docs/api/) checked fresh.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import * as YAML from 'yaml';
import { versions } from '../constructs/src/versions';
import { buildPackage, consumerProject, constructsDir, npmInstall, peerInstallArgs, repoRoot, run, type BuiltPackage } from './support/package';

let work: string;
let pkg: BuiltPackage;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'k6-package-'));
  pkg = buildPackage(work);
}, 300_000);
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Every file under dir: relative path -> content. */
function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.set(path.relative(dir, full), readFileSync(full, 'utf8'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

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
        'lib/load-test-platform.js',
        'lib/load-test-platform.d.ts',
        'lib/imports/k6.io.js',
        'lib/starter.sh',
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

  test('installs into a project outside the repository and synthesizes there from a plain node script', () => {
    // GIVEN: a consumer project with its own scripts, the tarball and the peers installed from the npm cache
    const consumer = consumerProject(path.join(work, 'consumer'), 'consumer');
    npmInstall(consumer, [pkg.tarball, ...peerInstallArgs()]);
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

  test('docs/api is what typedoc generates from the TSDoc today (run `npm run docs:api` after a doc change)', () => {
    // GIVEN
    const out = path.join(work, 'api-docs');
    // WHEN
    run(
      process.execPath,
      [path.join(repoRoot, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--options', 'typedoc.json', '--out', out],
      constructsDir,
    );
    // THEN
    const fresh = readTree(out);
    const committed = readTree(path.join(repoRoot, 'docs', 'api'));
    expect(fresh.size).toBeGreaterThan(10);
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    const stale = [...fresh].filter(([f, text]) => committed.get(f) !== text).map(([f]) => f);
    expect(stale).toEqual([]);
  });
});
