import { z } from 'zod';
import { versions } from '../contract/versions';
import { backendConfig } from './backend';
import {
  byteSize,
  CONFIG_MAP_KEY,
  DNS_LABEL,
  dnsLabel,
  dnsSubdomain,
  httpUrl,
  promDuration,
  quantity,
  resources,
  secretKeyRef,
  semver,
} from './rules';

/**
 * The `monitoring` section (kube-prometheus-stack, Prometheus, Grafana) and the remote write of the runners to it:
 * how runners authenticate, and when they must.
 */

/** How runners authenticate to the remote-write endpoint: credentials come from Secrets only. */
export const remoteWriteAuth = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('basic'), username: secretKeyRef, password: secretKeyRef }),
    z.strictObject({ type: z.literal('bearer'), token: secretKeyRef }),
    // The explicit opt-out: an external endpoint that accepts unauthenticated writes (never the default).
    z.strictObject({ type: z.literal('none') }),
  ],
  { error: 'must be {type: "basic", username, password} or {type: "bearer", token}, each a Secret reference {name, key}, or {type: "none"}' },
);
/** How runners authenticate to the remote-write endpoint, as parsed. */
export type RemoteWriteAuth = z.output<typeof remoteWriteAuth>;

/** The Prometheus of kube-prometheus-stack: retention and storage. */
const prometheusConfig = z.strictObject({
  /** How long Prometheus keeps samples. */
  retention: promDuration.default('15d'),
  /** Maximum bytes of blocks kept; oldest are removed first. Keep it below the volume size. */
  retentionSize: byteSize.default('45GB'),
  /** Persistent volume of the Prometheus StatefulSet. */
  storage: z
    .strictObject({
      size: quantity.default('50Gi'),
      /** @default - the cluster's default StorageClass */
      storageClassName: dnsSubdomain.optional(),
    })
    .prefault({}),
  resources: resources.default({ requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '4Gi' } }),
});

/** Grafana: admin Secret, persistence and ingress. */
const grafanaConfig = z.strictObject({
  /** Existing Secret holding the admin user and password (the chart otherwise makes a new random password on every render). */
  adminSecret: z
    .strictObject({
      name: dnsSubdomain.default('grafana-admin'),
      userKey: z.string().regex(CONFIG_MAP_KEY).default('admin-user'),
      passwordKey: z.string().regex(CONFIG_MAP_KEY).default('admin-password'),
    })
    .prefault({}),
  persistence: z
    .strictObject({ enabled: z.boolean().default(false), size: quantity.default('10Gi'), storageClassName: dnsSubdomain.optional() })
    .prefault({}),
  ingress: z
    .strictObject({
      enabled: z.boolean().default(false),
      host: dnsSubdomain.optional(),
      className: dnsSubdomain.optional(),
      /** Secret with the TLS certificate for `host`. @default - no TLS */
      tlsSecretName: dnsSubdomain.optional(),
    })
    .prefault({}),
  resources: resources.default({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } }),
});

/** The `monitoring` section of the platform config. */
export const monitoringConfig = z.strictObject({
  /** Deploy kube-prometheus-stack. When false, `remoteWriteUrl` must point at an existing Prometheus. */
  enabled: z.boolean().default(true),
  /** Helm release name of kube-prometheus-stack (the Prometheus service name derives from it). */
  releaseName: dnsLabel(53).default('kube-prometheus-stack'),
  chart: z
    .strictObject({
      version: semver.default(versions.kubePrometheusStack.version),
      repository: httpUrl.default(versions.kubePrometheusStack.repository),
      /** A local chart directory or .tgz to render the stack from at synth time. @default - values only, no rendering */
      path: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Remote-write URL of an existing Prometheus. @default - derived from the release name and namespace */
  remoteWriteUrl: httpUrl.optional(),
  /**
   * A shared metrics backend (VictoriaMetrics, Mimir, Thanos, Grafana Cloud, ...) the runners write to and the verdict,
   * `loadtest runs` and Grafana query, instead of the stack's Prometheus (docs/backends.md).
   * @default - the stack's Prometheus (or `remoteWriteUrl`)
   */
  backend: backendConfig.optional(),
  prometheus: prometheusConfig.prefault({}),
  grafana: grafanaConfig.prefault({}),
  alertmanager: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
  /**
   * Recording rules (PrometheusRule objects) for what the native dashboard reads: latency histograms and rates by the
   * dashboard's labels, so its panels read a few pre-aggregated series instead of every runner's histograms. Deployed
   * with the stack only (`enabled`): its Prometheus (3.x) records native histograms and selects every PrometheusRule.
   */
  recordingRules: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
});

/**
 * Whether a remote-write URL names a Service inside the cluster: `<service>.<namespace>.svc[.<cluster domain>]`, or the
 * short form `<service>.<namespace>` over plain http. Anything else is treated as outside the cluster.
 */
export function isInClusterUrl(url: string): boolean {
  const m = /^(https?):\/\/([^/:?#]+)/.exec(url);
  if (m === null) return false;
  const [, scheme, host] = m;
  const labels = host!.toLowerCase().split('.');
  if (labels.length >= 3 && labels[2] === 'svc') return true;
  return scheme === 'http' && labels.length === 2 && labels.every((l) => DNS_LABEL.test(l));
}

/** Writes to an endpoint outside the cluster need credentials, unless `{type: "none"}` opts out explicitly. */
export function remoteWriteAuthRules(url: string | undefined, auth: RemoteWriteAuth | undefined, ctx: z.core.$RefinementCtx): void {
  if (url === undefined || auth !== undefined || isInClusterUrl(url)) return;
  ctx.addIssue({
    code: 'custom',
    path: ['runner', 'remoteWriteAuth'],
    input: undefined,
    message:
      `is required when monitoring.remoteWriteUrl (${url.replace(/^(https?:\/\/)[^\s/@]*@/i, '$1***@')}) is outside the cluster: set {type: "basic", username, password} or ` +
      '{type: "bearer", token} (Secret references), or {type: "none"} to send without credentials',
  });
}
