/**
 * `monitoring.backend` for each kind: the URLs and headers generated from one schema, field by field against each
 * backend's documented API (the sources are cited in constructs/src/backend/backend.ts `BACKEND_APIS`), the errors of
 * a block a kind cannot resolve, and what reaches the runners (env, volumes, egress) and Grafana (its datasource).
 */
import { PlatformConfigError, parsePlatformConfig, type PlatformConfigInput } from '../src/config/platform-config';
import type { BackendConfig } from '../src/config/backend';
import { resolveBackend } from '../src/backend/backend';
import { remoteWriteUrl } from '../src/monitoring/monitoring-stack';

const backendOf = (backend: PlatformConfigInput['monitoring'] extends infer M ? (M extends { backend?: infer B } ? B : never) : never) =>
  parsePlatformConfig({ monitoring: { backend } }).monitoring.backend!;

function problemsOf(input: unknown): readonly string[] {
  try {
    parsePlatformConfig(input);
  } catch (e) {
    if (e instanceof PlatformConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

describe('generated URLs and headers per kind', () => {
  test('mimir: /api/v1/push, queries under /prometheus, the tenant in X-Scope-OrgID', () => {
    const b = resolveBackend(backendOf({ kind: 'mimir', url: 'https://mimir.example.com/', tenant: 'team-a' }));
    expect([b.remoteWriteUrl, b.queryUrl, b.headers, b.dialect]).toEqual([
      'https://mimir.example.com/api/v1/push',
      'https://mimir.example.com/prometheus',
      { 'X-Scope-OrgID': 'team-a' },
      'prometheus',
    ]);
  });

  test('thanos: the receiver and the querier are given, the tenant in THANOS-TENANT', () => {
    const b = resolveBackend(
      backendOf({
        kind: 'thanos',
        remoteWriteUrl: 'http://thanos-receive.thanos.svc:19291/api/v1/receive',
        queryUrl: 'http://thanos-query.thanos.svc:9090',
        tenant: 'team-a',
      }),
    );
    expect([b.remoteWriteUrl, b.queryUrl, b.headers, b.dialect]).toEqual([
      'http://thanos-receive.thanos.svc:19291/api/v1/receive',
      'http://thanos-query.thanos.svc:9090',
      { 'THANOS-TENANT': 'team-a' },
      'prometheus',
    ]);
  });

  test('grafana-cloud: /api/prom/push, queries under /api/prom, the instance id as basic-auth user and no tenant header', () => {
    const b = resolveBackend(
      backendOf({
        kind: 'grafana-cloud',
        url: 'https://prometheus-prod-13-prod-us-east-0.grafana.net',
        auth: { type: 'basic', username: '123456', passwordSecret: { name: 'grafana-cloud', key: 'token' } },
      }),
    );
    expect([b.remoteWriteUrl, b.queryUrl, b.headers, b.config.auth]).toEqual([
      'https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom/push',
      'https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom',
      {},
      { type: 'basic', username: '123456', passwordSecret: { name: 'grafana-cloud', key: 'token' } },
    ]);
  });

  test('victoriametrics: single node at the root; a tenant means the cluster URL format, tenant in the path', () => {
    const single = resolveBackend(backendOf({ kind: 'victoriametrics', url: 'http://vmsingle.vm.svc:8428' }));
    const cluster = resolveBackend(backendOf({ kind: 'victoriametrics', url: 'http://vmauth.vm.svc:8427', tenant: '42:7' }));
    expect([single.remoteWriteUrl, single.queryUrl, single.headers, single.dialect]).toEqual([
      'http://vmsingle.vm.svc:8428/api/v1/write',
      'http://vmsingle.vm.svc:8428',
      {},
      'victoriametrics',
    ]);
    expect([cluster.remoteWriteUrl, cluster.queryUrl, cluster.headers]).toEqual([
      'http://vmauth.vm.svc:8427/insert/42:7/prometheus/api/v1/write',
      'http://vmauth.vm.svc:8427/select/42:7/prometheus',
      {},
    ]);
  });

  test('prometheus and generic: the tenant header of the config wins over the kind', () => {
    const p = resolveBackend(backendOf({ kind: 'prometheus', url: 'http://prom.obs.svc:9090' }));
    const g = resolveBackend(
      backendOf({
        kind: 'generic',
        remoteWriteUrl: 'https://metrics.example.com/push',
        queryUrl: 'https://metrics.example.com/query/',
        tenant: 't1',
        tenantHeader: 'X-Tenant',
      }),
    );
    expect([p.remoteWriteUrl, p.queryUrl]).toEqual(['http://prom.obs.svc:9090/api/v1/write', 'http://prom.obs.svc:9090']);
    expect([g.remoteWriteUrl, g.queryUrl, g.headers]).toEqual([
      'https://metrics.example.com/push',
      'https://metrics.example.com/query',
      { 'X-Tenant': 't1' },
    ]);
  });

  test('the platform writes to the backend: remoteWriteUrl(cfg) is its write URL', () => {
    const cfg = parsePlatformConfig({ monitoring: { backend: { kind: 'mimir', url: 'https://mimir.example.com' } } });
    expect(remoteWriteUrl(cfg)).toBe('https://mimir.example.com/api/v1/push');
  });
});

describe('errors name the field', () => {
  test.each<[BackendConfig | Record<string, unknown>, string[]]>([
    [
      { kind: 'mimir' },
      [
        `'monitoring.backend.remoteWriteUrl' is required when 'url' is not set (kind "mimir" derives <url>/api/v1/push), got nothing`,
        `'monitoring.backend.queryUrl' is required when 'url' is not set, got nothing`,
      ],
    ],
    [
      { kind: 'thanos', url: 'http://thanos.example.com' },
      [
        `'monitoring.backend.remoteWriteUrl' is required for kind "thanos" (the receiver, e.g. http://thanos-receive.monitoring.svc:19291/api/v1/receive), got nothing`,
        `'monitoring.backend.queryUrl' is required for kind "thanos" (the querier, e.g. http://thanos-query.monitoring.svc:9090), got nothing`,
      ],
    ],
    [
      { kind: 'grafana-cloud', url: 'https://p.grafana.net', auth: { type: 'bearer', tokenSecret: { name: 'gc', key: 't' } } },
      [
        `'monitoring.backend.auth' must be {type: "basic", username: <metrics instance id>, passwordSecret: {name, key}} for kind "grafana-cloud", got nothing`,
      ],
    ],
    [
      { kind: 'generic', remoteWriteUrl: 'https://m.example.com/w', queryUrl: 'https://m.example.com', tenant: 'a' },
      [`'monitoring.backend.tenantHeader' is required with 'tenant' for kind "generic", which has no tenant header of its own, got nothing`],
    ],
    [
      { kind: 'victoriametrics', url: 'http://vm:8427', tenant: 'team-a' },
      [`'monitoring.backend.tenant' must be <accountID> or <accountID>:<projectID> (32-bit integers) for kind "victoriametrics", got "team-a"`],
    ],
    [
      { kind: 'cortex', url: 'http://c' },
      [`'monitoring.backend.kind' must be one of prometheus, victoriametrics, mimir, thanos, grafana-cloud, generic, got "cortex"`],
    ],
    [{ kind: 'mimir', url: 'https://m', tenant: 'a b' }, [`'monitoring.backend.tenant' must be printable ASCII without spaces, got "a b"`]],
    [
      { kind: 'mimir', url: 'https://user:pw@mimir.example.com' },
      [
        `'monitoring.backend.url' must not hold credentials (user:password@): give them as Secret references in monitoring.backend.auth, got "https://***@mimir.example.com"`,
      ],
    ],
  ])('%j', (backend, problems) => {
    expect(problemsOf({ monitoring: { backend } })).toEqual(problems);
  });

  test('a password pasted where the Secret reference belongs is not printed', () => {
    const problems = problemsOf({
      monitoring: { backend: { kind: 'mimir', url: 'https://m', auth: { type: 'basic', username: 'u', passwordSecret: 'hunter2-secret' } } },
    });
    expect(problems).toEqual([
      `'monitoring.backend.auth.passwordSecret' must be a Secret reference {name, key}, not the secret value itself (the value given is not shown)`,
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  test('no second way to say where runners write or how they authenticate', () => {
    expect(
      problemsOf({
        monitoring: { remoteWriteUrl: 'https://p.example.com/api/v1/write', backend: { kind: 'mimir', url: 'https://m' } },
        runner: { remoteWriteAuth: { type: 'none' } },
      }),
    ).toEqual([
      `'monitoring.remoteWriteUrl' must not be set with monitoring.backend (set monitoring.backend.remoteWriteUrl instead), got "https://p.example.com/api/v1/write"`,
      `'runner.remoteWriteAuth' must not be set with monitoring.backend (set monitoring.backend.auth instead: runners, the CLI and Grafana share it), got nothing`,
    ]);
  });
});
