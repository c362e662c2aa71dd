import { z } from 'zod';
import { CONFIG_MAP_KEY, dnsSubdomain, httpUrlWithCredentialsIn, secretKeyRef } from './rules';

const httpUrl = httpUrlWithCredentialsIn('monitoring.backend.auth');

/**
 * The `monitoring.backend` section: a shared, scale-out metrics backend the runners remote-write to and the verdict,
 * `loadtest runs` and Grafana query, instead of the stack's own Prometheus. One schema for every kind; the kind only
 * derives the URLs and the tenant header (constructs/src/backend/backend.ts, docs/backends.md).
 */

/** The backends the platform knows how to write to and query. */
export const BACKEND_KINDS = ['prometheus', 'victoriametrics', 'mimir', 'thanos', 'grafana-cloud', 'generic'] as const;
/** One of {@link BACKEND_KINDS}. */
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** An HTTP header name (RFC 9110 token characters). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A tenant id: printable ASCII without spaces (it travels in a header or a URL path segment). */
const TENANT = /^[\x21-\x7e]+$/;

/** How the runners, the CLI and Grafana authenticate to the backend: credentials come from Secrets only. */
export const backendAuth = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('basic'),
      /** The user name (Grafana Cloud: the metrics instance id); not a secret. */
      username: z.string().min(1, { error: 'must not be empty' }),
      passwordSecret: secretKeyRef,
    }),
    z.strictObject({ type: z.literal('bearer'), tokenSecret: secretKeyRef }),
  ],
  { error: 'must be {type: "basic", username, passwordSecret: {name, key}} or {type: "bearer", tokenSecret: {name, key}}' },
);

/** A Secret holding a client certificate and its key (a `kubernetes.io/tls` Secret by default). */
const clientCertSecret = z.strictObject({
  name: dnsSubdomain,
  certKey: z.string().regex(CONFIG_MAP_KEY).default('tls.crt'),
  keyKey: z.string().regex(CONFIG_MAP_KEY).default('tls.key'),
});

/** TLS to the backend. */
const backendTls = z.strictObject({
  /** Skip verifying the backend's certificate (test setups only). */
  insecureSkipVerify: z.boolean().default(false),
  /**
   * Lowest TLS version. k6 v1.7.1 (internal/output/prometheusrw/remotewrite/config.go) defaults to 1.3 and accepts
   * "1.2" as the only other value.
   * @default "1.3"
   */
  minVersion: z.enum(['1.2', '1.3']).default('1.3'),
  /** A client certificate for mutual TLS. @default - none */
  clientCertSecret: clientCertSecret.optional(),
  /** A Secret key holding the CA bundle (PEM) that signed the backend's certificate. @default - the system CAs */
  caSecret: z.strictObject({ name: dnsSubdomain, key: z.string().regex(CONFIG_MAP_KEY).default('ca.crt') }).optional(),
});

/** The `monitoring.backend` section of the platform config. */
export const backendConfig = z.strictObject({
  /** What the backend is: decides the default paths, the tenant header and the query dialect. */
  kind: z.enum(BACKEND_KINDS, { error: `must be one of ${BACKEND_KINDS.join(', ')}` }),
  /**
   * Base URL of the backend (scheme, host, port, optional path prefix); the kind derives the write and query URLs
   * from it. @example "https://mimir.example.com" @default - none: give remoteWriteUrl and queryUrl
   */
  url: httpUrl.optional(),
  /** Remote-write URL, overriding the one derived from `url`. @default - derived from `url` and `kind` */
  remoteWriteUrl: httpUrl.optional(),
  /**
   * Base URL of the Prometheus query API (the part before `/api/v1/query`), overriding the one derived from `url`.
   * @default - derived from `url` and `kind`
   */
  queryUrl: httpUrl.optional(),
  /** Tenant (org) id sent with every write and query. @default - none */
  tenant: z.string().regex(TENANT, { error: 'must be printable ASCII without spaces' }).optional(),
  /** Header carrying `tenant`, overriding the kind's default (mimir: X-Scope-OrgID, thanos: THANOS-TENANT). */
  tenantHeader: z.string().regex(HEADER_NAME, { error: 'must be an HTTP header name' }).optional(),
  /** @default - no credentials */
  auth: backendAuth.optional(),
  tls: backendTls.prefault({}),
});

/** The `monitoring.backend` section, as parsed. */
export type BackendConfig = z.output<typeof backendConfig>;
/** Backend credentials, as parsed. */
export type BackendAuth = z.output<typeof backendAuth>;
