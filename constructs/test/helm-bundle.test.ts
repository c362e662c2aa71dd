import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { helmBundle, escapeTemplate, writeHelmBundle, BUNDLE_CHART_NAME } from '../src/output/helm-bundle';
import { monitoringValues } from '../src/monitoring/monitoring-stack';
import { parsePlatformConfig, type PlatformConfig } from '../src/config/platform-config';
import { synthesize } from '../src/output/synth';
import { versions } from '../src/contract/versions';

/**
 * The Helm umbrella bundle, checked with the real helm binary. kube-prometheus-stack itself cannot be downloaded in
 * tests (no network), so test/fixtures/kps-stub, a STUB chart named kube-prometheus-stack at the pinned version, stands
 * in for it in charts/: it proves the dependency plumbing (name, version, values under the dependency key, release
 * namespace), not the real chart's rendering.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const STUB = path.join(ROOT, 'test', 'fixtures', 'kps-stub');
const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const RELEASE = 'k6-platform';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };

let work: string;
let outDir: string;
let helmEnv: NodeJS.ProcessEnv;
const configs = new Map<string, PlatformConfig>();

/** helm from $HELM_BIN or <repo>/.tools/bin/helm (installed by .ci/setup); a missing helm fails the test. */
function helmBin(): string {
  const bin = process.env.HELM_BIN ?? path.join(ROOT, '.tools', 'bin', 'helm');
  if (!existsSync(bin)) throw new Error(`helm not found at ${bin}: run .ci/setup (installs .tools/bin/helm) or set HELM_BIN`);
  return bin;
}

function helm(args: readonly string[]): string {
  try {
    return execFileSync(helmBin(), args, { env: helmEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** Copies a bundle to a scratch directory with the stub standing in for the kube-prometheus-stack dependency. */
function chartWithStub(bundleDir: string, name: string): string {
  const dir = path.join(work, name);
  cpSync(bundleDir, dir, { recursive: true });
  mkdirSync(path.join(dir, 'charts'), { recursive: true });
  cpSync(STUB, path.join(dir, 'charts', 'kube-prometheus-stack'), { recursive: true });
  return dir;
}

function parseStream(text: string): Obj[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const keyOf = (o: Obj) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const sorted = (objs: Obj[]) => [...objs].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));

/** Every object synth wrote for an environment's platform (dist/<env>/platform/*.k8s.yaml). */
function synthesizedObjects(env: string): Obj[] {
  const dir = path.join(outDir, env, 'platform');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.k8s.yaml'))
    .flatMap((f) => parseStream(readFileSync(path.join(dir, f), 'utf8')));
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'helm-bundle-'));
  helmEnv = {
    PATH: process.env.PATH,
    HOME: work,
    HELM_CACHE_HOME: path.join(work, 'helm-cache'),
    HELM_CONFIG_HOME: path.join(work, 'helm-config'),
    HELM_DATA_HOME: path.join(work, 'helm-data'),
  };
  outDir = path.join(work, 'dist');
  for (const [env, r] of synthesize({ rootDir: ROOT, outDir, environments: [...ENVIRONMENTS] })) configs.set(env, r.config);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the stub stands in for the pinned kube-prometheus-stack version', () => {
  // GIVEN the fixture chart
  const stub = YAML.parse(readFileSync(path.join(STUB, 'Chart.yaml'), 'utf8')) as { name: string; version: string };
  // THEN it has the dependency's name and pinned version (bump it together with versions.ts)
  expect(stub).toMatchObject({ name: versions.kubePrometheusStack.chart, version: versions.kubePrometheusStack.version });
});

