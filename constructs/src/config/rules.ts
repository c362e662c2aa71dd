import { z } from 'zod';
import { CIDR_RULE, isCanonicalCidr } from '../network/network-rules';

/**
 * The value formats every section of the platform config is built from: names, quantities, durations, versions, image
 * references, URLs, CIDRs, container resources and Secret references. A rule lives here once; sections compose them.
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

/** A DNS label of at most `max` characters (namespaces, environment and test names). */
export const dnsLabel = (max = 63) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .regex(DNS_LABEL, { error: 'must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric' });
/** A DNS subdomain of at most 253 characters (names of Secrets, ConfigMaps, StorageClasses). */
export const dnsSubdomain = z
  .string()
  .max(253, { error: 'must be at most 253 characters' })
  .regex(DNS_SUBDOMAIN, { error: 'must be a DNS subdomain: lower-case letters, digits, "-" and "."' });
/** A non-negative Kubernetes resource quantity (see {@link QUANTITY}). */
export const quantity = z
  .string()
  .regex(QUANTITY, { error: 'must be a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi"', abort: true })
  // Negative zero ("-0", "-0Mi") is zero; any other leading "-" is negative.
  .refine((s) => !s.startsWith('-') || Number.parseFloat(s.slice(1)) === 0, {
    error: 'must not be negative (Kubernetes rejects negative resource quantities)',
  });
/** A non-empty Prometheus duration (see {@link PROMETHEUS_DURATION}). */
export const promDuration = z
  .string()
  .regex(PROMETHEUS_DURATION, { error: 'must be a Prometheus duration such as "15d", "12h" or "1w"' })
  .refine((s) => s.length > 0, { error: 'must be a Prometheus duration such as "15d", "12h" or "1w"' });
/** A Prometheus byte size (see {@link BYTE_SIZE}). */
export const byteSize = z.string().regex(BYTE_SIZE, { error: 'must be a byte size such as "45GB" or "512MiB"' });
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

/**
 * The value of a Kubernetes quantity (see {@link QUANTITY}) as a number: `2Gi` -> 2147483648, `500m` -> 0.5, `1e3`
 * -> 1000. Suffixes as Kubernetes reads them (k8s.io/apimachinery pkg/api/resource/suffix.go: binary Ki..Ei, decimal
 * m, k..E, or a decimal exponent).
 */
export function quantityValue(q: string): number {
  const m = QUANTITY.exec(q);
  if (m === null) throw new Error(`${JSON.stringify(q)} is not a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi"`);
  const suffix = m[3] ?? '';
  const number = Number(q.slice(0, q.length - suffix.length));
  const binary = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'].indexOf(suffix);
  if (binary >= 0) return number * 1024 ** (binary + 1);
  const decimal: Record<string, number> = { '': 0, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
  const exp = decimal[suffix] ?? Number(suffix.slice(1));
  return number * 10 ** exp;
}

/** A semantic version without a leading `v` (see {@link SEMVER}). */
export const semver = z.string().regex(SEMVER, { error: 'must be a semantic version such as "88.5.3" (no leading "v")' });
/** An OCI image reference whose digest, if any, is a sha256 digest (see {@link IMAGE_REFERENCE}). */
export const imageReference = z
  .string()
  .regex(IMAGE_REFERENCE, {
    error: 'must be an OCI image reference such as "grafana/k6:1.7.1" or "registry.example.com/team/k6@sha256:…"',
    abort: true,
  })
  .refine((s) => !s.includes('@') || IMAGE_DIGEST.test(s.slice(s.indexOf('@') + 1)), {
    error: 'must have a sha256 digest after "@" ("@sha256:" and 64 lower-case hex digits, as `crane digest <image>` prints it)',
  });
/** An image repository without tag or digest (`grafana/k6`, `registry.example.com:5000/team/k6`): a tag is added to it. */
export const imageRepository = z.string().refine((s) => IMAGE_REFERENCE.test(s) && !/[:@][^/]*$/.test(s), {
  error: 'must be an image repository without tag or digest, such as "grafana/k6"',
});
/** An image manifest digest (see {@link IMAGE_DIGEST}). */
export const imageDigest = z.string().regex(IMAGE_DIGEST, { error: DIGEST_RULE });
/**
 * An http(s) URL without credentials in it: a password in a URL would be printed in messages and stored in plain
 * config; credentials come from Secrets (`runner.remoteWriteAuth`). An error never shows the user-info part.
 */
export const httpUrl = httpUrlWithCredentialsIn('runner.remoteWriteAuth');

/** {@link httpUrl}, its message naming `credentialsField` as where credentials belong instead. */
export function httpUrlWithCredentialsIn(credentialsField: string) {
  return z.string().superRefine((url, ctx) => {
    const userInfo = /^(https?:\/\/)[^\s/@]*@/i.exec(url);
    if (userInfo !== null) {
      ctx.addIssue({
        code: 'custom',
        input: url.replace(/^(https?:\/\/)[^\s/@]*@/i, '$1***@'),
        message: `must not hold credentials (user:password@): give them as Secret references in ${credentialsField}`,
      });
    } else if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url)) {
      ctx.addIssue({ code: 'custom', input: url, message: 'must be an http(s) URL' });
    }
  });
}

/** A CIDR as the API server reads it (network-rules.ts `isCanonicalCidr`). */
export const cidrFormat = z.string().refine((s) => isCanonicalCidr(s), { error: CIDR_RULE, abort: true });

/** Requests and limits of one container. */
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional(), 'ephemeral-storage': quantity.optional() });
/** Requests and limits of one container, each a quantity (`QUANTITY`) of cpu, memory or ephemeral storage. */
export const resources = z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() });
/** Requests and limits of one container, as parsed. */
export type ResourceRequirements = z.output<typeof resources>;

/** The rule for a literal where a Secret reference belongs; the value given is never printed (see {@link SECRET_FIELDS}). */
export const SECRET_REFERENCE_RULE = 'must be a Secret reference {name, key}, not the secret value itself (the value given is not shown)';
/** A reference to one key of an existing Secret (never the secret value itself). */
export const secretKeyRef = z.strictObject(
  {
    name: dnsSubdomain,
    key: z.string({ error: 'must name the key inside the Secret' }).regex(CONFIG_MAP_KEY, { error: 'must be a valid Secret key ([-._a-zA-Z0-9]+)' }),
  },
  { error: (iss) => (iss.code === 'invalid_type' ? SECRET_REFERENCE_RULE : undefined) },
);
/** A reference to one key of an existing Secret, as parsed. */
export type SecretKeyReference = z.output<typeof secretKeyRef>;
