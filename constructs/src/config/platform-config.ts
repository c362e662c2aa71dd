import { CronExpressionParser } from 'cron-parser';
import * as YAML from 'yaml';
import { z } from 'zod';
import { CIDR_RULE, DEFAULT_CLUSTER_CIDRS, DEFAULT_DNS_PEER, exceptProblem, excludedCidrProblem, isCanonicalCidr } from '../network/network-rules';
import { checkThresholds } from '../k6/thresholds';
import { defaultK6Image, versions } from '../contract/versions';
import { DEFAULT_NAMESPACES } from '../contract/labels';

/**
 * The platform configuration: ONE schema describes an environment. Both entry points (`constructs/main.ts` for
 * `cdk8s synth`, and `infra/` for Pulumi) parse their input with {@link parsePlatformConfig}, so a bad value gets the
 * same message whichever way it arrives. Defaults make `dev` work with no file at all.
 */

// ---------------------------------------------------------------------------------------------------------------
// Value formats. Each message starts with "must" and is used as is in the error: `'<path>' must ..., got <value>`.
// ---------------------------------------------------------------------------------------------------------------

/** RFC 1123 label: namespaces, environment and test names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: names of Secrets, ConfigMaps and most other objects. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/**
 * Kubernetes resource quantity (`500m`, `2Gi`, `1.5`, `1e3`): the serialization grammar of
 * k8s.io/apimachinery/pkg/api/resource/quantity.go (`<signedNumber><suffix>`; a number has digits on at least one side
 * of the point; the suffix is one of Ki Mi Gi Ti Pi Ei, m k M G T P E, or `e`/`E` and an exponent). The exponent is an
 * integer, as `parseQuantityString` there reads it (digits only after an optional sign).
 */
export const QUANTITY = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
/** Prometheus duration (`15d`, `1h30m`). */
export const PROMETHEUS_DURATION = /^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$/;
/** Prometheus byte size as prometheus-operator accepts it (`45GB`, `512MiB`). */
export const BYTE_SIZE = /^(0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$/;
/** k6 duration (`30s`, `1m30s`, `1.5h`, `250ms`). */
export const K6_DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
/** Semantic version without a leading `v` (`88.5.3`, `1.2.0-rc.1`). */
export const SEMVER = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
/** A valid ConfigMap / Secret data key. */
export const CONFIG_MAP_KEY = /^(?!\.\.?$)(?!\.\.)[-._a-zA-Z0-9]+$/;
/** An environment variable name. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * An OCI image reference: `[registry[:port]/]path[:tag][@digest]`, lower-case path components (distribution's grammar,
 * simplified only in leaving out IPv6 registry hosts).
 */
export const IMAGE_REFERENCE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;

/** An image manifest digest as registries report it (`crane digest`, `docker buildx imagetools inspect`). */
export const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;
const DIGEST_RULE = 'must be an image digest "sha256:" followed by 64 lower-case hex digits (`crane digest <image>`)';

const dnsLabel = (max = 63) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .regex(DNS_LABEL, { error: 'must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric' });
const dnsSubdomain = z
  .string()
  .max(253, { error: 'must be at most 253 characters' })
  .regex(DNS_SUBDOMAIN, { error: 'must be a DNS subdomain: lower-case letters, digits, "-" and "."' });
const quantity = z
  .string()
  .regex(QUANTITY, { error: 'must be a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi"', abort: true })
  // Negative zero ("-0", "-0Mi") is zero; any other leading "-" is negative.
  .refine((s) => !s.startsWith('-') || Number.parseFloat(s.slice(1)) === 0, {
    error: 'must not be negative (Kubernetes rejects negative resource quantities)',
  });
const promDuration = z
  .string()
  .regex(PROMETHEUS_DURATION, { error: 'must be a Prometheus duration such as "15d", "12h" or "1w"' })
  .refine((s) => s.length > 0, { error: 'must be a Prometheus duration such as "15d", "12h" or "1w"' });
const byteSize = z.string().regex(BYTE_SIZE, { error: 'must be a byte size such as "45GB" or "512MiB"' });
/** A k6 duration string (`30s`, `1m30s`). */
export const k6Duration = z.string().regex(K6_DURATION, { error: 'must be a k6 duration such as "30s", "1m30s" or "2h"' });
/** Seconds of a k6 duration string (`1m30s` -> 90, `250ms` -> 1), rounded up. */
export function k6DurationSeconds(duration: string): number {
  const parts = [...duration.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) {
    throw new Error(`LoadTest: ${JSON.stringify(duration)} is not a k6 duration such as "30s", "1m30s" or "2h"`);
  }
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return Math.ceil(parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]!]!, 0));
}

const semver = z.string().regex(SEMVER, { error: 'must be a semantic version such as "88.5.3" (no leading "v")' });
const imageReference = z
  .string()
  .regex(IMAGE_REFERENCE, {
    error: 'must be an OCI image reference such as "grafana/k6:1.7.1" or "registry.example.com/team/k6@sha256:…"',
    abort: true,
  })
  .refine((s) => !s.includes('@') || IMAGE_DIGEST.test(s.slice(s.indexOf('@') + 1)), {
    error: 'must have a sha256 digest after "@" ("@sha256:" and 64 lower-case hex digits, as `crane digest <image>` prints it)',
  });
const imageDigest = z.string().regex(IMAGE_DIGEST, { error: DIGEST_RULE });
/**
 * An http(s) URL without credentials in it: a password in a URL would be printed in messages and stored in plain
 * config; credentials come from Secrets (`runner.remoteWriteAuth`). An error never shows the user-info part.
 */
const httpUrl = z.string().superRefine((url, ctx) => {
  const userInfo = /^(https?:\/\/)[^\s/@]*@/i.exec(url);
  if (userInfo !== null) {
    ctx.addIssue({
      code: 'custom',
      input: url.replace(/^(https?:\/\/)[^\s/@]*@/i, '$1***@'),
      message: 'must not hold credentials (user:password@): give them as Secret references in runner.remoteWriteAuth',
    });
  } else if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url)) {
    ctx.addIssue({ code: 'custom', input: url, message: 'must be an http(s) URL' });
  }
});

