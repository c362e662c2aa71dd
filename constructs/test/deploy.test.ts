import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ApiObject } from 'cdk8s';
import {
  deploySecrets,
  isRunObject,
  grafanaPortForwardCommand,
  grafanaUrl,
  platformManifests,
  prometheusPortForwardCommand,
  startRunCommand,
} from '../src/platform/deploy';
import { LABELS } from '../src/contract/labels';
import { parsePlatformConfig } from '../src/config/platform-config';
import { buildEnvironment } from '../src/output/synth';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPTS = path.join(ROOT, 'scripts');
const STUB = path.join(ROOT, 'test', 'fixtures', 'kps-stub');

function helmBin(): string {
  const bin = process.env.HELM_BIN ?? path.join(ROOT, '.tools', 'bin', 'helm');
  if (!existsSync(bin)) throw new Error(`helm not found at ${bin}: run .ci/setup (installs .tools/bin/helm) or set HELM_BIN`);
  return bin;
}

describe('platformManifests', () => {
  test('lists every chart with the file name synth writes, in synth order', () => {
    // GIVEN
    const out = mkdtempSync(path.join(tmpdir(), 'deploy-'));
    try {
      const { app, charts } = buildEnvironment(parsePlatformConfig({}), SCRIPTS, out);
      // WHEN
      const manifests = platformManifests(app, charts);
      app.synth();
      // THEN
      expect(manifests.map((m) => m.fileName)).toEqual(readdirSync(out).sort());
      expect(manifests.map((m) => m.id).slice(0, 1)).toEqual(['namespaces']);
      expect(manifests.find((m) => m.id === 'namespaces')!.objects.map((o) => o.metadata.name)).toEqual(['monitoring', 'k6']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('leaves out kube-prometheus-stack objects rendered locally (monitoring.chart.path); Helm deploys those', () => {
    // GIVEN the monitoring chart rendered from a local chart (the test stub standing in for kube-prometheus-stack)
    const previous = process.env.HELM_BIN;
    process.env.HELM_BIN = helmBin();
    try {
      const cfg = parsePlatformConfig({ monitoring: { chart: { path: STUB } } });
      const { app, charts } = buildEnvironment(cfg, SCRIPTS);
      const monitoringObjects = charts.monitoring.toJson() as { kind: string; metadata: { name: string } }[];
      expect(monitoringObjects.map((o) => o.metadata.name)).toContain('kps-stub-values');
      // WHEN
      const manifests = platformManifests(app, charts);
      // THEN
      const monitoring = manifests.find((m) => m.id === 'monitoring')!;
      expect(monitoring.objects.map((o) => o.metadata.name)).not.toContain('kps-stub-values');
      // (the stub renders its values echo and the Services the platform's objects point at: four, Alertmanager off)
      const fromChart = monitoringObjects.filter((o) => o.metadata.name === 'kps-stub-values' || o.kind === 'Service');
      expect(fromChart).toHaveLength(5);
      expect(monitoring.objects).toHaveLength(monitoringObjects.length - fromChart.length);
    } finally {
      if (previous === undefined) delete process.env.HELM_BIN;
      else process.env.HELM_BIN = previous;
    }
  });
  test('leaves out the objects of a run (run-id label): deploying the platform starts no load test', () => {
    // GIVEN a run object next to the platform's own objects in the load-test chart
    const { app, charts } = buildEnvironment(parsePlatformConfig({}), SCRIPTS);
    new ApiObject(charts.loadTests, 'RunJob', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'sample-run-1', labels: { [LABELS.runId]: 'sample-run-1' } },
    });
    // WHEN
    const loadTests = platformManifests(app, charts).find((m) => m.id === 'loadtests')!;
    // THEN
    expect(loadTests.objects.map((o) => o.metadata.name)).not.toContain('sample-run-1');
    const all = charts.loadTests.toJson() as { metadata: { name: string; labels?: Record<string, string> } }[];
    expect(loadTests.objects).toEqual(all.filter((o) => o.metadata.labels?.[LABELS.runId] === undefined));
    expect(loadTests.objects.length).toBeGreaterThan(0);
    expect(isRunObject({ metadata: { labels: { [LABELS.runId]: 'x' } } })).toBe(true);
    expect(isRunObject({ metadata: {} })).toBe(false);
  });
});

describe('deploySecrets', () => {
  test('defaults: the Grafana admin Secret in the monitoring namespace', () => {
    expect(deploySecrets(parsePlatformConfig({}))).toEqual([
      {
        namespace: 'monitoring',
        name: 'grafana-admin',
        entries: [
          { key: 'admin-user', value: 'admin' },
          { key: 'admin-password', configKey: 'grafanaAdminPassword' },
        ],
      },
    ]);
  });

  test('basic auth in one Secret is merged; monitoring off needs no Grafana Secret', () => {
    // GIVEN
    const cfg = parsePlatformConfig({
      namespaces: { loadTests: 'perf' },
      monitoring: { enabled: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write' },
      runner: { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'u' }, password: { name: 'rw', key: 'p' } } },
    });
    // THEN
    expect(deploySecrets(cfg)).toEqual([
      {
        namespace: 'perf',
        name: 'rw',
        entries: [
          { key: 'u', configKey: 'remoteWriteUsername' },
          { key: 'p', configKey: 'remoteWritePassword' },
        ],
      },
    ]);
  });

  test('bearer auth: one key', () => {
    const cfg = parsePlatformConfig({ runner: { remoteWriteAuth: { type: 'bearer', token: { name: 'tok', key: 'token' } } } });
    expect(deploySecrets(cfg)[1]).toEqual({ namespace: 'k6', name: 'tok', entries: [{ key: 'token', configKey: 'remoteWriteToken' }] });
  });

  test('two credentials in the same Secret key is an error', () => {
    const cfg = parsePlatformConfig({
      runner: { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'k' }, password: { name: 'rw', key: 'k' } } },
    });
    expect(() => deploySecrets(cfg)).toThrow(
      "Deploy: Secret 'k6/rw' key 'k' is referenced twice with different sources; give each credential its own key",
    );
  });
});

