/**
 * What a runner needs to remote-write to a `monitoring.backend` (pure: no I/O): the environment of k6's Prometheus
 * remote-write output and the Secret volumes of its TLS files. Env names as k6 v1.7.1 reads them
 * (internal/output/prometheusrw/remotewrite/config.go: `K6_PROMETHEUS_RW_HEADERS_<name>` via `envMap`, USERNAME,
 * PASSWORD, BEARER_TOKEN, INSECURE_SKIP_TLS_VERIFY, TLS_MINIMUM_VERSION, CLIENT_CERTIFICATE, CLIENT_CERTIFICATE_KEY).
 * Secret values only ever travel as `secretKeyRef`s.
 */
import type { k8s } from 'cdk8s-plus-27';
import type { ResolvedBackend } from './backend';
import { secretEnv } from '../load-test/resources';

/** Where a runner finds the backend's client certificate and key. */
export const BACKEND_CLIENT_CERT_DIR = '/etc/k6-backend/client';
/** Where a runner finds the backend's CA bundle (Go's crypto/x509 reads every file of `SSL_CERT_DIR`). */
export const BACKEND_CA_DIR = '/etc/k6-backend/ca';
/** Volume names of the two Secrets. */
export const BACKEND_VOLUMES = { clientCert: 'backend-client-cert', ca: 'backend-ca' } as const;

/**
 * The runner environment for the backend, after K6_PROMETHEUS_RW_SERVER_URL: one `K6_PROMETHEUS_RW_HEADERS_<name>`
 * per tenant header (k6 takes the header name from the variable name as written; Kubernetes allows `-` in env names),
 * the credentials from Secrets, and TLS. A CA has no k6 option: `SSL_CERT_DIR` adds the mounted bundle to the roots
 * Go loads (crypto/x509 root_unix.go: it replaces the default directories, while the default bundle FILE, e.g.
 * /etc/ssl/certs/ca-certificates.crt, is still read as long as SSL_CERT_FILE is unset).
 */
export function backendRunnerEnv(b: ResolvedBackend): k8s.EnvVar[] {
  const env: k8s.EnvVar[] = Object.entries(b.headers).map(([name, value]) => ({ name: `K6_PROMETHEUS_RW_HEADERS_${name}`, value }));
  const auth = b.config.auth;
  if (auth?.type === 'basic') {
    env.push({ name: 'K6_PROMETHEUS_RW_USERNAME', value: auth.username }, secretEnv('K6_PROMETHEUS_RW_PASSWORD', auth.passwordSecret));
  } else if (auth?.type === 'bearer') {
    env.push(secretEnv('K6_PROMETHEUS_RW_BEARER_TOKEN', auth.tokenSecret));
  }
  const tls = b.config.tls;
  if (tls.insecureSkipVerify) env.push({ name: 'K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY', value: 'true' });
  env.push({ name: 'K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION', value: tls.minVersion });
  if (tls.clientCertSecret !== undefined) {
    env.push(
      { name: 'K6_PROMETHEUS_RW_CLIENT_CERTIFICATE', value: `${BACKEND_CLIENT_CERT_DIR}/tls.crt` },
      { name: 'K6_PROMETHEUS_RW_CLIENT_CERTIFICATE_KEY', value: `${BACKEND_CLIENT_CERT_DIR}/tls.key` },
    );
  }
  if (tls.caSecret !== undefined) env.push({ name: 'SSL_CERT_DIR', value: BACKEND_CA_DIR });
  return env;
}

/** A Secret volume of the backend's TLS files, mounted read-only at `mountPath`. */
export interface BackendSecretVolume {
  readonly name: string;
  readonly secretName: string;
  readonly items: readonly { readonly key: string; readonly path: string }[];
  readonly mountPath: string;
}

/** The Secret volumes a runner mounts for the backend's client certificate and CA (none without TLS files). */
export function backendSecretVolumes(b: ResolvedBackend): BackendSecretVolume[] {
  const tls = b.config.tls;
  const volumes: BackendSecretVolume[] = [];
  if (tls.clientCertSecret !== undefined) {
    const c = tls.clientCertSecret;
    volumes.push({
      name: BACKEND_VOLUMES.clientCert,
      secretName: c.name,
      items: [
        { key: c.certKey, path: 'tls.crt' },
        { key: c.keyKey, path: 'tls.key' },
      ],
      mountPath: BACKEND_CLIENT_CERT_DIR,
    });
  }
  if (tls.caSecret !== undefined) {
    volumes.push({
      name: BACKEND_VOLUMES.ca,
      secretName: tls.caSecret.name,
      items: [{ key: tls.caSecret.key, path: 'ca.crt' }],
      mountPath: BACKEND_CA_DIR,
    });
  }
  return volumes;
}

/**
 * The file mode of the mounted files: read-only, for everyone, because the restricted pod context sets no fsGroup and
 * the kubelet writes Secret files owned by root, while the runner runs as its own uid.
 */
export const BACKEND_FILE_MODE = 0o444;

/** {@link backendSecretVolumes} as pod volumes. */
export function backendPodVolumes(b: ResolvedBackend): k8s.Volume[] {
  return backendSecretVolumes(b).map((v) => ({
    name: v.name,
    secret: { secretName: v.secretName, items: v.items.map((i) => ({ ...i })), defaultMode: BACKEND_FILE_MODE },
  }));
}

/**
 * Egress of the runners to the backend's remote-write endpoint: an in-cluster Service URL
 * (`<service>.<namespace>[.svc...]`) opens its namespace on the URL's port; an IP address opens that address alone
 * (`/32`, `/128`); any other host is outside the cluster, and a NetworkPolicy cannot name a host, so it opens every
 * public IPv4 address on that port (the cluster's own ranges and link-local stay closed: network-rules.ts `publicIpv4`).
 */
export function backendEgressTarget(b: ResolvedBackend): { readonly namespace?: string; readonly cidr?: string; readonly port: number } {
  const u = new URL(b.remoteWriteUrl);
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(u.hostname)) return { cidr: `${u.hostname}/32`, port };
  if (u.hostname.startsWith('[')) return { cidr: `${u.hostname.slice(1, -1)}/128`, port };
  const labels = u.hostname.toLowerCase().split('.');
  const inCluster = (labels.length >= 3 && labels[2] === 'svc') || (u.protocol === 'http:' && labels.length === 2 && !/^\d+$/.test(labels[1]!));
  return inCluster ? { namespace: labels[1]!, port } : { port };
}

/** {@link backendSecretVolumes} as container mounts. */
export function backendVolumeMounts(b: ResolvedBackend): k8s.VolumeMount[] {
  return backendSecretVolumes(b).map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: true }));
}