// Runner image (issue 7): formats of the xk6 extensions and the registry the built image is pushed to.
/** A Go module path (`github.com/grafana/xk6-faker`, `go.k6.io/xk6`): a lower-case host with a dot, then path elements. */
export const GO_MODULE_PATH = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?:\/[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*)*$/;
/** A released module version: semver with an optional leading `v` (`v0.17.0`, `1.2.3-rc.1`); never `latest` or a branch. */
export const MODULE_VERSION = /^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
/** A registry host with an optional port (`registry.example.com`, `localhost:5000`, `10.0.0.5:5000`), no scheme or path. */
export const REGISTRY_HOST = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$/;
/** A repository path inside a registry (`team/k6`), lower-case components as in an OCI reference. */
export const REPOSITORY_PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const MODULE_PATH_RULE = 'must be a Go module path such as "github.com/grafana/xk6-faker" (lower-case host with a dot, no scheme, no "@version")';
const MODULE_VERSION_RULE = 'must be a released semantic version such as "v0.4.0" ("latest", branches and commits are not reproducible)';
const REGISTRY_SCHEME_RULE = 'must be a registry host[:port] without a scheme, such as "registry.example.com" (drop the "https://")';
const k6Extension = z.strictObject({
  /** Go module path of the extension. @example "github.com/grafana/xk6-faker" */
  module: z.string().regex(GO_MODULE_PATH, { error: MODULE_PATH_RULE }),
  /** Released version of the module. @example "v0.4.0" */
  version: z.string().regex(MODULE_VERSION, { error: MODULE_VERSION_RULE }),
});
export type K6Extension = z.output<typeof k6Extension>;
const registryHost = z
  .string()
  .refine((s) => !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s), { error: REGISTRY_SCHEME_RULE, abort: true })
  .regex(REGISTRY_HOST, { error: 'must be a registry host[:port] such as "registry.example.com" or "localhost:5000" (no path)' });
/** A CIDR as the API server reads it (network-rules.ts `isCanonicalCidr`). */
const cidrFormat = z.string().refine((s) => isCanonicalCidr(s), { error: CIDR_RULE, abort: true });

/** Requests and limits of one container. */
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional(), 'ephemeral-storage': quantity.optional() });
const resources = z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() });
export type ResourceRequirements = z.output<typeof resources>;

/** The rule for a literal where a Secret reference belongs; the value given is never printed (see {@link SECRET_FIELDS}). */
export const SECRET_REFERENCE_RULE = 'must be a Secret reference {name, key}, not the secret value itself (the value given is not shown)';
/** A reference to one key of an existing Secret (never the secret value itself). */
const secretKeyRef = z.strictObject(
  {
    name: dnsSubdomain,
    key: z.string({ error: 'must name the key inside the Secret' }).regex(CONFIG_MAP_KEY, { error: 'must be a valid Secret key ([-._a-zA-Z0-9]+)' }),
  },
  { error: (iss) => (iss.code === 'invalid_type' ? SECRET_REFERENCE_RULE : undefined) },
);
export type SecretKeyReference = z.output<typeof secretKeyRef>;

/** How runners authenticate to the remote-write endpoint: credentials come from Secrets only. */
const remoteWriteAuth = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('basic'), username: secretKeyRef, password: secretKeyRef }),
    z.strictObject({ type: z.literal('bearer'), token: secretKeyRef }),
    // The explicit opt-out: an external endpoint that accepts unauthenticated writes (never the default).
    z.strictObject({ type: z.literal('none') }),
  ],
  { error: 'must be {type: "basic", username, password} or {type: "bearer", token}, each a Secret reference {name, key}, or {type: "none"}' },
);
export type RemoteWriteAuth = z.output<typeof remoteWriteAuth>;

// ---------------------------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------------------------

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

const monitoringConfig = z.strictObject({
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
  prometheus: prometheusConfig.prefault({}),
  grafana: grafanaConfig.prefault({}),
  alertmanager: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
});

const runnerConfig = z.strictObject({
  /** Runner image. @default the pinned official k6 image */
  image: imageReference.default(defaultK6Image),
  resources: resources.default({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } }),
  /** How often runners push metrics (K6_PROMETHEUS_RW_PUSH_INTERVAL). */
  pushInterval: k6Duration.default('5s'),
  /** Send trends as native histograms (one series per trend instead of one per stat). */
  nativeHistograms: z.boolean().default(true),
  /**
   * Credentials for the remote-write endpoint. Required when `monitoring.remoteWriteUrl` is outside the cluster;
   * `{type: "none"}` opts out explicitly. @default - none (the in-cluster Prometheus needs none)
   */
  remoteWriteAuth: remoteWriteAuth.optional(),
  /**
   * Pin images by digest as well as by tag: `<image>:<tag>@<digest>`. Refresh with `crane digest <image>:<tag>` or
   * `docker buildx imagetools inspect <image>:<tag>` (the index digest). @default - tags only
   */
  imageDigests: z
    .strictObject({
      /** Digest of the runner image (`runner.image` or the official image at `runner.k6Version`). @default - tag only */
      k6: imageDigest.optional(),
      /** Digest of the starter image (versions.starterImage). @default - tag only */
      starter: imageDigest.optional(),
    })
    .prefault({}),
  /** k6 release of the runners: the official image tag, or the k6 that xk6 builds with `extensions`. @default versions.k6 */
  k6Version: semver.default(versions.k6),
  /** xk6 extensions to build into k6; none means the official image runs, unchanged. @default - none */
  extensions: z.array(k6Extension).default([]),
  /** Registry the built image is pushed to (host[:port], no scheme). Required with `extensions`. @example "registry.example.com" */
  registry: registryHost.optional(),
  /** Repository of the built image inside `registry`. Required with `extensions`. @example "load-testing/k6" */
  repository: z.string().regex(REPOSITORY_PATH, { error: 'must be a repository path such as "team/k6" (lower-case, "/"-separated)' }).optional(),
  /** Secret of type kubernetes.io/dockerconfigjson in `buildNamespace` with push credentials for `registry` (in-cluster builds). */
  pushSecret: z
    .strictObject({
      name: dnsSubdomain,
      key: z.string().regex(CONFIG_MAP_KEY, { error: 'must be a valid Secret key ([-._a-zA-Z0-9]+)' }).default('.dockerconfigjson'),
    })
    .optional(),
  /** Requests and limits of the BuildKit build container. */
  builderResources: resources.default({
    requests: { cpu: '1', memory: '2Gi', 'ephemeral-storage': '4Gi' },
    limits: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi' },
  }),
  /** Where the image is built: a BuildKit Job in the cluster, or Pulumi on the operator's machine (@pulumi/docker-build). @default "in-cluster" */
  build: z.enum(['in-cluster', 'local']).default('in-cluster'),
  /** Namespace of the in-cluster build (its own: the builder cannot meet the restricted profile of the load-test namespace). @default "k6-build" */
  buildNamespace: dnsLabel().default('k6-build'),
  /** Go module proxy xk6 downloads k6 and the extensions from (GOPROXY; no "direct" fallback, so no git egress). */
  goProxy: httpUrl.default('https://proxy.golang.org'),
  /** Egress the build's NetworkPolicy allows besides DNS. @default - TCP to public (non-RFC 1918) IPv4 addresses only */
  buildEgress: z
    .strictObject({
      /** CIDRs of `registry`. @default - public IPv4 */
      registryCidrs: z.array(cidrFormat).min(1).optional(),
      /** CIDRs of the Go module proxy and of the base-image registry (Docker Hub). @default - public IPv4 */
      upstreamCidrs: z.array(cidrFormat).min(1).optional(),
    })
    .prefault({}),
});