describe.each(ENVIRONMENTS)('bundle of %s', (env) => {
  test('Chart.yaml depends on the pinned kube-prometheus-stack from prometheus-community', () => {
    // WHEN synth wrote the bundle
    const chart = YAML.parse(readFileSync(path.join(outDir, env, 'platform', 'chart', 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    // THEN
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe(BUNDLE_CHART_NAME);
    expect(chart.type).toBe('application');
    expect(chart.appVersion).toBe(versions.k6);
    expect(chart.dependencies).toEqual([
      { name: 'kube-prometheus-stack', version: versions.kubePrometheusStack.version, repository: versions.kubePrometheusStack.repository },
    ]);
  });

  test('values.yaml carries the kps values under the dependency key, equal to synth`s values file', () => {
    // WHEN
    const values = YAML.parse(readFileSync(path.join(outDir, env, 'platform', 'chart', 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const synthValues = YAML.parse(readFileSync(path.join(outDir, env, 'platform', 'kube-prometheus-stack.values.yaml'), 'utf8')) as unknown;
    // THEN
    expect(Object.keys(values)).toEqual(['kube-prometheus-stack']);
    expect(values['kube-prometheus-stack']).toEqual(monitoringValues(configs.get(env)!));
    expect(values['kube-prometheus-stack']).toEqual(synthValues);
  });

  test('helm lint passes with the dependency supplied locally', () => {
    // GIVEN the bundle with the stub in charts/
    const dir = chartWithStub(path.join(outDir, env, 'platform', 'chart'), `lint-${env}`);
    // WHEN / THEN (helm exits non-zero on failure, which throws)
    const out = helm(['lint', dir, '--namespace', configs.get(env)!.namespaces.monitoring]);
    expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(out).not.toContain('[ERROR]');
  });

  test('helm template renders exactly the synthesized objects, and the values reach the dependency', () => {
    // GIVEN
    const cfg = configs.get(env)!;
    const dir = chartWithStub(path.join(outDir, env, 'platform', 'chart'), `template-${env}`);
    // WHEN
    const rendered = parseStream(helm(['template', RELEASE, dir, '--namespace', cfg.namespaces.monitoring]));
    // THEN the stub received the values under its key
    const echo = rendered.filter((o) => o.metadata.name === 'kps-stub-values');
    expect(echo).toHaveLength(1);
    expect(echo[0]!.metadata.namespace).toBe(cfg.namespaces.monitoring);
    const data = echo[0]!.data as Record<string, string>;
    expect(data.retention).toBe(cfg.monitoring.prometheus.retention);
    expect(data.fullnameOverride).toBe(cfg.monitoring.releaseName);
    // (helm hands every subchart an empty `global` map next to its values)
    expect(JSON.parse(data['values.json']!)).toEqual({ ...monitoringValues(cfg), global: {} });
    // AND the platform objects equal what synth wrote to platform/ (no run: installing the platform starts no load
    // test), minus the release namespace (created before `helm install`)
    const platform = rendered.filter((o) => o.metadata.name !== 'kps-stub-values');
    const expected = synthesizedObjects(env).filter((o) => !(o.kind === 'Namespace' && o.metadata.name === cfg.namespaces.monitoring));
    expect(expected.length).toBeGreaterThan(0);
    expect(sorted(platform)).toEqual(sorted(expected));
  });
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
  const dir = path.join(work, 'escape');
  writeHelmBundle(dir, files);
  const withStub = chartWithStub(dir, 'escape-stub');
  // WHEN
  const rendered = parseStream(helm(['template', RELEASE, withStub, '--namespace', 'monitoring']));
  // THEN
  expect(rendered.find((o) => o.metadata.name === 'legends')).toEqual(cm);
  expect(escapeTemplate('a {{b}} c')).toBe('a {{ "{{" }}b}} c');
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
  expect(YAML.parse(files.get('values.yaml')!)).toEqual({});
  expect(files.get('templates/NOTES.txt')).toContain('Remote-write URL for runners: https://prom.example.com/api/v1/write');
  expect(files.get('templates/NOTES.txt')).not.toContain('Grafana');
  // AND it still lints and renders without the stub
  const dir = path.join(work, 'no-monitoring');
  writeHelmBundle(dir, files);
  writeFileSync(path.join(dir, 'templates', 'cm.yaml'), YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'only' } }));
  expect(helm(['lint', dir])).toContain('0 chart(s) failed');
});

test('NOTES.txt tells which Secrets to create, without any secret value', () => {
  // GIVEN remote-write basic auth whose two keys live in one Secret
  const cfg = parsePlatformConfig({
    environment: 'auth',
    runner: { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'user' }, password: { name: 'rw', key: 'pass' } } },
  });
  // WHEN
  const notes = helmBundle({ config: cfg, manifests: [] }).get('templates/NOTES.txt')!;
  // THEN
  expect(notes).toContain(
    'kubectl -n monitoring create secret generic grafana-admin --from-literal=admin-user=admin --from-literal=admin-password=<grafanaAdminPassword>',
  );
  expect(notes).toContain(
    'kubectl -n k6 create secret generic rw --from-literal=user=<remoteWriteUsername> --from-literal=pass=<remoteWritePassword>',
  );
});
