import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { helmBundle, escapeTemplate, writeHelmBundle, BUNDLE_CHART_NAME, BUNDLE_CHART_VERSION } from '../src/output/helm-bundle';
import { monitoringValues } from '../src/monitoring/monitoring-stack';
import { parsePlatformConfig, type PlatformConfig } from '../src/config/platform-config';
import { synthesize } from '../src/output/synth';
import { versions } from '../src/contract/versions';
import { HelmWorkspace, parseStream, ROOT, sorted, splitRendered, STUB, type Obj } from './helm-support';

/**
 * The Helm umbrella bundle, checked with the real helm binary and the stub kube-prometheus-stack (./helm-support.ts):
 * lint, and that the templates render exactly what synth writes for the environment, the Helm labels aside.
 */

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;

let ws: HelmWorkspace;
let outDir: string;
const configs = new Map<string, PlatformConfig>();

const chartDir = () => path.join(outDir, 'chart');
const valuesOf = (dir: string, env: string) => path.join(dir, `values-${env}.yaml`);

/** Every object synth wrote for an environment's platform (dist/<env>/platform/*.k8s.yaml). */
function synthesizedObjects(env: string): Obj[] {
  const dir = path.join(outDir, env, 'platform');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.k8s.yaml'))
    .flatMap((f) => parseStream(readFileSync(path.join(dir, f), 'utf8')));
}

/** The labels the chart's `_helpers.tpl` sets, for a release. */
function helmLabels(release: string): Record<string, string> {
  return {
    'helm.sh/chart': `${BUNDLE_CHART_NAME}-${BUNDLE_CHART_VERSION}`,
    'app.kubernetes.io/name': BUNDLE_CHART_NAME,
    'app.kubernetes.io/instance': release,
    'app.kubernetes.io/version': BUNDLE_CHART_VERSION,
    'app.kubernetes.io/managed-by': 'Helm',
  };
}

/** A synthesized object as the release renders it: synth's labels, Helm's standard ones on top. */
function asReleased(o: Obj, release: string): Obj {
  return { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...helmLabels(release) } } };
}

beforeAll(() => {
  ws = new HelmWorkspace();
  outDir = path.join(ws.dir, 'dist');
  for (const [env, r] of synthesize({ rootDir: ROOT, outDir, environments: [...ENVIRONMENTS] })) configs.set(env, r.config);
});

afterAll(() => ws.remove());

test('the stub stands in for the pinned kube-prometheus-stack version', () => {
  // GIVEN the fixture chart
  const stub = YAML.parse(readFileSync(path.join(STUB, 'Chart.yaml'), 'utf8')) as { name: string; version: string };
  // THEN it has the dependency's name and pinned version (bump it together with versions.ts)
  expect(stub).toMatchObject({ name: versions.kubePrometheusStack.chart, version: versions.kubePrometheusStack.version });
});

