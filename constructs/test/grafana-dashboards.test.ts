import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { applyVariableDefaults, Dashboards } from '../src/monitoring/grafana-dashboards';
import { DASHBOARD_FOLDER_ANNOTATION, DASHBOARD_LABEL } from '../src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../src/config/platform-config';
import { buildEnvironment } from '../src/output/synth';
import { dashboardsDirOf } from '../src/output/layout';
import { CONFIG_MAP_LIMIT_BYTES } from '../src/load-test/test-scripts';

const REPO = path.resolve(__dirname, '..', '..');
const GENERATED = path.join(REPO, 'dashboards', 'generated');

interface ConfigMapJson {
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  data: Record<string, string>;
}

const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'k6-dash-cm-'));
  temps.push(d);
  return d;
}
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dashboardFile(dir: string, uid: string, extra: Record<string, unknown> = {}): string {
  const json = JSON.stringify({ uid, title: uid, ...extra }, null, 2) + '\n';
  writeFileSync(path.join(dir, `${uid}.json`), json);
  return json;
}

describe('Dashboards', () => {
  test('defaults: one ConfigMap per committed dashboard, labelled for the sidecar, JSON byte for byte', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const d = new Dashboards(chart, 'Dashboards', { directory: GENERATED });
    const objs = Testing.synth(chart) as ConfigMapJson[];
    // THEN
    expect(objs.map((o) => [o.kind, o.metadata.name, Object.keys(o.data)])).toEqual([
      ['ConfigMap', 'grafana-dashboard-k6-compare', ['k6-compare.json']],
      ['ConfigMap', 'grafana-dashboard-k6-load-test', ['k6-load-test.json']],
      ['ConfigMap', 'grafana-dashboard-k6-load-test-classic', ['k6-load-test-classic.json']],
      ['ConfigMap', 'grafana-dashboard-k6-runs', ['k6-runs.json']],
    ]);
    for (const o of objs) {
      expect(o.metadata.labels).toEqual({ [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value, 'app.kubernetes.io/component': 'dashboard' });
      expect(o.metadata.labels.grafana_dashboard).toBe('1');
      expect(o.metadata.annotations).toEqual({ [DASHBOARD_FOLDER_ANNOTATION]: 'k6' });
      expect(o.metadata.namespace).toBeUndefined();
      const [key, json] = Object.entries(o.data)[0]!;
      expect(json).toBe(readFileSync(path.join(GENERATED, key), 'utf8'));
    }
    expect(d.folder).toBe('k6');
    expect(d.dashboards.map((x) => x.name)).toEqual(['k6-compare', 'k6-load-test', 'k6-load-test-classic', 'k6-runs']);
    expect(d.dashboards[1]!.sizeBytes).toBe(
      Buffer.byteLength('k6-load-test.json') + Buffer.byteLength(readFileSync(path.join(GENERATED, 'k6-load-test.json'))),
    );
  });

  test('all options: folder, namespace, a subset, a variable default', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    new Dashboards(chart, 'Dashboards', {
      directory: GENERATED,
      folder: 'Load tests',
      namespace: 'grafana',
      include: ['k6-load-test'],
      variableDefaults: { runner_namespace: 'loadtests' },
    });
    const objs = Testing.synth(chart) as ConfigMapJson[];
    // THEN
    expect(objs).toHaveLength(1);
    expect(objs[0]!.metadata.namespace).toBe('grafana');
    expect(objs[0]!.metadata.annotations).toEqual({ grafana_folder: 'Load tests' });
    const model = JSON.parse(objs[0]!.data['k6-load-test.json']!) as { templating: { list: { name: string; query?: unknown; current?: unknown }[] } };
    expect(model.templating.list.find((v) => v.name === 'runner_namespace')).toMatchObject({
      query: 'loadtests',
      current: { text: 'loadtests', value: 'loadtests' },
    });
  });

  test('a variable default equal to the JSON keeps the bytes; a new one re-serializes like npm run dashboards', () => {
    const json = readFileSync(path.join(GENERATED, 'k6-load-test.json'), 'utf8');
    expect(applyVariableDefaults(json, { runner_namespace: 'k6' })).toBe(json);
    expect(applyVariableDefaults(json, {})).toBe(json);
    const changed = applyVariableDefaults(json, { runner_namespace: 'ns-zz' });
    expect(changed).not.toBe(json);
    expect(changed.endsWith('}\n')).toBe(true);
    expect(changed.replace(/"ns-zz"/g, '"k6"')).toBe(json);
  });

  test('a dashboard over the 1 MiB ConfigMap limit is an error with its size and the limit', () => {
    // GIVEN a dashboard whose JSON is larger than a ConfigMap may be
    const dir = tempDir();
    const json = dashboardFile(dir, 'huge', { description: 'x'.repeat(CONFIG_MAP_LIMIT_BYTES) });
    const size = Buffer.byteLength('huge.json') + Buffer.byteLength(json);
    // WHEN / THEN
    expect(() => new Dashboards(Testing.chart(), 'Dashboards', { directory: dir })).toThrow(
      `Dashboards: dashboard 'huge' is ${size} bytes, over the ConfigMap limit of 1048576 bytes (1 MiB); split it into smaller dashboards`,
    );
  });

  test('a dashboard exactly at the limit is accepted', () => {
    const dir = tempDir();
    const base = JSON.stringify({ uid: 'edge', title: 'edge', description: '' }, null, 2) + '\n';
    const fill = CONFIG_MAP_LIMIT_BYTES - Buffer.byteLength('edge.json') - Buffer.byteLength(base);
    dashboardFile(dir, 'edge', { description: 'x'.repeat(fill) });
    const d = new Dashboards(Testing.chart(), 'Dashboards', { directory: dir });
    expect(d.dashboards[0]!.sizeBytes).toBe(CONFIG_MAP_LIMIT_BYTES);
  });

  test('bad inputs fail with exact messages', () => {
    const dir = tempDir();
    expect(() => new Dashboards(Testing.chart(), 'D', { directory: dir })).toThrow(
      `Dashboards: 'directory' ${dir} holds no *.json dashboard; run npm run dashboards`,
    );
    const missing = path.join(dir, 'nope');
    expect(() => new Dashboards(Testing.chart(), 'D', { directory: missing })).toThrow(
      `Dashboards: 'directory' ${missing} cannot be read (ENOENT: no such file or directory, scandir '${missing}'); run npm run dashboards to generate it`,
    );
    dashboardFile(dir, 'a');
    expect(() => new Dashboards(Testing.chart(), 'D', { directory: dir, include: ['a', 'b'] })).toThrow(
      `Dashboards: 'include' names dashboards that are not in ${dir}: b; found a`,
    );
    dashboardFile(dir, 'other', { uid: 'different' });
    expect(() => new Dashboards(Testing.chart(), 'D', { directory: dir })).toThrow(
      `Dashboards: ${path.join(dir, 'other.json')} must hold the dashboard with uid 'other', got "different"`,
    );
    const bad = tempDir();
    writeFileSync(path.join(bad, 'Bad_Name.json'), '{"uid":"Bad_Name"}');
    expect(() => new Dashboards(Testing.chart(), 'D', { directory: bad })).toThrow(
      `Dashboards: dashboard file name 'Bad_Name.json' must be a lowercase DNS label (it names the ConfigMap), got Bad_Name`,
    );
    const broken = tempDir();
    writeFileSync(path.join(broken, 'x.json'), '{');
    expect(() => new Dashboards(Testing.chart(), 'D', { directory: broken })).toThrow(/^Dashboards: .*x\.json is not valid JSON \(/);
  });
});