/**
 * Cross-field rules of the runner image. Which image runners use: with `extensions`, the image built from `k6Version`
 * and `extensions` (and an explicit `image` is a conflict); without, an explicit `image` if given, else the official
 * image at `k6Version` (and setting both `image` and `k6Version` is a conflict).
 */
function runnerImageRules(runner: z.output<typeof runnerConfig>, ctx: z.core.$RefinementCtx): void {
  const at = (...p: (string | number)[]) => ['runner', ...p];
  const explicitImage = runner.image !== defaultK6Image;
  if (runner.extensions.length === 0) {
    if (explicitImage && runner.k6Version !== versions.k6) {
      ctx.addIssue({
        code: 'custom',
        path: at('k6Version'),
        input: runner.k6Version,
        message: `must not be set together with runner.image (${runner.image}): the explicit image decides the k6 version; remove one`,
      });
    }
    return;
  }
  if (explicitImage) {
    ctx.addIssue({
      code: 'custom',
      path: at('image'),
      input: runner.image,
      message: 'must not be set when runner.extensions are declared: the image is built from runner.k6Version and runner.extensions; remove one',
    });
  }
  const seen = new Map<string, number>();
  runner.extensions.forEach((e, i) => {
    const first = seen.get(e.module);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at('extensions', i, 'module'),
        input: e.module,
        message: `must be unique, already used by 'runner.extensions[${first}]'`,
      });
    } else seen.set(e.module, i);
  });
  for (const key of ['registry', 'repository'] as const) {
    if (runner[key] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at(key),
        input: undefined,
        message: 'must be set when runner.extensions are declared (the built image is pushed there)',
      });
    }
  }
  if (runner.build === 'in-cluster' && runner.pushSecret === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: at('pushSecret'),
      input: undefined,
      message: `must name a docker-config Secret in namespace ${runner.buildNamespace} when runner.extensions are built in-cluster (the build Job pushes to runner.registry)`,
    });
  }
  if (runner.registry !== undefined && runner.repository !== undefined && !IMAGE_REFERENCE.test(`${runner.registry}/${runner.repository}:tag`)) {
    ctx.addIssue({
      code: 'custom',
      path: at('repository'),
      input: runner.repository,
      message: `must form an OCI image reference with runner.registry (${runner.registry}/${runner.repository} does not parse)`,
    });
  }
}

/** A digest for the runner image conflicts with a built image (its digest is known only after the build) and with a digest in `runner.image`. */
function imageDigestRules(runner: z.output<typeof runnerConfig>, ctx: z.core.$RefinementCtx): void {
  const digest = runner.imageDigests.k6;
  if (digest === undefined) return;
  const path = ['runner', 'imageDigests', 'k6'];
  if (runner.extensions.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path,
      input: digest,
      message: 'must not be set with runner.extensions: the built image is pinned by its content-hash tag, its digest is known only after the build',
    });
  } else if (runner.image.includes('@')) {
    ctx.addIssue({
      code: 'custom',
      path,
      input: digest,
      message: `must not be set when runner.image already has a digest (${runner.image}); remove one`,
    });
  }
}

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
function remoteWriteAuthRules(url: string | undefined, auth: RemoteWriteAuth | undefined, ctx: z.core.$RefinementCtx): void {
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

// ---------------------------------------------------------------------------------------------------------------
// Per-test run options (LoadTest construct, issue 4)
// ---------------------------------------------------------------------------------------------------------------

/** RFC 1035 label (starts with a letter): run ids, because they name Services. */
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Longest Kubernetes object name that is also a DNS label (pod hostnames, Service and Job names). */
export const MAX_LABEL_LENGTH = 63;
/** The CronJob controller names each Job `<cronjob>-<scheduled time in minutes since the epoch>`: 8 digits until 2160. */
export const CRON_JOB_SUFFIX_LENGTH = 9;
/** Kubernetes limits CronJob names to 52 characters (11 are left for the Job name suffix). */
export const MAX_CRON_JOB_NAME_LENGTH = 52;
/** k6 flags the platform sets itself; `extraArgs` may not set them. */
export const RESERVED_K6_FLAGS = [
  '--execution-segment',
  '--execution-segment-sequence',
  '--paused',
  '-p',
  '--address',
  '-a',
  '--config',
  '-c',
] as const;

const CRON_RULE = 'must be a cron expression with 5 fields such as "0 2 * * *", or a macro such as "@daily"';
const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
/** Whether a CronJob accepts `schedule`: 5 standard fields (checked by cron-parser) or a predefined macro. */
export function isValidCronSchedule(schedule: string): boolean {
  const s = schedule.trim();
  if (CRON_MACROS.includes(s)) return true;
  if (s.split(/\s+/).length !== 5) return false;
  try {
    CronExpressionParser.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** A target's IP block: never inside the always-excluded link-local and loopback ranges (network-rules.ts). */
const targetCidr = cidrFormat.superRefine((s, ctx) => {
  const problem = excludedCidrProblem(s);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', input: s, message: problem });
});
const port = z
  .number({ error: 'must be a port number between 1 and 65535' })
  .int({ error: 'must be a port number between 1 and 65535' })
  .min(1, { error: 'must be a port number between 1 and 65535' })
  .max(65535, { error: 'must be a port number between 1 and 65535' });
/** Where runners may send traffic (NetworkPolicy egress): an IP block, or pods of an in-cluster namespace. */
const egressTarget = z
  .strictObject({
    /** IP block of the system under test. @example "203.0.113.0/24" */
    cidr: targetCidr.optional(),
    /** Parts of `cidr` to leave out. @default - none */
    except: z.array(cidrFormat).optional(),
    /** Namespace of an in-cluster system under test. @default - none (use `cidr`) */
    namespace: dnsLabel().optional(),
    /** Labels of the target pods inside `namespace`. @default - every pod of the namespace */
    podLabels: z.lazy(() => labelMap).optional(),
    /** Destination ports. */
    ports: z.array(port).min(1, { error: 'must list at least one port' }),
    /** Transport protocol. @default "TCP" */
    protocol: z.enum(['TCP', 'UDP']).default('TCP'),
  })
  .superRefine((t, ctx) => {
    if ((t.cidr === undefined) === (t.namespace === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], input: t, message: 'must set exactly one of "cidr" or "namespace"' });
    }
    if (t.except !== undefined && t.cidr === undefined) {
      ctx.addIssue({ code: 'custom', path: ['except'], input: t.except, message: 'needs "cidr": it leaves parts of an IP block out' });
    }
    t.except?.forEach((e, i) => {
      const problem = t.cidr !== undefined ? exceptProblem(t.cidr, e) : undefined;
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['except', i], input: e, message: problem });
    });
  });