describe.each(ENVIRONMENTS)('bundle of %s', (env) => {
  test('Chart.yaml depends on the pinned kube-prometheus-stack from prometheus-community', () => {
    // WHEN synth wrote the bundle
    const chart = YAML.parse(readFileSync(path.join(chartDir(), 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    // THEN
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe(BUNDLE_CHART_NAME);
    expect(chart.type).toBe('application');
    // the platform's version, that of the constructs package, for the chart and what it deploys
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'constructs', 'package.json'), 'utf8')) as { version: string; repository: { url: string } };
    const packageVersion = pkg.version;
    expect(chart.version).toBe(packageVersion);
    expect(chart.appVersion).toBe(packageVersion);
    expect(chart.kubeVersion).toBe(`>=${versions.kubernetes}.0-0`);
    // home: the repository the packages declare (git+https://...git)
    expect(chart.home).toBe(pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, ''));
    expect(chart.sources).toEqual([chart.home, 'https://github.com/grafana/k6', 'https://github.com/prometheus-community/helm-charts']);
    expect(chart.dependencies).toEqual([
      { name: 'kube-prometheus-stack', version: versions.kubePrometheusStack.version, repository: versions.kubePrometheusStack.repository },
    ]);
  });

  test('values-<env>.yaml: the environment, the load-test namespace (not created) and the kps values under the dependency key, equal to synth`s values file', () => {
    // WHEN
    const values = YAML.parse(readFileSync(valuesOf(chartDir(), env), 'utf8')) as Record<string, unknown>;
    const synthValues = YAML.parse(readFileSync(path.join(outDir, env, 'platform', 'kube-prometheus-stack.values.yaml'), 'utf8')) as unknown;
    // THEN
    expect(Object.keys(values)).toEqual(['environment', 'loadTestNamespace', 'platform', 'kube-prometheus-stack']);
    expect(values.environment).toBe(env);
    expect(values.loadTestNamespace).toEqual({ name: configs.get(env)!.namespaces.loadTests, create: false });
    expect(values['kube-prometheus-stack']).toEqual(monitoringValues(configs.get(env)!));
    expect(values['kube-prometheus-stack']).toEqual(synthValues);
  });

  test('helm lint --strict passes with the dependency supplied locally', () => {
    // GIVEN the bundle with the stub in charts/
    const dir = ws.chartWithStub(chartDir());
    // WHEN / THEN (a failed lint exits non-zero, which throws)
    const out = ws.ok(['lint', '--strict', dir, '-f', valuesOf(dir, env), '--namespace', configs.get(env)!.namespaces.monitoring]);
    expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(out).not.toContain('[ERROR]');
    expect(out).not.toContain('[WARNING]');
  });

  test('helm template -f values-<env>.yaml renders exactly the objects synth wrote for it, with the Helm labels, and the values reach the dependency', () => {
    // GIVEN the release synth assumes: named like monitoring.releaseName, in the monitoring namespace
    const cfg = configs.get(env)!;
    const release = cfg.monitoring.releaseName;
    const dir = ws.chartWithStub(chartDir());
    // WHEN
    const { platform, stub } = splitRendered(ws.ok(['template', release, dir, '-f', valuesOf(dir, env), '--namespace', cfg.namespaces.monitoring]));
    // THEN the stub received the values under its key
    const echo = stub.filter((o) => o.metadata.name === 'kps-stub-values');
    expect(echo).toHaveLength(1);
    expect(echo[0]!.metadata.namespace).toBe(cfg.namespaces.monitoring);
    const data = echo[0]!.data as Record<string, string>;
    expect(data.retention).toBe(cfg.monitoring.prometheus.retention);
    expect(data.fullnameOverride).toBe(cfg.monitoring.releaseName);
    // (helm hands every subchart an empty `global` map next to its values)
    // (the stub's own defaults stay under what the umbrella chart does not set)
    const received = JSON.parse(data['values.json']!) as Record<string, unknown>;
    expect(received).toMatchObject({ ...monitoringValues(cfg), global: {} });
    const stubDefaults = YAML.parse(readFileSync(path.join(STUB, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(received).sort()).toEqual(
      [...new Set([...Object.keys(monitoringValues(cfg)), ...Object.keys(stubDefaults), 'global'])].sort(),
    );
    // AND the platform objects equal what synth wrote to platform/ (no run: installing the platform starts no load
    // test), minus the release namespace (created before `helm install`) and the load-test namespace (not owned by
    // the release unless loadTestNamespace.create), each with the standard labels replacing synth's managed-by
    const expected = synthesizedObjects(env)
      .filter((o) => o.kind !== 'Namespace')
      .map((o) => asReleased(o, release));
    expect(expected.length).toBeGreaterThan(0);
    expect(sorted(platform)).toEqual(sorted(expected));
  });

  test('with loadTestNamespace.create the release owns the load-test Namespace, as synth writes it', () => {
    // GIVEN
    const cfg = configs.get(env)!;
    const release = cfg.monitoring.releaseName;
    const dir = ws.chartWithStub(chartDir());
    // WHEN
    const args = [
      'template',
      release,
      dir,
      '-f',
      valuesOf(dir, env),
      '--namespace',
      cfg.namespaces.monitoring,
      '--set',
      'loadTestNamespace.create=true',
    ];
    const { platform } = splitRendered(ws.ok(args));
    // THEN exactly one Namespace, the load-test one, equal to synth's apart from the Helm labels
    const synthNamespace = synthesizedObjects(env).find((o) => o.kind === 'Namespace' && o.metadata.name === cfg.namespaces.loadTests)!;
    expect(platform.filter((o) => o.kind === 'Namespace')).toEqual([asReleased(synthNamespace, release)]);
    expect(synthNamespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

test('one chart for every environment: the objects some environments have, or have differently, are variants the values select', () => {
  // GIVEN the chart and the environments' values
  const values = ENVIRONMENTS.map(
    (env) => YAML.parse(readFileSync(valuesOf(chartDir(), env), 'utf8')) as { platform: { objects: Record<string, string> } },
  );
  // THEN the sample-operator test (dev only) has its script ConfigMap in dev's values alone
  const operatorScript = Object.keys(values[0]!.platform.objects).filter((id) => id.startsWith('ConfigMap/loadTests/k6-sample-operator-'));
  expect(operatorScript).toHaveLength(1);
  expect(values.map((v) => v.platform.objects[operatorScript[0]!])).toEqual(['a', undefined, undefined]);
  // AND Grafana's NetworkPolicy (open to every source behind an ingress in staging and prod) has two variants
  expect(values.map((v) => v.platform.objects['NetworkPolicy/release/k6-platform-grafana'])).toEqual(['a', 'b', 'b']);
  // AND the dashboards, alike in every environment but for the environment label, are one template
  const templates = readFileSync(path.join(chartDir(), 'templates', '0001-monitoring.yaml'), 'utf8');
  expect(templates.match(/name: grafana-dashboard-k6-runs$/gm)).toHaveLength(1);
  expect(values.every((v) => !Object.keys(v.platform.objects).some((id) => id.includes('grafana-dashboard')))).toBe(true);
});

test('without an environment`s values file helm refuses to render, naming the missing value', () => {
  // WHEN
  const r = ws.run(['template', 'rel', ws.chartWithStub(chartDir()), '--namespace', 'monitoring']);
  // THEN
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('- (root): environment is required');
});

test('template-like text in objects renders byte for byte (Grafana legends such as {{instance}})', () => {
  // GIVEN a ConfigMap whose data looks like Go templates
  const cfg = parsePlatformConfig({ environment: 'esc' });
  const data = {
    'legend.json': '{"legendFormat":"{{instance}} {{ .Values.x }}","expr":"sum by (le) (x{a=\\"}}\\"})"}',
    'tpl.txt': '{{- if .x }}{{ end -}}\n',
  };
  const cm: Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'legends', namespace: 'k6' }, data };
  const files = helmBundle({ config: cfg, manifests: [{ id: 'x', fileName: '0000-x.k8s.yaml', objects: [cm] }] });
  const dir = path.join(ws.dir, 'escape');
  writeHelmBundle(dir, files);
  // WHEN
  const { platform } = splitRendered(ws.ok(['template', 'rel', ws.chartWithStub(dir), '--namespace', 'monitoring']));
  // THEN
  expect(platform.find((o) => o.metadata.name === 'legends')).toEqual({ ...cm, metadata: { ...cm.metadata, labels: helmLabels('rel') } });
  expect(escapeTemplate('a {{b}} c')).toBe('a {{ "{{" }}b}} c');
});

test('an object holding the placeholder text of the templates is refused, naming it', () => {
  // GIVEN
  const cfg = parsePlatformConfig({ environment: 'esc' });
  const cm: Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'odd', namespace: 'k6' }, data: { a: 'k6platformhelmplaceholder0x' } };
  // WHEN / THEN
  expect(() => helmBundle({ config: cfg, manifests: [{ id: 'x', fileName: '0000-x.k8s.yaml', objects: [cm] }] })).toThrow(
    "helm bundle: 'ConfigMap/odd' holds the text 'k6platformhelmplaceholder', reserved for template placeholders",
  );
});

test('with monitoring off the bundle has no dependency and no kps values', () => {
  // GIVEN
  const cfg = parsePlatformConfig({
    environment: 'ext',
    monitoring: { enabled: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write' },
    runner: { remoteWriteAuth: { type: 'none' } },
  });
  // WHEN
  const files = helmBundle({ config: cfg, manifests: [] });
  // THEN
  expect((YAML.parse(files.get('Chart.yaml')!) as Record<string, unknown>).dependencies).toBeUndefined();
  expect(YAML.parse(files.get('values.yaml')!)).toEqual({
    environment: 'ext',
    loadTestNamespace: { name: 'k6', create: false },
    platform: { objects: {}, monitoring: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write', externalRemoteWrite: true, secrets: [] },
  });
  // AND it still lints and renders without the stub
  const dir = path.join(ws.dir, 'no-monitoring');
  writeHelmBundle(dir, files);
  writeFileSync(path.join(dir, 'templates', 'cm.yaml'), YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'only' } }));
  expect(ws.ok(['lint', '--strict', dir])).toContain('0 chart(s) failed');
});
