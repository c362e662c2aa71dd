import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import {
  grafanaServiceName,
  MonitoringStack,
  monitoringValues,
  prometheusServiceName,
  prometheusUrl,
  remoteWriteUrl,
  renderHint,
} from '../src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../src/config/platform-config';
import { versions } from '../src/contract/versions';
import { helmBinary } from '../../test/support/tools';

const upstreamDir = path.join(__dirname, '..', '..', 'test', 'fixtures', 'upstream');
const kpsValues = YAML.parse(readFileSync(path.join(upstreamDir, 'kube-prometheus-stack', 'values.yaml'), 'utf8')) as Record<string, unknown>;
const grafanaValues = YAML.parse(readFileSync(path.join(upstreamDir, 'grafana', 'values.yaml'), 'utf8')) as Record<string, unknown>;

type Tree = Record<string, unknown>;
const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge (b wins) so the grafana subchart's own values fill in what kube-prometheus-stack leaves commented out. */
function merge(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isMap(out[k]) && isMap(v) ? merge(out[k] as Tree, v) : (out[k] ?? v);
  return out;
}

/**
 * Every path we set must exist upstream (the chart has no schema and ignores unknown keys). Below a free-form map
 * (`{}` upstream) anything goes; a list or scalar upstream must be set to a list or scalar.
 */
function unknownPaths(ours: unknown, upstream: unknown, at: string): string[] {
  if (!isMap(ours)) {
    if (Array.isArray(upstream) !== Array.isArray(ours)) return [`${at}: upstream is ${Array.isArray(upstream) ? 'a list' : typeof upstream}`];
    return [];
  }
  if (!isMap(upstream)) return upstream === null || upstream === undefined ? [] : [`${at}: upstream is not a map`];
  if (Object.keys(upstream).length === 0) return []; // free-form map
  return Object.entries(ours).flatMap(([k, v]) => {
    const p = at ? `${at}.${k}` : k;
    return k in upstream ? unknownPaths(v, upstream[k], p) : [`${p}: not in the upstream values`];
  });
}

const upstream = { ...kpsValues, grafana: merge(kpsValues.grafana as Tree, grafanaValues) };

/**
 * Optional keys the charts document only as commented-out examples (their templates read them). Each must appear as
 * a comment in the upstream file, which the walker test checks, so this list cannot hide a typo.
 */
const documentedAsComment: Record<string, string> = {
  'grafana.persistence.storageClassName': 'grafana',
  'grafana.ingress.ingressClassName': 'grafana',
};
const upstreamText = (chart: string) => readFileSync(path.join(upstreamDir, chart, 'values.yaml'), 'utf8');

