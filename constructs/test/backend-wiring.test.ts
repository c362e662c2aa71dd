/**
 * What a `monitoring.backend` changes in the synthesized platform: the runners' remote-write environment (env names
 * of k6 v1.7.1 internal/output/prometheusrw/remotewrite/config.go), their TLS volumes, their egress, and Grafana's
 * datasource (values paths checked against the pinned charts' values.yaml).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { parsePlatformConfig, type PlatformConfigInput } from '../src/config/platform-config';
import { buildPlatform } from '../src/platform/platform';
import { monitoringValues } from '../src/monitoring/monitoring-stack';
import { deploySecrets } from '../src/platform/deploy';
import { validateManifest } from '../../test/support/schemas';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SCRIPTS_DIR = path.resolve(__dirname, '..', '..', 'scripts');
const UPSTREAM = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'upstream');
const TESTS: PlatformConfigInput['tests'] = [
  { name: 'sample', script: 'sample.js' },
  { name: 'op', script: 'sample.js', mode: 'operator' },
];

const MIMIR = {
  kind: 'mimir',
  url: 'https://mimir.example.com',
  tenant: 'team-a',
  auth: { type: 'bearer', tokenSecret: { name: 'mimir-token', key: 'token' } },
  tls: { minVersion: '1.2', caSecret: { name: 'mimir-ca' }, clientCertSecret: { name: 'mimir-client' } },
} as const;
const GRAFANA_CLOUD = {
  kind: 'grafana-cloud',
  url: 'https://prometheus-prod-13-prod-us-east-0.grafana.net',
  auth: { type: 'basic', username: '123456', passwordSecret: { name: 'grafana-cloud', key: 'token' } },
} as const;

function objectsOf(backend: unknown): Obj[] {
  const config = parsePlatformConfig({ tests: TESTS, monitoring: { backend } });
  const charts = buildPlatform(Testing.app(), { config, scriptsDir: SCRIPTS_DIR });
  return [charts.monitoring, charts.loadTests].flatMap((c) => c.toJson() as Obj[]);
}
const runnerJob = (objs: Obj[]) =>
  objs.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('sample-') && o.metadata.name.endsWith('-runner'))!;
const k6Container = (job: Obj) => (job.spec.template.spec.containers as Obj[]).find((c) => c.name === 'k6')!;
const envOf = (c: Obj) => Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));

describe('runners', () => {
  test('mimir: tenant header, bearer token from its Secret, TLS 1.2, client certificate files and the CA directory', () => {
    // WHEN
    const c = k6Container(runnerJob(objectsOf(MIMIR)));
    const env = envOf(c);
    // THEN
    expect(env).toMatchObject({
      K6_PROMETHEUS_RW_SERVER_URL: 'https://mimir.example.com/api/v1/push',
      'K6_PROMETHEUS_RW_HEADERS_X-Scope-OrgID': 'team-a',
      K6_PROMETHEUS_RW_BEARER_TOKEN: { secretKeyRef: { name: 'mimir-token', key: 'token' } },
      K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION: '1.2',
      K6_PROMETHEUS_RW_CLIENT_CERTIFICATE: '/etc/k6-backend/client/tls.crt',
      K6_PROMETHEUS_RW_CLIENT_CERTIFICATE_KEY: '/etc/k6-backend/client/tls.key',
      SSL_CERT_DIR: '/etc/k6-backend/ca',
    });
    expect(env.K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY).toBeUndefined();
    expect(env.K6_PROMETHEUS_RW_USERNAME).toBeUndefined();
    // AND the Secrets are mounted read-only where the env points
    expect((c.volumeMounts as Obj[]).filter((m) => m.name.startsWith('backend-'))).toEqual([
      { name: 'backend-client-cert', mountPath: '/etc/k6-backend/client', readOnly: true },
      { name: 'backend-ca', mountPath: '/etc/k6-backend/ca', readOnly: true },
    ]);
    const volumes = (runnerJob(objectsOf(MIMIR)).spec.template.spec.volumes as Obj[]).filter((v) => v.name.startsWith('backend-'));
    expect(volumes).toEqual([
      {
        name: 'backend-client-cert',
        secret: {
          secretName: 'mimir-client',
          items: [
            { key: 'tls.crt', path: 'tls.crt' },
            { key: 'tls.key', path: 'tls.key' },
          ],
          defaultMode: 0o444,
        },
      },
      { name: 'backend-ca', secret: { secretName: 'mimir-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } },
    ]);
  });

  test('grafana-cloud: basic auth with the instance id and the token from its Secret; the operator form gets the same env', () => {
    // WHEN
    const objs = objectsOf(GRAFANA_CLOUD);
    const env = envOf(k6Container(runnerJob(objs)));
    const testRun = objs.find((o) => o.kind === 'TestRun')!;
    const opEnv = envOf(testRun.spec.runner);
    // THEN
    for (const e of [env, opEnv]) {
      expect(e).toMatchObject({
        K6_PROMETHEUS_RW_SERVER_URL: 'https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom/push',
        K6_PROMETHEUS_RW_USERNAME: '123456',
        K6_PROMETHEUS_RW_PASSWORD: { secretKeyRef: { name: 'grafana-cloud', key: 'token' } },
        K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION: '1.3',
      });
      expect(Object.keys(e).filter((k) => k.startsWith('K6_PROMETHEUS_RW_HEADERS_'))).toEqual([]);
    }
  });

  test('egress: an external backend opens public IPv4 on its port; an in-cluster one its namespace; never the stack Prometheus', () => {
    // WHEN
    const policy = (objs: Obj[]) =>
      objs.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name.startsWith('sample-') && o.metadata.name.endsWith('-runner'))!;
    const external = policy(objectsOf(GRAFANA_CLOUD)).spec.egress as Obj[];
    const inCluster = policy(
      objectsOf({
        kind: 'thanos',
        remoteWriteUrl: 'http://thanos-receive.thanos.svc:19291/api/v1/receive',
        queryUrl: 'http://thanos-query.thanos.svc:9090',
      }),
    ).spec.egress as Obj[];
    // THEN
    const toBackend = (rules: Obj[]) => rules.filter((r) => ![53, 6565].includes(r.ports?.[0]?.port as number));
    expect(toBackend(external)).toEqual([
      {
        to: [{ ipBlock: expect.objectContaining({ cidr: '0.0.0.0/0', except: expect.arrayContaining(['10.0.0.0/8', '169.254.0.0/16']) }) }],
        ports: [{ port: 443, protocol: 'TCP' }],
      },
    ]);
    expect(toBackend(inCluster)).toEqual([
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'thanos' } } }], ports: [{ port: 19291, protocol: 'TCP' }] },
    ]);
    expect(JSON.stringify([external, inCluster])).not.toContain('"app.kubernetes.io/name":"prometheus"');
    // AND a backend at an IP address (a private one outside the cluster's Services) opens that address alone
    const byIp = policy(objectsOf({ kind: 'victoriametrics', url: 'http://10.20.30.40:8428' })).spec.egress as Obj[];
    expect(toBackend(byIp)).toEqual([{ to: [{ ipBlock: { cidr: '10.20.30.40/32' } }], ports: [{ port: 8428, protocol: 'TCP' }] }]);
  });
});

describe('grafana', () => {
  const values = (backend: unknown) => monitoringValues(parsePlatformConfig({ monitoring: { backend } })).grafana as Obj;

  test('mimir: the backend replaces the chart datasource under the same uid, tenant header and token from env, TLS files mounted', () => {
    // WHEN
    const g = values(MIMIR);
    // THEN
    expect(g.sidecar.datasources).toMatchObject({ defaultDatasourceEnabled: false, uid: 'prometheus' });
    expect(g.additionalDataSources).toEqual([
      {
        name: 'Prometheus',
        uid: 'prometheus',
        type: 'prometheus',
        access: 'proxy',
        url: 'https://mimir.example.com/prometheus',
        isDefault: true,
        editable: false,
        jsonData: {
          httpMethod: 'POST',
          prometheusType: 'Mimir',
          httpHeaderName1: 'X-Scope-OrgID',
          httpHeaderName2: 'Authorization',
          tlsAuth: true,
          tlsAuthWithCACert: true,
        },
        secureJsonData: {
          httpHeaderValue1: 'team-a',
          httpHeaderValue2: 'Bearer ${K6_BACKEND_BEARER_TOKEN}',
          tlsClientCert: '$__file{/etc/grafana/k6-backend/client/tls.crt}',
          tlsClientKey: '$__file{/etc/grafana/k6-backend/client/tls.key}',
          tlsCACert: '$__file{/etc/grafana/k6-backend/ca/ca.crt}',
        },
      },
    ]);
    expect(g.envValueFrom).toEqual({ K6_BACKEND_BEARER_TOKEN: { secretKeyRef: { name: 'mimir-token', key: 'token' } } });
    expect((g.extraSecretMounts as Obj[]).map((m) => [m.name, m.secretName, m.mountPath, m.readOnly])).toEqual([
      ['k6-backend-client-cert', 'mimir-client', '/etc/grafana/k6-backend/client', true],
      ['k6-backend-ca', 'mimir-ca', '/etc/grafana/k6-backend/ca', true],
    ]);
  });

  test('grafana-cloud: basic auth, the password from env; no secret value anywhere in the values', () => {
    const g = values(GRAFANA_CLOUD);
    expect(g.additionalDataSources[0]).toMatchObject({
      url: 'https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom',
      basicAuth: true,
      basicAuthUser: '123456',
      secureJsonData: { basicAuthPassword: '${K6_BACKEND_BASIC_AUTH_PASSWORD}' },
    });
    expect(g.envValueFrom).toEqual({ K6_BACKEND_BASIC_AUTH_PASSWORD: { secretKeyRef: { name: 'grafana-cloud', key: 'token' } } });
    expect(g.extraSecretMounts).toBeUndefined();
  });

  test('without a backend the chart datasource stays on', () => {
    const g = monitoringValues(parsePlatformConfig({})).grafana as Obj;
    expect(g.sidecar.datasources.defaultDatasourceEnabled).toBe(true);
    expect(g.additionalDataSources).toBeUndefined();
  });

  test('every values path the backend sets exists in the pinned charts (kube-prometheus-stack 88.5.3, grafana 12.11.1)', () => {
    // GIVEN
    const kps = YAML.parse(readFileSync(path.join(UPSTREAM, 'kube-prometheus-stack', 'values.yaml'), 'utf8')) as Obj;
    const grafana = YAML.parse(readFileSync(path.join(UPSTREAM, 'grafana', 'values.yaml'), 'utf8')) as Obj;
    // THEN
    expect(kps.grafana.additionalDataSources).toEqual([]);
    expect(kps.grafana.sidecar.datasources.defaultDatasourceEnabled).toBe(true);
    expect(kps.grafana.sidecar.datasources.name).toBe('Prometheus');
    expect(grafana.envValueFrom).toEqual({});
    expect(grafana.extraSecretMounts).toEqual([]);
  });
});

describe('deploy', () => {
  test('the backend credential becomes a Secret in both namespaces, from the remoteWritePassword / remoteWriteToken secret config', () => {
    const secrets = (backend: unknown) => deploySecrets(parsePlatformConfig({ monitoring: { backend } })).filter((s) => s.name !== 'grafana-admin');
    expect(secrets(GRAFANA_CLOUD)).toEqual([
      { namespace: 'k6', name: 'grafana-cloud', entries: [{ key: 'token', configKey: 'remoteWritePassword' }] },
      {
        namespace: 'monitoring',
        name: 'grafana-cloud',
        entries: [
          { key: 'token', configKey: 'remoteWritePassword' },
          { key: 'username', value: '123456' },
        ],
      },
    ]);
    expect(secrets(MIMIR)).toEqual([
      { namespace: 'k6', name: 'mimir-token', entries: [{ key: 'token', configKey: 'remoteWriteToken' }] },
      { namespace: 'monitoring', name: 'mimir-token', entries: [{ key: 'token', configKey: 'remoteWriteToken' }] },
    ]);
  });
});

describe('cluster metrics forwarded by the stack Prometheus', () => {
  const remoteWrite = (backend: unknown) =>
    monitoringValues(parsePlatformConfig({ monitoring: { backend } })).prometheus.prometheusSpec.remoteWrite as Obj[] | undefined;

  test('grafana-cloud: the runner pods’ cAdvisor and kube-state-metrics series of the load-test namespace, with basic auth from the Secret', () => {
    expect(remoteWrite(GRAFANA_CLOUD)).toEqual([
      {
        name: 'k6-backend-cluster-metrics',
        url: 'https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom/push',
        basicAuth: { username: { name: 'grafana-cloud', key: 'username' }, password: { name: 'grafana-cloud', key: 'token' } },
        writeRelabelConfigs: [
          {
            sourceLabels: ['__name__'],
            regex:
              '(container_cpu_usage_seconds_total|container_cpu_cfs_periods_total|container_cpu_cfs_throttled_periods_total|container_memory_working_set_bytes|' +
              'container_spec_memory_limit_bytes|kube_pod_container_status_terminated_reason|kube_pod_status_reason|kube_pod_status_disruption_reason)',
            action: 'keep',
          },
          { sourceLabels: ['namespace'], regex: 'k6', action: 'keep' },
        ],
      },
    ]);
  });

  test('mimir: the tenant header, the bearer token and the TLS Secrets; the entry is a valid Prometheus CR field', () => {
    // WHEN
    const [rw] = remoteWrite(MIMIR)!;
    // THEN
    expect(rw).toMatchObject({
      url: 'https://mimir.example.com/api/v1/push',
      headers: { 'X-Scope-OrgID': 'team-a' },
      authorization: { type: 'Bearer', credentials: { name: 'mimir-token', key: 'token' } },
      tlsConfig: {
        ca: { secret: { name: 'mimir-ca', key: 'ca.crt' } },
        cert: { secret: { name: 'mimir-client', key: 'tls.crt' } },
        keySecret: { name: 'mimir-client', key: 'tls.key' },
      },
    });
    const prometheus = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'Prometheus',
      metadata: { name: 'p', namespace: 'monitoring' },
      spec: { remoteWrite: [rw] },
    };
    expect(validateManifest(prometheus)).toEqual([]);
    expect(validateManifest({ ...prometheus, spec: { remoteWrite: [{ ...rw, basicAuth: { username: 'plain' } }] } })).not.toEqual([]);
  });

  test('without a backend nothing is forwarded', () => {
    expect(monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec.remoteWrite).toBeUndefined();
  });
});
