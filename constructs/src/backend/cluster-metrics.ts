/**
 * The cluster metrics that dashboards and the verdict read beside the runners' own (cAdvisor and kube-state-metrics
 * series of the runner pods: the runner panels of dashboards/src/runner-panels.ts and the validity checks of
 * constructs/src/k6/validity-queries.ts) are scraped by the stack's Prometheus. With a `monitoring.backend`, Grafana
 * and the verdict query the backend only, so that Prometheus forwards exactly those series of the load-test namespace
 * to the backend: one `prometheusSpec.remoteWrite` entry (prometheus-operator's RemoteWriteSpec: url, headers,
 * basicAuth / authorization from Secret key selectors, tlsConfig, writeRelabelConfigs).
 */
import type { ResolvedBackend } from './backend';

/** The series forwarded: what the runner panels and the validity checks query. */
export const FORWARDED_CLUSTER_METRICS: readonly string[] = [
  'container_cpu_usage_seconds_total',
  'container_cpu_cfs_periods_total',
  'container_cpu_cfs_throttled_periods_total',
  'container_memory_working_set_bytes',
  'container_spec_memory_limit_bytes',
  'kube_pod_container_status_terminated_reason',
  'kube_pod_status_reason',
  'kube_pod_status_disruption_reason',
];

/**
 * The key of the backend's password Secret that holds the basic-auth user name for Prometheus: prometheus-operator
 * reads both halves of basic auth from Secret keys (RemoteWriteSpec.basicAuth.username is a SecretKeySelector), and
 * the platform's deployment writes the user name there (deploy.ts `deploySecrets`).
 */
export const BACKEND_USERNAME_KEY = 'username';

/** The `remoteWrite` entry of the stack's Prometheus that forwards {@link FORWARDED_CLUSTER_METRICS} of `namespace`. */
export function clusterMetricsRemoteWrite(b: ResolvedBackend, namespace: string): Record<string, unknown> {
  const auth = b.config.auth;
  const tls = b.config.tls;
  const tlsConfig: Record<string, unknown> = {
    ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    ...(tls.caSecret !== undefined ? { ca: { secret: { name: tls.caSecret.name, key: tls.caSecret.key } } } : {}),
    ...(tls.clientCertSecret !== undefined
      ? {
          cert: { secret: { name: tls.clientCertSecret.name, key: tls.clientCertSecret.certKey } },
          keySecret: { name: tls.clientCertSecret.name, key: tls.clientCertSecret.keyKey },
        }
      : {}),
  };
  return {
    name: 'k6-backend-cluster-metrics',
    url: b.remoteWriteUrl,
    ...(Object.keys(b.headers).length > 0 ? { headers: { ...b.headers } } : {}),
    ...(auth?.type === 'basic'
      ? { basicAuth: { username: { name: auth.passwordSecret.name, key: BACKEND_USERNAME_KEY }, password: { ...auth.passwordSecret } } }
      : {}),
    ...(auth?.type === 'bearer' ? { authorization: { type: 'Bearer', credentials: { ...auth.tokenSecret } } } : {}),
    ...(Object.keys(tlsConfig).length > 0 ? { tlsConfig } : {}),
    writeRelabelConfigs: [
      { sourceLabels: ['__name__'], regex: `(${FORWARDED_CLUSTER_METRICS.join('|')})`, action: 'keep' },
      { sourceLabels: ['namespace'], regex: namespace.replaceAll('.', '\\.'), action: 'keep' },
    ],
  };
}