export type EgressTarget = z.output<typeof egressTarget>;
/** A ConfigMap or Secret whose keys all become environment variables. */
const envFromSource = z
  .strictObject({
    configMap: dnsSubdomain.optional(),
    secret: dnsSubdomain.optional(),
    /** Prefix of every variable. @default - none */
    prefix: z.string().regex(ENV_NAME, { error: 'must be an environment variable name prefix' }).optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.configMap === undefined) === (e.secret === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], input: e, message: 'must set exactly one of "configMap" or "secret"' });
    }
  });

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes field formats the API server enforces (k8s.io/apimachinery/pkg/util/validation and the core/v1 rules for
// tolerations and affinity), so a bad value fails here and not at `kubectl apply`.
// ---------------------------------------------------------------------------------------------------------------

/** Largest value of an int32 field (Kubernetes stores replica counts, seconds and weights as int32). */
export const INT32_MAX = 2147483647;
/** An integer in `[min, max]`; every message names the range. */
export const intInRange = (min: number, max: number) => {
  const rule = `must be an integer from ${min} to ${max}`;
  return z.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
};

/** The name part of a qualified name (label key, topology key): at most 63 characters. */
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_KEY_RULE =
  'must be a label key: an optional DNS-subdomain prefix (at most 253 characters) and "/", then a name of at most 63 characters (letters, digits, "-", "_", "."; starting and ending alphanumeric)';
/** Whether `key` is a Kubernetes qualified name (label keys, node selector keys, topology keys): `[prefix/]name`. */
export function isLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1]!;
  if (name.length > 63 || !QUALIFIED_NAME_PART.test(name)) return false;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    return prefix.length > 0 && prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix);
  }
  return true;
}
const LABEL_VALUE_RULE = 'must be a label value: at most 63 characters, empty or letters, digits, "-", "_", "." starting and ending alphanumeric';
/** Whether `value` is a Kubernetes label value. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && QUALIFIED_NAME_PART.test(value));
}
const labelKey = z.string().refine(isLabelKey, { error: LABEL_KEY_RULE });
const labelValue = z.string().refine(isLabelValue, { error: LABEL_VALUE_RULE });
/** A map of label keys to label values (node selectors, pod labels). */
const labelMap = z.record(labelKey, labelValue);

const TIME_ZONE_RULE = 'must be an IANA time zone such as "Europe/Berlin" or "UTC"';
/**
 * Why `zone` is not a time zone the runtime knows (IANA names and the aliases `Intl.DateTimeFormat` accepts, such as
 * "US/Pacific"), or undefined when it is one. Names differing only in case are refused with the right spelling: the
 * CronJob controller loads zones from the case-sensitive tz database.
 */
export function timeZoneProblem(zone: string): string | undefined {
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return TIME_ZONE_RULE;
  if (Intl.supportedValuesOf('timeZone').includes(zone)) return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat(undefined, { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return `${TIME_ZONE_RULE}; it is not in the IANA time zone database`;
  }
  if (resolved !== zone && resolved.toLowerCase() === zone.toLowerCase())
    return `${TIME_ZONE_RULE}, spelled "${resolved}" (names are case-sensitive)`;
  return undefined;
}
const timeZone = z.string().superRefine((zone, ctx) => {
  const problem = timeZoneProblem(zone);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', input: zone, message: problem });
});

/** A taint toleration, with the rules of core/v1 `validateTolerations`. */
const toleration = z
  .strictObject({
    key: z
      .string()
      .refine((k) => k === '' || isLabelKey(k), { error: LABEL_KEY_RULE })
      .optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: labelValue.optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    /** Seconds a NoExecute taint is tolerated (int64 in Kubernetes; a negative value means 0). */
    tolerationSeconds: z.number({ error: 'must be an integer number of seconds' }).int({ error: 'must be an integer number of seconds' }).optional(),
  })
  .superRefine((t, ctx) => {
    const operator = t.operator ?? 'Equal';
    if ((t.key === undefined || t.key === '') && operator !== 'Exists') {
      ctx.addIssue({
        code: 'custom',
        path: ['operator'],
        input: t.operator,
        message: 'must be "Exists" when "key" is empty (an empty key matches all keys and all values)',
      });
    }
    if (operator === 'Exists' && t.value !== undefined && t.value !== '') {
      ctx.addIssue({ code: 'custom', path: ['value'], input: t.value, message: 'must be empty when "operator" is "Exists"' });
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      ctx.addIssue({
        code: 'custom',
        path: ['tolerationSeconds'],
        input: t.tolerationSeconds,
        message: `must only be set with effect "NoExecute" (effect is ${t.effect === undefined ? 'not set' : `"${t.effect}"`})`,
      });
    }
  });

/** Rules of a selector requirement: values for In/NotIn, none for Exists/DoesNotExist, one integer for Gt/Lt. */
function requirementRules(r: { operator: string; values?: readonly string[] | undefined }, ctx: z.core.$RefinementCtx): void {
  const n = r.values?.length ?? 0;
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) {
    ctx.addIssue({ code: 'custom', path: ['values'], input: r.values, message: `must list at least one value with operator "${r.operator}"` });
  }
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) {
    ctx.addIssue({ code: 'custom', path: ['values'], input: r.values, message: `must be empty with operator "${r.operator}"` });
  }
  if ((r.operator === 'Gt' || r.operator === 'Lt') && (n !== 1 || !/^-?[0-9]+$/.test(r.values![0]!))) {
    ctx.addIssue({ code: 'custom', path: ['values'], input: r.values, message: `must be exactly one integer with operator "${r.operator}"` });
  }
}
const nodeSelectorRequirement = z
  .strictObject({
    key: labelKey,
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']),
    values: z.array(labelValue).optional(),
  })
  .superRefine(requirementRules);