describe('monitoringValues', () => {
  test('turns on the remote-write receiver and native histograms (both the <3.9 flag and the 3.9+ setting)', () => {
    // WHEN
    const spec = monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec;
    // THEN
    expect(spec.enableRemoteWriteReceiver).toBe(true);
    expect(spec.enableFeatures).toEqual(['native-histograms']);
    expect(spec.scrapeNativeHistograms).toBe(true);
    expect(spec.remoteWriteReceiverMessageVersions).toEqual(['V1.0', 'V2.0']);
  });

  test('maps retention, storage and resources', () => {
    // GIVEN
    const cfg = parsePlatformConfig({
      monitoring: {
        prometheus: {
          retention: '30d',
          retentionSize: '90GB',
          storage: { size: '100Gi', storageClassName: 'ssd' },
          resources: { limits: { memory: '8Gi' } },
        },
      },
    });
    // WHEN
    const spec = monitoringValues(cfg).prometheus.prometheusSpec;
    // THEN
    expect(spec.retention).toBe('30d');
    expect(spec.retentionSize).toBe('90GB');
    expect(spec.resources).toEqual({ limits: { memory: '8Gi' } });
    expect(spec.storageSpec).toEqual({
      volumeClaimTemplate: { spec: { storageClassName: 'ssd', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Gi' } } } },
    });
  });

  test('Grafana: admin from an existing Secret, dashboards sidecar on for all namespaces with folders, Prometheus datasource', () => {
    // WHEN
    const g = monitoringValues(parsePlatformConfig({ monitoring: { grafana: { adminSecret: { name: 'gadmin', passwordKey: 'pw' } } } })).grafana;
    // THEN
    expect(g.admin).toEqual({ existingSecret: 'gadmin', userKey: 'admin-user', passwordKey: 'pw' });
    expect(g.sidecar).toEqual({
      dashboards: {
        enabled: true,
        label: 'grafana_dashboard',
        labelValue: '1',
        searchNamespace: 'ALL',
        folderAnnotation: 'grafana_folder',
        provider: { foldersFromFilesStructure: true },
      },
      datasources: { enabled: true, defaultDatasourceEnabled: true, isDefaultDatasource: true, uid: 'prometheus' },
    });
    expect(g).not.toHaveProperty('adminPassword');
  });

  test('alertmanager, ingress and persistence follow the config', () => {
    const v = monitoringValues(
      parsePlatformConfig({
        monitoring: {
          alertmanager: { enabled: true },
          grafana: {
            persistence: { enabled: true, size: '20Gi' },
            ingress: { enabled: true, host: 'g.example.com', className: 'nginx', tlsSecretName: 'g-tls' },
          },
        },
      }),
    );
    expect(v.alertmanager).toEqual({ enabled: true });
    expect(v.grafana.persistence).toEqual({ enabled: true, size: '20Gi' });
    expect(v.grafana.ingress).toEqual({
      enabled: true,
      ingressClassName: 'nginx',
      hosts: ['g.example.com'],
      path: '/',
      tls: [{ secretName: 'g-tls', hosts: ['g.example.com'] }],
    });
  });

  test.each([
    ['defaults', {}],
    [
      'all options',
      {
        monitoring: {
          alertmanager: { enabled: true },
          prometheus: { storage: { storageClassName: 'ssd' } },
          grafana: {
            persistence: { enabled: true, storageClassName: 'ssd' },
            ingress: { enabled: true, host: 'g.example.com', className: 'nginx', tlsSecretName: 't' },
          },
        },
      },
    ],
  ])('every values path exists in the pinned chart values (%s)', (_name, input) => {
    // WHEN
    const unknown = unknownPaths(monitoringValues(parsePlatformConfig(input)), upstream, '').filter(
      (p) => !(p.split(':')[0]! in documentedAsComment),
    );
    // THEN
    expect(unknown).toEqual([]);
  });

  test.each(Object.entries(documentedAsComment))('%s is documented upstream as a commented-out key', (key, chart) => {
    const leaf = key.split('.').pop()!;
    expect(upstreamText(chart)).toMatch(new RegExp(`^\\s*#\\s*${leaf}:`, 'm'));
  });

  test('the walker catches the blog recipe path that the chart silently ignores', () => {
    expect(unknownPaths({ prometheus: { serviceMonitor: { enableFeatures: ['native-histograms'] } } }, upstream, '')).toEqual([
      'prometheus.serviceMonitor.enableFeatures: not in the upstream values',
    ]);
  });
});

describe('remote-write URL', () => {
  test('is derived from release, namespace and port', () => {
    expect(remoteWriteUrl(parsePlatformConfig({}))).toBe('http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write');
    expect(prometheusUrl('kps', 'obs')).toBe('http://kps-prometheus.obs:9090');
    expect(remoteWriteUrl(parsePlatformConfig({ monitoring: { releaseName: 'kps' }, namespaces: { monitoring: 'obs' } }))).toBe(
      'http://kps-prometheus.obs:9090/api/v1/write',
    );
  });

  test('follows the chart`s fullname cut: 26 characters, then one trailing "-" dropped', () => {
    // kube-prometheus-stack.fullname in charts/kube-prometheus-stack/templates/_helpers.tpl (kube-prometheus-stack-88.5.3):
    // `.Values.fullnameOverride | trunc 26 | trimSuffix "-"`; the Service is `<fullname>-prometheus` (prometheus/service.yaml)
    expect(prometheusServiceName('observability-stack-longer-name')).toBe('observability-stack-longer-prometheus');
    expect(prometheusServiceName('observability-stack-longe-rname')).toBe('observability-stack-longe-prometheus');
    expect(prometheusServiceName('a'.repeat(26))).toBe(`${'a'.repeat(26)}-prometheus`);
    // grafana.fullname (charts/grafana/templates/_helpers.tpl, grafana-12.11.1): the release alone when it contains "grafana"
    expect(grafanaServiceName('kube-prometheus-stack')).toBe('kube-prometheus-stack-grafana');
    expect(grafanaServiceName('grafana-and-prometheus')).toBe('grafana-and-prometheus');
  });

  test('uses the configured URL when monitoring is external', () => {
    const cfg = parsePlatformConfig({
      monitoring: { enabled: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write' },
      runner: { remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: 'token' } } },
    });
    expect(remoteWriteUrl(cfg)).toBe('https://prom.example.com/api/v1/write');
  });
});

describe('MonitoringStack', () => {
  test('without a chart: values only, no chart objects (only the NetworkPolicies), and a one-line hint', () => {
    // GIVEN
    const chart = Testing.chart();
    const cfg = parsePlatformConfig({});
    // WHEN
    const stack = new MonitoringStack(chart, 'Stack', { config: cfg });
    // THEN
    expect(stack.rendered).toBe(false);
    expect(Testing.synth(chart).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'NetworkPolicy/k6-platform-default-deny-ingress',
      'NetworkPolicy/k6-platform-prometheus',
      'NetworkPolicy/k6-platform-grafana',
      'NetworkPolicy/k6-platform-operator',
      'NetworkPolicy/k6-platform-kube-state-metrics',
    ]);
    expect([...stack.networkPolicies!.policies.keys()]).toEqual(['default-deny', 'prometheus', 'grafana', 'operator', 'kube-state-metrics']);
    expect(stack.values).toEqual(monitoringValues(cfg));
    expect(renderHint(cfg)).toMatch(
      /^kube-prometheus-stack not rendered .* --version 88\.5\.3 .*-f dist\/dev\/platform\/kube-prometheus-stack\.values\.yaml` or set monitoring\.chart\.path/,
    );
    expect(renderHint(cfg)).not.toContain('\n');
  });

  test("a helm failure names the command, the setting and helm's reason", () => {
    // GIVEN a chart path that does not exist
    const cfg = parsePlatformConfig({ monitoring: { chart: { path: '/nonexistent/kps' } } });
    // WHEN
    const run = () => new MonitoringStack(Testing.chart(), 'Stack', { config: cfg, helmExecutable: helmBinary() });
    // THEN
    expect(run).toThrow(
      `MonitoringStack: rendering 'monitoring.chart.path' /nonexistent/kps failed: \`${helmBinary()} template -f <values> --namespace monitoring --include-crds --kube-version ${versions.kubernetes} kube-prometheus-stack /nonexistent/kps\`: Error: path "/nonexistent/kps" not found`,
    );
  });

  test('a missing helm says so, with the command', () => {
    const cfg = parsePlatformConfig({ monitoring: { chart: { path: '/charts/kps' } } });
    const run = () => new MonitoringStack(Testing.chart(), 'Stack', { config: cfg, helmExecutable: '/no/such/helm' });
    expect(run).toThrow(
      /^MonitoringStack: rendering 'monitoring.chart.path' \/charts\/kps failed: `\/no\/such\/helm template .* kube-prometheus-stack \/charts\/kps`: unable to execute '\/no\/such\/helm' to render Helm chart\. Is it installed on your system\?$/,
    );
  });

  test('with monitoring off (an existing Prometheus), no NetworkPolicies: that namespace is not ours', () => {
    // GIVEN
    const chart = Testing.chart();
    const cfg = parsePlatformConfig({
      monitoring: { enabled: false, remoteWriteUrl: 'http://prometheus-operated.observability.svc:9090/api/v1/write' },
    });
    // WHEN
    const stack = new MonitoringStack(chart, 'Stack', { config: cfg });
    // THEN
    expect(stack.networkPolicies).toBeUndefined();
    expect(Testing.synth(chart)).toEqual([]);
  });

  test('with a local chart: renders it through helm with the same values', () => {
    // GIVEN
    const chart = Testing.chart();
    const cfg = parsePlatformConfig({ monitoring: { chart: { path: path.join(__dirname, 'fixtures', 'kube-prometheus-stack') } } });
    // WHEN
    new MonitoringStack(chart, 'Stack', { config: cfg, helmExecutable: helmBinary() });
    const objs = Testing.synth(chart);
    // THEN
    const prom = objs.find((o) => o.kind === 'Prometheus');
    expect(prom.metadata).toMatchObject({ name: 'kube-prometheus-stack-prometheus', namespace: 'monitoring' });
    expect(prom.spec).toEqual({
      enableRemoteWriteReceiver: true,
      enableFeatures: ['native-histograms'],
      retention: '15d',
      retentionSize: '45GB',
      storage: monitoringValues(cfg).prometheus.prometheusSpec.storageSpec,
    });
    // the Service the remote-write URL points at exists under the derived name
    expect(objs.find((o) => o.kind === 'Service').metadata.name).toBe('kube-prometheus-stack-prometheus');
  });
});
