import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as YAML from 'yaml';
import { monitoringValues, remoteWriteUrl } from '../../constructs/src/monitoring/monitoring-stack';
import type { PlatformConfig } from '../../constructs/src/config/platform-config';
import { synthesize } from '../../constructs/src/output/synth';
import { versions } from '../../constructs/src/contract/versions';
import { readStackConfig } from '../config';
import { isWireSecret, mockStack, ROOT, stackFileConfig, valueOf, type Registered } from './harness';

/**
 * The mocks test of one committed stack file (each stack runs in its own test file: the Pulumi runtime and the loaded
 * program are per module registry). It checks the resources, the Release values against what synth writes for the same
 * environment, that secrets stay secret, and the dependency order.
 */

type Program = typeof import('../stack');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

const PASSWORD = 'correct-horse-battery-staple';
const CONTEXT = 'kind-k6';

export function stackSuite(stack: 'dev' | 'staging' | 'prod', loadProgram: () => Program): void {
  let registered: Registered[];
  let program: Program;
  let outDir: string;
  let cfg: PlatformConfig;
  const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (r === undefined) throw new Error(`no resource named ${name}; registered: ${registered.map((x) => x.name).join(', ')}`);
    return r;
  };
  /**
   * Objects of each non-empty chart file synth writes to platform/ (what is deployed: no objects of a run), by chart id
   * (`0002-loadtests.k8s.yaml` -> `loadtests`).
   */
  const platformDir = () => path.join(outDir, stack, 'platform');
  const synthesizedCharts = () =>
    new Map(
      readdirSync(platformDir())
        .filter((f) => f.endsWith('.k8s.yaml'))
        .map(
          (f) =>
            [
              f.replace(/^\d{4}-/, '').replace(/\.k8s\.yaml$/, ''),
              YAML.parseAllDocuments(readFileSync(path.join(platformDir(), f), 'utf8'))
                .map((d) => d.toJSON() as Obj | null)
                .filter((o): o is Obj => o !== null),
            ] as const,
        )
        .filter(([, objs]) => objs.length > 0),
    );

  beforeAll(async () => {
    // GIVEN the stack file's config plus the secret a user sets with `pulumi config set --secret`
    const config = { ...stackFileConfig(stack), 'k6platform:grafanaAdminPassword': PASSWORD, 'k6platform:context': CONTEXT };
    registered = await mockStack(stack, config, ['k6platform:grafanaAdminPassword']);
    // WHEN the program runs
    program = loadProgram();
    cfg = readStackConfig(stack).platform;
    const p = program.platform;
    await Promise.all([
      valueOf(program.provider.urn),
      valueOf(p.urn),
      valueOf(p.namespaces.urn),
      ...[...p.secrets.values()].map((s) => valueOf(s.urn)),
      ...(p.release !== undefined ? [valueOf(p.release.urn)] : []),
      ...[...p.chartGroups.values()].map((g) => valueOf(g.urn)),
    ]);
    // AND synth writes the same environment
    outDir = mkdtempSync(path.join(tmpdir(), `infra-${stack}-`));
    synthesize({ rootDir: ROOT, outDir, environments: [stack] });
  });

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  test('creates the provider, the Platform component, the namespaces, the admin Secret, the Release and one ConfigGroup per chart', () => {
    // THEN
    const charts = synthesizedCharts();
    const expected = [
      `pulumi:providers:kubernetes::${stack}-kubernetes`,
      `k6platform:index:Platform::${stack}`,
      `kubernetes:core/v1:Secret::${stack}-monitoring-grafana-admin`,
      `kubernetes:helm.sh/v3:Release::${stack}-kube-prometheus-stack`,
      ...[...charts.keys()].map((id) => `kubernetes:yaml/v2:ConfigGroup::${stack}-${id}`),
    ];
    expect(registered.map((r) => `${r.type}::${r.name}`).sort()).toEqual(expected.sort());
    expect(charts.has('namespaces')).toBe(true);
    expect(charts.has('loadtests')).toBe(true);
  });

  test('each ConfigGroup carries exactly the objects synth writes for the chart', () => {
    for (const [id, objs] of synthesizedCharts()) {
      const group = byName(`${stack}-${id}`);
      expect(group.inputs.objs).toEqual(objs);
    }
    const ns = byName(`${stack}-namespaces`).inputs.objs as Obj[];
    expect(ns.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/monitoring', 'Namespace/k6']);
  });

  test('the Release installs the pinned kube-prometheus-stack with the values synth writes', () => {
    // GIVEN what synth wrote for the same environment
    const synthValues = YAML.parse(readFileSync(path.join(platformDir(), 'kube-prometheus-stack.values.yaml'), 'utf8')) as unknown;
    // THEN
    const release = byName(`${stack}-kube-prometheus-stack`).inputs;
    expect(release.name).toBe('kube-prometheus-stack');
    expect(release.chart).toBe(versions.kubePrometheusStack.chart);
    expect(release.version).toBe(versions.kubePrometheusStack.version);
    expect(release.repositoryOpts).toEqual({ repo: versions.kubePrometheusStack.repository });
    expect(release.namespace).toBe('monitoring');
    expect(release.createNamespace).toBe(false);
    expect(release.values).toEqual(synthValues);
    expect(release.values).toEqual(monitoringValues(cfg));
  });

  test('the stack file reaches the Release: retention, storage, alertmanager, Grafana persistence and ingress', () => {
    // GIVEN the stack file itself
    const file = YAML.parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, Record<string, never>> };
    const m = file.config['k6platform:monitoring'] as unknown as {
      prometheus: { retention: string; retentionSize: string; storage: { size: string } };
      alertmanager: { enabled: boolean };
      grafana: { persistence: { enabled: boolean }; ingress?: { host: string } };
    };
    // THEN
    const values = byName(`${stack}-kube-prometheus-stack`).inputs.values as ReturnType<typeof monitoringValues>;
    const spec = values.prometheus.prometheusSpec;
    expect(spec.retention).toBe(m.prometheus.retention);
    expect(spec.retentionSize).toBe(m.prometheus.retentionSize);
    expect(spec.storageSpec).toEqual({
      volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: m.prometheus.storage.size } } } },
    });
    expect(spec.enableRemoteWriteReceiver).toBe(true);
    expect(spec.enableFeatures).toEqual(['native-histograms']);
    expect(values.alertmanager).toEqual({ enabled: m.alertmanager.enabled });
    const grafana = values.grafana as { persistence: { enabled: boolean }; ingress: { enabled: boolean; hosts: string[] } };
    expect(grafana.persistence.enabled).toBe(m.grafana.persistence.enabled);
    expect(grafana.ingress.hosts).toEqual(m.grafana.ingress !== undefined ? [m.grafana.ingress.host] : []);
  });

  test('the Grafana admin password is a secret input and a secret output, and appears in no stack output', async () => {
    // THEN the Secret has the names the kps values reference
    const secret = byName(`${stack}-monitoring-grafana-admin`);
    const meta = secret.inputs.metadata as { name: string; namespace: string };
    expect(meta).toMatchObject({ name: 'grafana-admin', namespace: 'monitoring' });
    expect(secret.inputs.type).toBe('Opaque');
    // AND the data travels to the engine as a secret (the SDK marks the whole map secret)
    expect(isWireSecret(secret.inputs.stringData)).toBe(true);
    expect((secret.inputs.stringData as { value: unknown }).value).toEqual({ 'admin-user': 'admin', 'admin-password': PASSWORD });
    // AND the resource's outputs are secret
    const res = program.platform.secrets.get('monitoring/grafana-admin')!;
    expect(await pulumi.isSecret(res.stringData)).toBe(true);
    // AND no stack output holds it (they are plain, public values)
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the entry point, loaded after setMocks like the program
    const outputs: Record<string, unknown> = { ...(require('../index') as typeof import('../index')) };
    expect(Object.keys(outputs).sort()).toEqual([
      'environment',
      'grafanaPortForwardCommand',
      'grafanaUrl',
      'namespaces',
      'prometheusPortForwardCommand',
      'remoteWriteUrl',
      'runCommands',
    ]);
    for (const [name, out] of Object.entries(outputs)) {
      const value: unknown = pulumi.Output.isInstance(out) ? await valueOf(out as pulumi.Output<unknown>) : out;
      expect({ name, leaked: JSON.stringify(value).includes(PASSWORD) }).toEqual({ name, leaked: false });
    }
  });

  test('no synthesized file holds the password (dist/ manifests and the Helm bundle)', () => {
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((f) => (statSync(path.join(d, f)).isDirectory() ? walk(path.join(d, f)) : [path.join(d, f)]));
    const files = walk(path.join(outDir, stack));
    expect(files.length).toBeGreaterThan(3);
    expect(files.filter((f) => readFileSync(f, 'utf8').includes(PASSWORD))).toEqual([]);
  });

  test('dependency order: namespaces, then the Secret, then the Release, then every other chart', () => {
    // THEN
    expect(byName(`${stack}-namespaces`).dependsOn).toEqual([]);
    expect(byName(`${stack}-monitoring-grafana-admin`).dependsOn).toEqual([`${stack}-namespaces`]);
    expect([...byName(`${stack}-kube-prometheus-stack`).dependsOn].sort()).toEqual([`${stack}-monitoring-grafana-admin`, `${stack}-namespaces`]);
    for (const id of synthesizedCharts().keys()) {
      if (id === 'namespaces') continue;
      expect([...byName(`${stack}-${id}`).dependsOn].sort()).toEqual(
        [`${stack}-kube-prometheus-stack`, `${stack}-monitoring-grafana-admin`, `${stack}-namespaces`].sort(),
      );
    }
  });

  test('the provider uses the configured kube context', () => {
    const provider = byName(`${stack}-kubernetes`);
    expect(provider.inputs.context).toBe(CONTEXT);
    expect(provider.inputs.kubeconfig).toBeUndefined();
  });

  test('stack outputs: Grafana URL, remote-write URL, namespaces and the command that starts a run', async () => {
    // THEN
    const ingress = cfg.monitoring.grafana.ingress;
    const expectedGrafana = ingress.enabled
      ? `${ingress.tlsSecretName !== undefined ? 'https' : 'http'}://${ingress.host}/`
      : 'http://kube-prometheus-stack-grafana.monitoring.svc:80/';
    expect(await valueOf(program.grafanaUrl)).toBe(expectedGrafana);
    expect(await valueOf(program.remoteWriteUrl)).toBe('http://kube-prometheus-stack-prometheus.monitoring:9090/api/v1/write');
    expect(await valueOf(program.remoteWriteUrl)).toBe(remoteWriteUrl(cfg));
    expect(await valueOf(program.namespaces)).toEqual({ monitoring: 'monitoring', loadTests: 'k6' });
    expect(await valueOf(program.grafanaPortForwardCommand)).toBe(
      `kubectl --context ${CONTEXT} -n monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80`,
    );
    expect(await valueOf(program.prometheusPortForwardCommand)).toBe(
      `kubectl --context ${CONTEXT} -n monitoring port-forward svc/kube-prometheus-stack-prometheus 9090:9090`,
    );
    expect(await valueOf(program.runCommands)).toEqual(
      Object.fromEntries(cfg.tests.map((t) => [t.name, `npx loadtest run ${t.name} --env ${stack} --context ${CONTEXT}`])),
    );
    expect(Object.keys(await valueOf(program.runCommands))).toEqual(stack === 'dev' ? ['sample', 'smoke', 'sample-operator'] : ['sample', 'smoke']);
    expect(program.environment).toBe(stack);
  });
}
