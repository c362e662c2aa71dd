/**
 * A metrics backend as the platform uses it (pure: no I/O): from one `monitoring.backend` block, the remote-write URL
 * and headers of the runners, the query URL and headers of the CLI and Grafana, and the query dialect. Every path and
 * header comes from the backend's own API, cited per kind in {@link BACKEND_APIS} and documented in docs/backends.md.
 */
import type { BackendConfig, BackendKind } from '../config/backend';
import type { QueryDialect } from '../k6/threshold-queries';

/** What a kind of backend documents: its paths relative to the base URL, its tenant header, its query dialect. */
export interface BackendApi {
  /** Remote-write path under the base URL; undefined when the write endpoint lives elsewhere (give `remoteWriteUrl`). */
  readonly writePath?: string;
  /** Prefix of the Prometheus query API under the base URL (`''`: `/api/v1/query` right under it). */
  readonly queryPrefix?: string;
  /** Header carrying the tenant id; undefined when the tenant travels otherwise (URL path, basic-auth user). */
  readonly tenantHeader?: string;
  /** How the stored k6 data is queried. */
  readonly dialect: QueryDialect;
  /** Where the facts above come from. */
  readonly source: string;
}

/** The documented API of each kind. */
export const BACKEND_APIS: Readonly<Record<BackendKind, BackendApi>> = {
  prometheus: {
    writePath: '/api/v1/write',
    queryPrefix: '',
    dialect: 'prometheus',
    source: 'prometheus/prometheus v3.5.0 web/api/v1/api.go: POST /api/v1/write (with --web.enable-remote-write-receiver), /api/v1/query',
  },
  victoriametrics: {
    writePath: '/api/v1/write',
    queryPrefix: '',
    dialect: 'victoriametrics',
    source:
      'VictoriaMetrics v1.145.0 docs/victoriametrics/README.md (single node: /api/v1/write, /api/v1/query); v1.145.0-cluster ' +
      'docs/victoriametrics/Cluster-VictoriaMetrics.md "URL format": /insert/<accountID>/prometheus/api/v1/write, /select/<accountID>/prometheus',
  },
  mimir: {
    writePath: '/api/v1/push',
    queryPrefix: '/prometheus',
    tenantHeader: 'X-Scope-OrgID',
    dialect: 'prometheus',
    source:
      'grafana/mimir docs/sources/mimir/references/http-api/index.md: POST /api/v1/push, <prometheus-http-prefix> "/prometheus", ' +
      '"Authentication": the X-Scope-OrgID header',
  },
  thanos: {
    tenantHeader: 'THANOS-TENANT',
    queryPrefix: '',
    dialect: 'prometheus',
    source:
      'thanos-io/thanos pkg/receive/handler.go: POST /api/v1/receive (on the receiver, not the querier); pkg/tenancy/tenancy.go ' +
      'DefaultTenantHeader "THANOS-TENANT"; docs/components/query.md: the Prometheus HTTP v1 API on the querier',
  },
  'grafana-cloud': {
    writePath: '/api/prom/push',
    queryPrefix: '/api/prom',
    dialect: 'prometheus',
    source:
      'grafana.com/docs/grafana-cloud/send-data/metrics/metrics-prometheus/query-http-api: the query endpoint <host>/api/prom, ' +
      'remote write <host>/api/prom/push, basic auth with the metrics instance id as user and an access-policy token as password',
  },
  generic: { dialect: 'prometheus', source: 'any Prometheus-compatible backend: remoteWriteUrl, queryUrl and tenantHeader are given' },
};

/** The backend with everything derived: what the runners, the CLI and Grafana use. */
export interface ResolvedBackend {
  /** The configured block. */
  readonly config: BackendConfig;
  /** Where runners remote-write. */
  readonly remoteWriteUrl: string;
  /** Base URL of the Prometheus query API (the part before `/api/v1/query`). */
  readonly queryUrl: string;
  /** Headers sent with every write and query (the tenant header), name → value. */
  readonly headers: Readonly<Record<string, string>>;
  /** The query dialect of the verdict and `loadtest runs`. */
  readonly dialect: QueryDialect;
}