const nodeSelectorTerm = z.strictObject({
  matchExpressions: z.array(nodeSelectorRequirement).optional(),
  matchFields: z.array(nodeSelectorRequirement).optional(),
});
const labelSelector = z.strictObject({
  matchLabels: labelMap.optional(),
  matchExpressions: z
    .array(
      z
        .strictObject({ key: labelKey, operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(labelValue).optional() })
        .superRefine(requirementRules),
    )
    .optional(),
});
const podAffinityTerm = z.strictObject({
  labelSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  namespaces: z.array(dnsLabel()).optional(),
  topologyKey: labelKey,
  matchLabelKeys: z.array(labelKey).optional(),
  mismatchLabelKeys: z.array(labelKey).optional(),
});
const weight = intInRange(1, 100);
const podAffinity = z.strictObject({
  requiredDuringSchedulingIgnoredDuringExecution: z.array(podAffinityTerm).optional(),
  preferredDuringSchedulingIgnoredDuringExecution: z.array(z.strictObject({ weight, podAffinityTerm })).optional(),
});
/** core/v1 Affinity, field by field (unknown fields are errors, as `kubectl apply --validate=strict` makes them). */
const affinity = z.strictObject({
  nodeAffinity: z
    .strictObject({
      requiredDuringSchedulingIgnoredDuringExecution: z
        .strictObject({ nodeSelectorTerms: z.array(nodeSelectorTerm).min(1, { error: 'must list at least one term' }) })
        .optional(),
      preferredDuringSchedulingIgnoredDuringExecution: z.array(z.strictObject({ weight, preference: nodeSelectorTerm })).optional(),
    })
    .optional(),
  podAffinity: podAffinity.optional(),
  podAntiAffinity: podAffinity.optional(),
});
export type Affinity = z.output<typeof affinity>;
const k6Flag = z.string().refine((a) => !RESERVED_K6_FLAGS.some((f) => a === f || a.startsWith(`${f}=`)), {
  error: `must not set a flag the platform sets itself (${RESERVED_K6_FLAGS.join(', ')})`,
});
/** `k6 run`-only flags joined with a value (`--out=json`, `-ojson`, `--linger=true`): the operator's initializer keeps them. */
const OPERATOR_JOINED_RUN_FLAG = /^(--(out|linger|no-usage-report)=|-[ol].)/;
/** Options of the k6-operator TestRun (mode "operator"). */
const operatorOptions = z.strictObject({
  /** Run every runner on a different node (TestRun `separate`). @default false */
  separate: z.boolean().default(false),
  /** Delete the run's Jobs and pods when it finishes (TestRun `cleanup: post`). @default false */
  cleanup: z.boolean().default(false),
  /** Namespace of the k6-operator controller, which polls the runners (NetworkPolicy ingress). @default "k6-operator-system" */
  namespace: dnsLabel().default('k6-operator-system'),
});

/** Longest suffix appended to a run id (Job/Service names, pod hostnames) for a test's mode, schedule and parallelism. */
export function runIdSuffixLength(test: { readonly mode: string; readonly parallelism: number; readonly schedule?: string | undefined }): number {
  const lastIndex = String(test.parallelism - 1).length;
  if (test.mode === 'operator') return Math.max('-initializer'.length, `-service-${test.parallelism}`.length);
  if (test.schedule !== undefined) return CRON_JOB_SUFFIX_LENGTH + 1 + lastIndex; // <cronjob>-<minutes>-<index>
  return '-runner-'.length + lastIndex; // <run>-runner-<index>
}