describe('platform wiring', () => {
  test('the monitoring chart carries the dashboard ConfigMaps in the monitoring namespace, runner namespace from the config', () => {
    // GIVEN a config with a non-default load-test namespace
    const config = parsePlatformConfig({ namespaces: { monitoring: 'mon', loadTests: 'loadtests' } });
    // WHEN the environment is built as synth builds the repository's (its dashboards by dashboardsDirOf)
    const { charts } = buildEnvironment(config, path.join(REPO, 'scripts'), '.', dashboardsDirOf(REPO));
    const objs = charts.monitoring.toJson() as ConfigMapJson[];
    const cms = objs.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    // THEN
    expect(cms.map((o) => [o.metadata.name, o.metadata.namespace])).toEqual([
      ['grafana-dashboard-k6-compare', 'mon'],
      ['grafana-dashboard-k6-load-test', 'mon'],
      ['grafana-dashboard-k6-load-test-classic', 'mon'],
      ['grafana-dashboard-k6-runs', 'mon'],
    ]);
    expect(charts.dashboards?.dashboards).toHaveLength(4);
    expect(cms[1]!.data['k6-load-test.json']).toContain('"query": "loadtests"');
    expect(cms[3]!.data['k6-runs.json']).toContain('"query": "loadtests"');
  });

  test('an explicit dashboards directory must exist; without one next to the scripts there are no dashboards', () => {
    const scripts = path.join(tempDir(), 'scripts');
    mkdirSync(scripts);
    writeFileSync(path.join(scripts, 'sample.js'), 'export default function () {}\n');
    const config = parsePlatformConfig({});
    expect(buildEnvironment(config, scripts).charts.dashboards).toBeUndefined();
    expect(() => buildEnvironment(config, scripts, '.', path.join(scripts, 'none'))).toThrow(/^Dashboards: 'directory' .*none cannot be read/);
  });
});