/** A problem with the block, as the schema reports it: the path below `monitoring.backend` and the message. */
export interface BackendIssue {
  readonly path: readonly string[];
  readonly message: string;
  /** The value at `path` (undefined: missing). */
  readonly input?: unknown;
}

const trim = (u: string) => u.replace(/\/+$/, '');

/** VictoriaMetrics cluster tenants: `<accountID>` or `<accountID>:<projectID>`, 32-bit integers. */
const VM_TENANT = /^\d{1,10}(:\d{1,10})?$/;

/** The problems of a block: what each kind needs to derive its URLs and tenant. Empty when it resolves. */
export function backendIssues(b: BackendConfig): BackendIssue[] {
  const api = BACKEND_APIS[b.kind];
  const issues: BackendIssue[] = [];
  if (b.remoteWriteUrl === undefined && (b.url === undefined || api.writePath === undefined)) {
    issues.push({
      path: ['remoteWriteUrl'],
      message:
        api.writePath === undefined
          ? `is required for kind "${b.kind}" (${b.kind === 'thanos' ? 'the receiver, e.g. http://thanos-receive.monitoring.svc:19291/api/v1/receive' : 'no documented path to derive it from'})`
          : `is required when 'url' is not set (kind "${b.kind}" derives <url>${api.writePath})`,
    });
  }
  if (b.queryUrl === undefined && (b.url === undefined || b.kind === 'thanos' || b.kind === 'generic')) {
    issues.push({
      path: ['queryUrl'],
      message:
        b.kind === 'thanos'
          ? 'is required for kind "thanos" (the querier, e.g. http://thanos-query.monitoring.svc:9090)'
          : `is required when 'url' is not set`,
    });
  }
  if (b.tenant !== undefined && b.tenantHeader === undefined && api.tenantHeader === undefined && b.kind !== 'victoriametrics') {
    issues.push({ path: ['tenantHeader'], message: `is required with 'tenant' for kind "${b.kind}", which has no tenant header of its own` });
  }
  if (b.kind === 'victoriametrics' && b.tenant !== undefined && !VM_TENANT.test(b.tenant)) {
    issues.push({
      path: ['tenant'],
      input: b.tenant,
      message: 'must be <accountID> or <accountID>:<projectID> (32-bit integers) for kind "victoriametrics"',
    });
  }
  if (b.kind === 'grafana-cloud' && b.auth?.type !== 'basic') {
    issues.push({
      path: ['auth'],
      message: 'must be {type: "basic", username: <metrics instance id>, passwordSecret: {name, key}} for kind "grafana-cloud"',
    });
  }
  return issues;
}

/** Resolves a block the schema accepted (see `backendIssues`): URLs, headers and dialect. */
export function resolveBackend(b: BackendConfig): ResolvedBackend {
  const issues = backendIssues(b);
  if (issues.length > 0) {
    throw new Error(`monitoring.backend: ${issues.map((i) => `'monitoring.backend.${i.path.join('.')}' ${i.message}`).join('; ')}`);
  }
  const api = BACKEND_APIS[b.kind];
  const base = b.url !== undefined ? trim(b.url) : undefined;
  // A VictoriaMetrics cluster carries the tenant in the URL path, not in a header.
  const vmCluster = b.kind === 'victoriametrics' && b.tenant !== undefined;
  const remoteWriteUrl = b.remoteWriteUrl ?? (vmCluster ? `${base!}/insert/${b.tenant!}/prometheus/api/v1/write` : `${base!}${api.writePath!}`);
  const queryUrl = trim(b.queryUrl ?? (vmCluster ? `${base!}/select/${b.tenant!}/prometheus` : `${base!}${api.queryPrefix ?? ''}`));
  const header = b.tenantHeader ?? api.tenantHeader;
  const headers = b.tenant !== undefined && !vmCluster && header !== undefined ? { [header]: b.tenant } : {};
  return { config: b, remoteWriteUrl, queryUrl, headers, dialect: api.dialect };
}