/** One load test: a k6 script under scripts/ and how to run it. */
export const testSchema = z
  .strictObject({
    /** Test name: part of every object name of its runs. */
    name: dnsLabel(40),
    /** Entry file, relative to scripts/. */
    script: z.string().min(1, { error: 'must name a script file under scripts/' }),
    /** Number of runner pods. @default 2 */
    parallelism: z
      .number({ error: 'must be an integer' })
      .int({ error: 'must be an integer' })
      .min(1, { error: 'must be at least 1' })
      .max(1000, { error: 'must be at most 1000' })
      .default(2),
    /** Extra environment for the script (`__ENV`). */
    env: z.record(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' }), z.string()).default({}),
    /** Run as plain Kubernetes Jobs (`jobs`) or as a k6-operator TestRun (`operator`). @default "jobs" */
    mode: z.enum(['jobs', 'operator']).default('jobs'),
    /**
     * Pass/fail criteria in k6's own syntax, judged over ALL runners of a run and also passed to k6: per metric key a
     * list (may be empty) of expression strings or k6's object form `{ threshold, abortOnFail?, delayAbortEval? }`
     * (abortOnFail acts in each runner on its own segment; the verdict over all runners carries it but does not abort).
     * @example { "http_req_duration{scenario:api}": ["p(95)<500"], "http_req_failed": [{ "threshold": "rate<0.01", "abortOnFail": true }] }
     * @default - none
     */
    thresholds: z
      .record(
        z.string().min(1),
        z.array(
          z.union(
            [
              z.string(),
              z.strictObject({
                threshold: z.string({ error: 'must be a k6 threshold expression such as "rate<0.01"' }),
                abortOnFail: z.boolean({ error: 'must be true or false' }).optional(),
                delayAbortEval: z
                  .union([z.string(), z.number(), z.null()], { error: 'must be a k6 duration such as "10s", or milliseconds' })
                  .optional(),
              }),
            ],
            { error: 'must be a k6 threshold expression string, or { threshold, abortOnFail?, delayAbortEval? }' },
          ),
          { error: 'must be a list of k6 thresholds' },
        ),
      )
      .superRefine(checkThresholds)
      .default({}),
    // Run options (LoadTest construct). Runner-wide defaults (image, resources, pushInterval, ...) live in `runner`.
    /** Id of the run: names its objects and is the `testid` tag. Scheduled runs use it as prefix. @default - "<name>-<content hash>" */
    runId: z
      .string()
      .max(MAX_LABEL_LENGTH, { error: `must be at most ${MAX_LABEL_LENGTH} characters` })
      .regex(DNS_1035_LABEL, { error: 'must be a DNS label starting with a letter: lower-case letters, digits and "-"' })
      .optional(),
    /** Total duration the script declares (all stages/scenarios): with `gracePeriod` it sets the runners' deadline. @default - no deadline */
    duration: k6Duration.optional(),
    /** Extra time past `duration` for init, setup(), graceful stop and teardown() before Kubernetes stops the run. @default "2m" */
    gracePeriod: k6Duration.default('2m'),
    /** Highest number of VUs the script declares; checked against `parallelism` (each runner needs one). @default - not checked */
    vus: z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }).optional(),
    /** How long the starter waits for every runner to be ready before it fails the run. @default "5m" */
    startTimeout: k6Duration.default('5m'),
    /** Seconds a finished run's Jobs and pods are kept (logs) before Kubernetes deletes them. @default 86400 */
    ttlSecondsAfterFinished: intInRange(0, INT32_MAX).default(86400),
    /** Requests and limits of each runner. @default - runner.resources */
    resources: resources.optional(),
    /** Node labels runners must be scheduled on. @default {} */
    nodeSelector: labelMap.default({}),
    /** Taints runners tolerate. @default [] */
    tolerations: z.array(toleration).default([]),
    /** Kubernetes affinity of the runner pods, as in a pod spec. @default - none */
    affinity: affinity.optional(),
    /** At most one runner per node (required pod anti-affinity on the hostname). @default false */
    onePerNode: z.boolean().default(false),
    /** Secrets to pull the runner image with. @default [] */
    imagePullSecrets: z.array(dnsSubdomain).default([]),
    /** Environment variables from Secret keys (never literals): name -> {name, key}. @default {} */
    secretEnv: z.record(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' }), secretKeyRef).default({}),
    /** ConfigMaps or Secrets whose keys all become environment variables. @default [] */
    envFrom: z.array(envFromSource).default([]),
    /** Extra k6 arguments, one list element each. @example ["--no-connection-reuse"] @default [] */
    extraArgs: z.array(k6Flag).default([]),
    /** What runners may reach besides DNS and Prometheus (NetworkPolicy egress). @default [] */
    targets: z.array(egressTarget).default([]),
    /** Cron schedule: makes the test a CronJob; each scheduled run gets its own testid. @example "0 2 * * *" @default - run once */
    schedule: z.string().refine(isValidCronSchedule, { error: CRON_RULE }).optional(),
    /** IANA time zone of `schedule`. @example "Europe/Berlin" @default - the controller's time zone (UTC on most clusters) */
    timeZone: timeZone.optional(),
    /** Run setup() and teardown() on runner 0 only (k6 `noSetup`/`noTeardown` on the others). @default false */
    setupOnce: z.boolean().default(false),
    /** k6-operator TestRun options (mode "operator"). */
    operator: operatorOptions.prefault({}),
  })
  .superRefine((t, ctx) => {
    if (t.duration !== undefined && [t.startTimeout, t.duration, t.gracePeriod].every((d) => K6_DURATION.test(d))) {
      // The runners' Job deadline, as LoadTest computes it: 0 would fail every run at once.
      const deadline = k6DurationSeconds(t.startTimeout) + k6DurationSeconds(t.duration) + k6DurationSeconds(t.gracePeriod);
      if (deadline < 1 || deadline > INT32_MAX) {
        ctx.addIssue({
          code: 'custom',
          path: ['duration'],
          input: t.duration,
          message: `must make the runners' deadline (startTimeout ${t.startTimeout} + duration ${t.duration} + gracePeriod ${t.gracePeriod} = ${deadline} seconds, activeDeadlineSeconds) an integer from 1 to ${INT32_MAX}`,
        });
      }
    }
    if (t.vus !== undefined && t.vus < t.parallelism) {
      ctx.addIssue({
        code: 'custom',
        path: ['vus'],
        input: t.vus,
        message: `must be at least parallelism (${t.parallelism}) so that every runner gets a VU`,
      });
    }
    if (t.runId !== undefined) {
      const suffix = runIdSuffixLength(t);
      const max = Math.min(MAX_LABEL_LENGTH - suffix, t.schedule !== undefined && t.mode === 'jobs' ? MAX_CRON_JOB_NAME_LENGTH : MAX_LABEL_LENGTH);
      if (t.runId.length > max) {
        ctx.addIssue({
          code: 'custom',
          path: ['runId'],
          input: t.runId,
          message: `must be at most ${max} characters here: names derived from it add up to ${suffix} more and must fit in ${MAX_LABEL_LENGTH}`,
        });
      }
    }
    if (t.mode === 'operator') {
      if (t.schedule !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedule'],
          input: t.schedule,
          message: 'must not be set with mode "operator" (schedules need mode "jobs")',
        });
      }
      // The operator's initializer runs `k6 archive` with the args minus a separate `--out`/`-o` and its value, `--linger`,
      // `-l` and `--no-usage-report` (k6-operator v1.6.0 pkg/types/k6cli.go ParseCLI); joined forms stay, and `k6 archive`
      // has none of these `k6 run`-only flags.
      t.extraArgs.forEach((arg, i) => {
        if (OPERATOR_JOINED_RUN_FLAG.test(arg)) {
          ctx.addIssue({
            code: 'custom',
            path: ['extraArgs', i],
            input: arg,
            message:
              'must not join a `k6 run`-only flag (--out/-o, --linger/-l, --no-usage-report) with a value with mode "operator" ' +
              '(the operator\'s initializer passes it on to `k6 archive`, which rejects it): write "--out", "<output>" as two items, or "--linger"',
          });
        }
      });
      if (t.setupOnce) {
        ctx.addIssue({
          code: 'custom',
          path: ['setupOnce'],
          input: t.setupOnce,
          message: 'must be false with mode "operator" (the operator gives every runner the same arguments)',
        });
      }
    }
  });
export type TestConfig = z.output<typeof testSchema>;

/** The sample test from the original write-up, so `dev` has something to run with no file at all. */
export const defaultTests: z.input<typeof testSchema>[] = [
  {
    name: 'sample',
    script: 'sample.js',
    // scripts/sample.js: stages of 30s + 30s up to 200 VUs, against https://test.k6.io/ (any public address, 80/443).
    duration: '1m',
    vus: 200,
    targets: [{ cidr: '0.0.0.0/0', ports: [80, 443] }],
  },
];

/** The cluster's network facts the NetworkPolicies need (network-rules.ts). */
const networkConfig = z.strictObject({
  /**
   * The cluster's own ranges (pods, Services, nodes, the API server endpoint), left out of every IP block that does not
   * name them. Add a public API server endpoint here. @default - 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7
   */
  clusterCidrs: z
    .array(cidrFormat)
    .min(1)
    .default([...DEFAULT_CLUSTER_CIDRS]),
  /** The cluster DNS pods, the only DNS servers platform pods may query. */
  dns: z
    .strictObject({
      /** Namespace of the DNS pods. @default "kube-system" */
      namespace: dnsLabel().default(DEFAULT_DNS_PEER.namespace),
      /** Labels of the DNS pods (at least one). @default { "k8s-app": "kube-dns" } */
      podLabels: labelMap
        .refine((l) => Object.keys(l).length > 0, { error: 'must name at least one label (an empty selector selects every pod of the namespace)' })
        .default({ ...DEFAULT_DNS_PEER.podLabels }),
    })
    .prefault({}),
});

