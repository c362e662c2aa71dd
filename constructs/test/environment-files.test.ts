import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Chart } from 'cdk8s';
import * as YAML from 'yaml';
import { environmentFiles, platformManifestsOf, chartsJson, runObjectsByTest } from '../src/output/environment-files';
import { dashboardsDirOf, runFileHeader } from '../src/output/layout';
import { buildEnvironment } from '../src/output/synth';
import { helmBundle } from '../src/output/helm-bundle';
import { parsePlatformConfig } from '../src/config/platform-config';
import { platformManifests, type KubeObject } from '../src/platform/deploy';

/** The files of dist/<env>/ built in memory (test/synth.test.ts checks them on disk, file by file). */

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPTS = path.join(ROOT, 'scripts');
const STUB = path.join(ROOT, 'test', 'fixtures', 'kps-stub');

/** metadata.name of each document; Helm template expressions (`{{ ... }}`) are read as plain text, not YAML. */
const namesIn = (text: string | undefined) =>
  YAML.parseAllDocuments((text ?? '').replace(/\{\{-?[^}]*-?\}\}/g, 'TEMPLATED'))
    .map((d) => (d.toJSON() as KubeObject | null)?.metadata.name)
    .filter((n) => n !== undefined);

describe('environmentFiles', () => {
  test("builds each chart's JSON once: manifests, bundle, size check and count all read it", () => {
    // GIVEN
    const cfg = parsePlatformConfig({ tests: [{ name: 'sample', script: 'sample.js' }] });
    const { app, charts } = buildEnvironment(cfg, SCRIPTS);
    const toJson = jest.spyOn(Chart.prototype, 'toJson');
    try {
      // WHEN
      const built = environmentFiles(cfg, app, charts);
      // THEN one call per chart
      expect(toJson).toHaveBeenCalledTimes(app.charts.length);
      expect(built.objects.length).toBeGreaterThan(10);
    } finally {
      toJson.mockRestore();
    }
  });

  test('platformManifestsOf answers what platformManifests answers, from the JSON given', () => {
    // GIVEN
    const cfg = parsePlatformConfig({});
    const { app, charts } = buildEnvironment(cfg, SCRIPTS);
    // WHEN
    const json = chartsJson(app);
    // THEN
    expect(platformManifestsOf(app, charts, json)).toEqual(platformManifests(app, charts));
    expect(platformManifestsOf(app, charts, json)[0]!.objects[0]).toBe(json[0]!.objects[0]);
  });

  test('with a runner image build chart, platform/ files are named and ordered as cdk8s synth names them', () => {
    // GIVEN an in-cluster image build: a fourth chart, which the load tests depend on
    const cfg = parsePlatformConfig({
      runner: {
        extensions: [{ module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' }],
        registry: 'registry.example.com',
        repository: 'load-testing/k6',
        pushSecret: { name: 'registry-push' },
      },
    });
    const out = mkdtempSync(path.join(tmpdir(), 'environment-files-'));
    try {
      const { app, charts } = buildEnvironment(cfg, SCRIPTS, out);
      // WHEN
      const { files } = environmentFiles(cfg, app, charts);
      app.synth();
      // THEN
      const manifests = [...files.keys()].filter((f) => /^platform\/[^/]+\.k8s\.yaml$/.test(f));
      expect(manifests).toEqual(readdirSync(out).map((f) => `platform/${f}`));
      expect(manifests).toEqual([
        'platform/0000-namespaces.k8s.yaml',
        'platform/0001-monitoring.k8s.yaml',
        'platform/0002-runnerimage.k8s.yaml',
        'platform/0003-loadtests.k8s.yaml',
      ]);
      expect(files.get('platform/0002-runnerimage.k8s.yaml')).toBe(readFileSync(path.join(out, '0002-runnerimage.k8s.yaml'), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('kube-prometheus-stack rendered from a local chart stays in platform/ for kubectl, and out of the bundle templates', () => {
    // GIVEN the monitoring chart rendered from the stub standing in for kube-prometheus-stack
    const bin = process.env.HELM_BIN ?? path.join(ROOT, '.tools', 'bin', 'helm');
    if (!existsSync(bin)) throw new Error(`helm not found at ${bin}: run .ci/setup (installs .tools/bin/helm) or set HELM_BIN`);
    const previous = process.env.HELM_BIN;
    process.env.HELM_BIN = bin;
    try {
      const cfg = parsePlatformConfig({ monitoring: { chart: { path: STUB } } });
      const { app, charts } = buildEnvironment(cfg, SCRIPTS);
      // WHEN
      const { files, manifests, serialize } = environmentFiles(cfg, app, charts);
      const chart = helmBundle({ config: cfg, manifests, serialize });
      // THEN
      expect(namesIn(files.get('platform/0001-monitoring.k8s.yaml'))).toContain('kps-stub-values');
      expect(namesIn(chart.get('templates/0001-monitoring.yaml'))).not.toContain('kps-stub-values');
      expect(namesIn(chart.get('templates/0001-monitoring.yaml')).length).toBeGreaterThan(0);
    } finally {
      if (previous === undefined) delete process.env.HELM_BIN;
      else process.env.HELM_BIN = previous;
    }
  });

  test('a run object naming no test of the config is an error naming the object and the tests', () => {
    // GIVEN
    const cfg = parsePlatformConfig({ environment: 'qa', tests: [{ name: 'sample', script: 'sample.js' }] });
    const stray: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'stray', labels: { 'k6.platform/run-id': 'x-1', 'k6.platform/test': 'gone' } },
    };
    // WHEN / THEN
    expect(() => runObjectsByTest(cfg, [stray])).toThrow(
      `synth: 'ConfigMap/stray' carries the run-id label but its 'k6.platform/test' label is "gone", not a test of environment 'qa' (sample)`,
    );
  });
});

describe('runFileHeader', () => {
  test('a scheduled test: applying the file installs a CronJob that starts runs on its schedule', () => {
    // GIVEN
    const cfg = parsePlatformConfig({ tests: [{ name: 'nightly', script: 'sample.js', schedule: '0 2 * * *' }] });
    // WHEN
    const header = runFileHeader(cfg, cfg.tests[0]!, 'nightly-abc123');
    // THEN
    expect(header.split('\n').filter((l) => l !== '' && !l.startsWith('# '))).toEqual([]);
    expect(header).toContain("# One run of test 'nightly' (environment dev, run id nightly-abc123), for reading and review.\n");
    expect(header).toContain('# Applying this file by hand (kubectl apply -f) installs its CronJob, which STARTS RUNS on schedule "0 2 * * *".\n');
    expect(header).not.toContain('STARTS A RUN');
  });
});

describe('dashboardsDirOf: the one rule for which dashboards a repository provisions', () => {
  test("a repository's own dashboards/generated/ wins; without one, the platform's shipped dashboards", () => {
    // GIVEN a team repository without dashboards, and one with its own
    const bare = mkdtempSync(path.join(tmpdir(), 'k6-dash-bare-'));
    const own = mkdtempSync(path.join(tmpdir(), 'k6-dash-own-'));
    mkdirSync(path.join(own, 'dashboards', 'generated'), { recursive: true });
    writeFileSync(path.join(own, 'dashboards', 'generated', 'team.json'), '{"uid":"team"}');
    writeFileSync(path.join(bare, 'dashboards'), 'a file, not a folder');
    try {
      // THEN: from the sources, the shipped dashboards are this repository's generated ones
      expect(dashboardsDirOf(own)).toBe(path.join(own, 'dashboards', 'generated'));
      expect(dashboardsDirOf(bare)).toBe(path.join(ROOT, 'dashboards', 'generated'));
      expect(dashboardsDirOf(ROOT)).toBe(path.join(ROOT, 'dashboards', 'generated'));
    } finally {
      rmSync(bare, { recursive: true, force: true });
      rmSync(own, { recursive: true, force: true });
    }
  });
});