describe('URLs and commands', () => {
  test('Grafana URL: in-cluster Service, plain ingress, TLS ingress', () => {
    expect(grafanaUrl(parsePlatformConfig({}))).toBe('http://kube-prometheus-stack-grafana.monitoring.svc:80/');
    expect(grafanaUrl(parsePlatformConfig({ monitoring: { grafana: { ingress: { enabled: true, host: 'g.example.com' } } } }))).toBe(
      'http://g.example.com/',
    );
    expect(
      grafanaUrl(parsePlatformConfig({ monitoring: { grafana: { ingress: { enabled: true, host: 'g.example.com', tlsSecretName: 'g-tls' } } } })),
    ).toBe('https://g.example.com/');
    // a host without `enabled` is not served
    expect(grafanaUrl(parsePlatformConfig({ monitoring: { releaseName: 'kps', grafana: { ingress: { host: 'g.example.com' } } } }))).toBe(
      'http://kps-grafana.monitoring.svc:80/',
    );
  });

  test('port-forward commands follow the release name, namespace and context', () => {
    const cfg = parsePlatformConfig({ namespaces: { monitoring: 'obs' }, monitoring: { releaseName: 'kps' } });
    expect(grafanaPortForwardCommand(cfg)).toBe('kubectl -n obs port-forward svc/kps-grafana 3000:80');
    expect(grafanaPortForwardCommand(cfg, 'kind-k6')).toBe('kubectl --context kind-k6 -n obs port-forward svc/kps-grafana 3000:80');
    expect(prometheusPortForwardCommand(cfg, 'kind-k6')).toBe('kubectl --context kind-k6 -n obs port-forward svc/kps-prometheus 9090:9090');
  });

  test('the run command names the test, the environment and the context; an unknown test is an error', () => {
    const cfg = parsePlatformConfig({ environment: 'staging' });
    expect(startRunCommand(cfg, 'sample')).toBe('npx loadtest run sample --env staging');
    expect(startRunCommand(cfg, 'sample', 'ctx')).toBe('npx loadtest run sample --env staging --context ctx');
    expect(() => startRunCommand(cfg, 'nope')).toThrow("Deploy: 'tests' has no test named 'nope' (known: sample)");
  });
});