export const platformConfigSchema = z
  .strictObject({
    /** Environment name (dev, staging, prod): label value and output folder. */
    environment: dnsLabel(30).default('dev'),
    namespaces: z
      .strictObject({
        /** Namespace of kube-prometheus-stack and the dashboards. */
        monitoring: dnsLabel().default(DEFAULT_NAMESPACES.monitoring),
        /** Namespace of test scripts and runs. */
        loadTests: dnsLabel().default(DEFAULT_NAMESPACES.loadTests),
      })
      .prefault({}),
    monitoring: monitoringConfig.prefault({}),
    runner: runnerConfig.prefault({}),
    network: networkConfig.prefault({}),
    tests: z.array(testSchema).default(() => defaultTests.map((t) => testSchema.parse(t))),
  })
  .superRefine((cfg, ctx) => {
    runnerImageRules(cfg.runner, ctx);
    imageDigestRules(cfg.runner, ctx);
    remoteWriteAuthRules(cfg.monitoring.remoteWriteUrl, cfg.runner.remoteWriteAuth, ctx);
    const seen = new Map<string, number>();
    cfg.tests.forEach((t, i) => {
      const first = seen.get(t.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['tests', i, 'name'], input: t.name, message: `must be unique, already used by 'tests[${first}]'` });
      } else {
        seen.set(t.name, i);
      }
    });
    const runIds = new Map<string, number>();
    cfg.tests.forEach((t, i) => {
      if (t.runId === undefined) return;
      const first = runIds.get(t.runId);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['tests', i, 'runId'],
          input: t.runId,
          message: `must be unique, already the run id of 'tests[${first}]' (both runs would share their objects and testid)`,
        });
      } else runIds.set(t.runId, i);
    });
    if (cfg.namespaces.monitoring === cfg.namespaces.loadTests) {
      ctx.addIssue({
        code: 'custom',
        path: ['namespaces', 'loadTests'],
        input: cfg.namespaces.loadTests,
        message: `must differ from namespaces.monitoring (the load-test namespace gets its own restricted Pod Security level and NetworkPolicies)`,
      });
    }
    if (!cfg.monitoring.enabled && cfg.monitoring.remoteWriteUrl === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['monitoring', 'remoteWriteUrl'],
        input: undefined,
        message: 'must be set when monitoring.enabled is false (runners need a Prometheus to write to)',
      });
    }
    if (cfg.monitoring.grafana.ingress.enabled && cfg.monitoring.grafana.ingress.host === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['monitoring', 'grafana', 'ingress', 'host'],
        input: undefined,
        message: 'must be set when the ingress is enabled',
      });
    }
  });

/** The parsed, defaulted platform configuration of one environment. */
export type PlatformConfig = z.output<typeof platformConfigSchema>;
/** What a user writes: every member optional where a default exists. */
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsing and errors
// ---------------------------------------------------------------------------------------------------------------

/** Where the configuration came from; decides how field paths are named in errors. */
export interface ConfigSource {
  /** Shown before the problems, e.g. `Pulumi.dev.yaml`. @default "platform config" */
  readonly description?: string;
  /** Prefix of top-level keys, e.g. `k6platform:` for Pulumi stack config. @default "" */
  readonly keyPrefix?: string;
}

/** Thrown when a configuration is invalid; `problems` holds one line per bad field. */
export class PlatformConfigError extends Error {
  public constructor(
    public readonly problems: readonly string[],
    source: string,
  ) {
    super(`Invalid ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlatformConfigError';
  }
}

/**
 * Parses and defaults one environment's configuration. Collects every problem and throws once with all of them;
 * each names the field path as the caller typed it, the value received and what is allowed.
 */
export function parsePlatformConfig(input: unknown, source: ConfigSource = {}): PlatformConfig {
  const result = platformConfigSchema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, source.keyPrefix ?? ''));
  throw new PlatformConfigError(problems, source.description ?? 'platform config');
}

/**
 * One `'<path>' <rule>, got <value>` line per issue of a schema that is part of the platform config (e.g. `testSchema`
 * parsed on its own by a construct). `schemaPath` is where that schema sits in the config (`['tests', 0]`), for hints.
 */
export function describeIssues(error: z.ZodError, schemaPath: readonly PropertyKey[] = []): string[] {
  return error.issues.flatMap((issue) => describeIssue(issue, '', schemaPath));
}

/** Renders a path as the caller would type it: `tests[0].parallelism`, optionally `k6platform:tests[0]...`. */
export function formatPath(path: readonly PropertyKey[], keyPrefix = ''): string {
  let out = '';
  path.forEach((seg, i) => {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += i === 0 ? `${keyPrefix}${String(seg)}` : `.${String(seg)}`;
  });
  return out === '' ? '(root)' : out;
}

function describeIssue(issue: z.core.$ZodIssue, keyPrefix: string, schemaPath: readonly PropertyKey[] = []): string[] {
  const where = (p: readonly PropertyKey[]) => `'${formatPath(p, keyPrefix)}'`;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt([...schemaPath, ...issue.path]);
    return issue.keys.map(
      (k) =>
        `${where([...issue.path, k])} is not a known setting${allowed.length ? ` (allowed here: ${allowed.map((a) => `${keyPrefix && issue.path.length === 0 ? keyPrefix : ''}${a}`).join(', ')})` : ''}`,
    );
  }
  const secret = issue.path.some((seg) => typeof seg === 'string' && SECRET_FIELDS.includes(seg));
  const got = !('input' in issue) ? '' : secret ? shownSecretInput(issue.input, issue.path) : `, got ${show(issue.input)}`;
  return [`${where(issue.path)} ${ruleOf(issue)}${got}`];
}

/** Fields below which a value may be a secret pasted by mistake: errors there never print it. */
export const SECRET_FIELDS: readonly string[] = ['secretEnv', 'remoteWriteAuth'];
/** Keys of a Secret reference that are not secret and help to find the mistake. */
const REFERENCE_KEYS = ['type', 'name', 'key'];

/** `, got <value>` for a value under a secret field: strings other than reference names are masked. */
function shownSecretInput(input: unknown, path: readonly PropertyKey[]): string {
  if (input === undefined) return ', got nothing';
  if (typeof input === 'string') {
    const [parent, last] = path.slice(-2);
    return parent !== 'secretEnv' && typeof last === 'string' && REFERENCE_KEYS.includes(last) ? `, got ${show(input)}` : '';
  }
  const mask = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') return key !== undefined && REFERENCE_KEYS.includes(key) ? v : '***';
    if (Array.isArray(v)) return v.map((x) => mask(x));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x, k)]));
    return v;
  };
  return `, got ${show(mask(input))}`;
}

function ruleOf(issue: z.core.$ZodIssue): string {
  if (issue.message.startsWith('must')) return issue.message;
  switch (issue.code) {
    case 'invalid_key': {
      const inner = issue.issues.find((i) => i.message.startsWith('must'));
      return inner?.message ?? 'is not an allowed key';
    }
    case 'invalid_type':
      return issue.input === undefined
        ? `is required (${issue.expected})`
        : `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'does not match any allowed form';
    case 'too_small':
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}${issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items' : ''}`;
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}${issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items' : ''}`;
    default:
      return issue.message;
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The keys an object schema accepts at `path`, for "unknown key" hints. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType = platformConfigSchema;
  for (const seg of path) {
    schema = unwrap(schema);
    const def = schema._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    if (def.type === 'object' && def.shape && typeof seg === 'string' && seg in def.shape) schema = def.shape[seg]!;
    else if (def.type === 'array' && def.element && typeof seg === 'number') schema = def.element;
    else return [];
  }
  const def = unwrap(schema)._zod.def as unknown as { type: string; shape?: Record<string, unknown> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Stack configuration (Pulumi.<env>.yaml): one file per environment, read by synth and by Pulumi alike
// ---------------------------------------------------------------------------------------------------------------

/** The Pulumi project name; stack config keys are `k6platform:<key>`. */
export const CONFIG_NAMESPACE = 'k6platform';

/**
 * Stack config keys that only the deployment (Pulumi) reads: provider settings and secrets. They are not part of the
 * platform config, so synth ignores them; any other unknown `k6platform:` key is an error.
 */
export const DEPLOY_ONLY_KEYS: readonly string[] = [
  'kubeconfig',
  'context',
  'grafanaAdminPassword',
  'remoteWriteUsername',
  'remoteWritePassword',
  'remoteWriteToken',
];

/**
 * Config namespaces a stack may hold keys of: this program's, and those of the Pulumi providers it uses. A key in any
 * other namespace is a typo (`k6platfrom:tests`) that would otherwise be ignored; add a namespace here when the
 * program starts to use another provider.
 */
export const KNOWN_CONFIG_NAMESPACES: readonly string[] = [CONFIG_NAMESPACE, 'kubernetes', 'docker-build', 'pulumi'];

/**
 * Builds the platform config input from stack config entries (`{'k6platform:monitoring': {...}}`). Keys of the other
 * {@link KNOWN_CONFIG_NAMESPACES} (`kubernetes:context`) and {@link DEPLOY_ONLY_KEYS} are skipped. String values that
 * hold JSON objects or arrays (as `pulumi.runtime.allConfig()` returns them) are parsed. The environment defaults to
 * the stack name.
 *
 * A key in an unknown namespace and a JSON string that does not parse are problems: pushed to `problems` when given,
 * else thrown as one {@link PlatformConfigError}. Neither message shows the value.
 */
export function platformInputFromStackConfig(
  entries: Readonly<Record<string, unknown>>,
  stack: string,
  problems?: string[],
): Record<string, unknown> {
  const found: string[] = [];
  const input: Record<string, unknown> = { environment: stack };
  for (const [fullKey, raw] of Object.entries(entries)) {
    const [ns, key] = fullKey.includes(':')
      ? [fullKey.slice(0, fullKey.indexOf(':')), fullKey.slice(fullKey.indexOf(':') + 1)]
      : [CONFIG_NAMESPACE, fullKey];
    if (!KNOWN_CONFIG_NAMESPACES.includes(ns)) {
      const near = closest(ns, KNOWN_CONFIG_NAMESPACES);
      found.push(
        `'${fullKey}' is in an unknown config namespace "${ns}"${near !== undefined ? ` (did you mean '${near}:${key}'?)` : ''}; known namespaces: ${KNOWN_CONFIG_NAMESPACES.join(', ')}`,
      );
      continue;
    }
    if (ns !== CONFIG_NAMESPACE || DEPLOY_ONLY_KEYS.includes(key)) continue;
    if (typeof raw === 'string' && /^\s*[[{]/.test(raw)) {
      try {
        input[key] = JSON.parse(raw);
      } catch (e) {
        // The parser's message quotes the text; say only where it breaks.
        const msg = e instanceof Error ? e.message : '';
        const at = /at position (\d+)/.exec(msg)?.[1];
        const why = at !== undefined ? `it breaks at character ${at}` : /end of JSON/.test(msg) ? 'it ends too early' : 'it does not parse';
        found.push(`'${fullKey}' must be valid JSON (a value starting with "{" or "[" is read as JSON): ${why}`);
      }
    } else input[key] = raw;
  }
  if (problems !== undefined) problems.push(...found);
  else if (found.length > 0) throw new PlatformConfigError(found, `stack config of ${stack}`);
  return input;
}

/**
 * Stack config entries to the validated platform config: {@link platformInputFromStackConfig}, then
 * {@link parsePlatformConfig}. Every problem of both steps is thrown together as one {@link PlatformConfigError}.
 */
export function parseStackConfig(entries: Readonly<Record<string, unknown>>, stack: string, source: ConfigSource): PlatformConfig {
  const problems: string[] = [];
  const input = platformInputFromStackConfig(entries, stack, problems);
  try {
    const cfg = parsePlatformConfig(input, source);
    if (problems.length === 0) return cfg;
  } catch (e) {
    if (!(e instanceof PlatformConfigError)) throw e;
    problems.push(...e.problems);
  }
  throw new PlatformConfigError(problems, source.description ?? 'platform config');
}

/** Top-level keys of a Pulumi stack file (`Pulumi.<stack>.yaml`). */
export const STACK_FILE_KEYS: readonly string[] = ['config', 'encryptionsalt', 'secretsprovider', 'encryptedkey', 'environment'];

/**
 * The config entries of a stack file's text (`config:` of `Pulumi.<stack>.yaml`), read as Pulumi reads it: YAML with
 * merge keys (`<<: *anchor`). Throws a {@link PlatformConfigError} when the YAML does not parse (each problem as
 * `<file>:<line>:<column>: <reason>`, never the text itself), when the document is not a mapping with a `config:`
 * mapping, or when it has a top-level key Pulumi does not know.
 */
export function stackFileEntries(text: string, file: string): Record<string, unknown> {
  const doc = YAML.parseDocument(text, { merge: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new PlatformConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const reason = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${reason}`;
      }),
      file,
    );
  }
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  const kind = (v: unknown) => (v === null || v === undefined ? 'nothing' : Array.isArray(v) ? 'a list' : `a ${typeof v}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PlatformConfigError([`${file} must be a YAML mapping with a "config:" section (Pulumi stack settings), got ${kind(value)}`], file);
  }
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (!STACK_FILE_KEYS.includes(key)) {
      const near = closest(key, STACK_FILE_KEYS);
      problems.push(
        `'${key}' is not a stack file setting${near !== undefined ? ` (did you mean '${near}'?)` : ''}; allowed: ${STACK_FILE_KEYS.join(', ')}`,
      );
    }
  }
  const config = (value as Record<string, unknown>).config;
  if (!('config' in value)) problems.push(`${file} must have a "config:" section (the stack's settings, keys such as ${CONFIG_NAMESPACE}:tests)`);
  else if (config !== null && (typeof config !== 'object' || Array.isArray(config))) {
    problems.push(`'config' must be a mapping of keys such as ${CONFIG_NAMESPACE}:tests to values, got ${kind(config)}`);
  }
  if (problems.length > 0) throw new PlatformConfigError(problems, file);
  return (config ?? {}) as Record<string, unknown>;
}

/** The candidate within edit distance 2 of `word` (typos such as `k6platfrom`), if there is one. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= 2 && (best === undefined || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
