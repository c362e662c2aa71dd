/**
 * Grafana's datasource for a `monitoring.backend` (pure: no I/O): the kube-prometheus-stack values that replace the
 * chart's own Prometheus datasource by one on the backend, under the same uid, so every dashboard (which defaults to
 * that uid) reads the backend. Values paths of kube-prometheus-stack 88.5.3 (`grafana.sidecar.datasources
 * .defaultDatasourceEnabled`, `grafana.additionalDataSources`, "passed through tpl") and of the grafana chart 12.11.1
 * (`envValueFrom`: env vars from Secret keys; `extraSecretMounts`: Secret files).
 *
 * Secrets never appear in the values: Grafana expands `${VAR}` in provisioning files from its environment and
 * `$__file{path}` from files (grafana.com/docs/grafana/latest/administration/provisioning/#using-environment-variables),
 * and the Secrets reach Grafana's pod as env vars and mounted files. They are read in Grafana's namespace
 * (`namespaces.monitoring`): the Secrets named in `monitoring.backend` must exist there as well as in the load-test
 * namespace.
 */
import type { BackendKind } from '../config/backend';
import type { ResolvedBackend } from './backend';

/** Env vars of Grafana's container holding the backend credentials. */
export const GRAFANA_BACKEND_ENV = { password: 'K6_BACKEND_BASIC_AUTH_PASSWORD', token: 'K6_BACKEND_BEARER_TOKEN' } as const;
/** Where Grafana's pod mounts the backend's TLS Secrets. */
export const GRAFANA_BACKEND_TLS_DIR = { clientCert: '/etc/grafana/k6-backend/client', ca: '/etc/grafana/k6-backend/ca' } as const;

/** Grafana's `prometheusType` of the Prometheus datasource per kind (Grafana knows Prometheus, Cortex, Mimir, Thanos). */
const PROMETHEUS_TYPE: Readonly<Record<BackendKind, string>> = {
  prometheus: 'Prometheus',
  victoriametrics: 'Prometheus',
  mimir: 'Mimir',
  thanos: 'Thanos',
  'grafana-cloud': 'Mimir',
  generic: 'Prometheus',
};

/** The datasource (Grafana provisioning format) on the backend, with `name` and `uid` of the one it replaces. */
export function backendDatasource(b: ResolvedBackend, ref: { readonly name: string; readonly uid: string }): Record<string, unknown> {
  const jsonData: Record<string, unknown> = { httpMethod: 'POST', prometheusType: PROMETHEUS_TYPE[b.config.kind] };
  const secureJsonData: Record<string, string> = {};
  // Custom headers are numbered pairs: httpHeaderName<n> in jsonData, httpHeaderValue<n> in secureJsonData.
  const headers: [string, string][] = Object.entries(b.headers);
  const auth = b.config.auth;
  if (auth?.type === 'bearer') headers.push(['Authorization', `Bearer \${${GRAFANA_BACKEND_ENV.token}}`]);
  headers.forEach(([name, value], i) => {
    jsonData[`httpHeaderName${i + 1}`] = name;
    secureJsonData[`httpHeaderValue${i + 1}`] = value;
  });
  const basic = auth?.type === 'basic' ? { basicAuth: true, basicAuthUser: auth.username } : {};
  if (auth?.type === 'basic') secureJsonData.basicAuthPassword = `\${${GRAFANA_BACKEND_ENV.password}}`;
  const tls = b.config.tls;
  if (tls.insecureSkipVerify) jsonData.tlsSkipVerify = true;
  if (tls.clientCertSecret !== undefined) {
    jsonData.tlsAuth = true;
    secureJsonData.tlsClientCert = `$__file{${GRAFANA_BACKEND_TLS_DIR.clientCert}/tls.crt}`;
    secureJsonData.tlsClientKey = `$__file{${GRAFANA_BACKEND_TLS_DIR.clientCert}/tls.key}`;
  }
  if (tls.caSecret !== undefined) {
    jsonData.tlsAuthWithCACert = true;
    secureJsonData.tlsCACert = `$__file{${GRAFANA_BACKEND_TLS_DIR.ca}/ca.crt}`;
  }
  return {
    name: ref.name,
    uid: ref.uid,
    type: 'prometheus',
    access: 'proxy',
    url: b.queryUrl,
    isDefault: true,
    editable: false,
    ...basic,
    jsonData,
    ...(Object.keys(secureJsonData).length > 0 ? { secureJsonData } : {}),
  };
}

/** The grafana values the backend adds: its datasource instead of the chart's, and the Secrets it reads. */
export function backendGrafanaValues(b: ResolvedBackend, ref: { readonly name: string; readonly uid: string }): Record<string, unknown> {
  const auth = b.config.auth;
  const envValueFrom: Record<string, unknown> = {};
  if (auth?.type === 'basic') envValueFrom[GRAFANA_BACKEND_ENV.password] = { secretKeyRef: { ...auth.passwordSecret } };
  if (auth?.type === 'bearer') envValueFrom[GRAFANA_BACKEND_ENV.token] = { secretKeyRef: { ...auth.tokenSecret } };
  const tls = b.config.tls;
  const extraSecretMounts = [
    ...(tls.clientCertSecret !== undefined
      ? [
          {
            name: 'k6-backend-client-cert',
            secretName: tls.clientCertSecret.name,
            mountPath: GRAFANA_BACKEND_TLS_DIR.clientCert,
            readOnly: true,
            defaultMode: 0o444,
            items: [
              { key: tls.clientCertSecret.certKey, path: 'tls.crt' },
              { key: tls.clientCertSecret.keyKey, path: 'tls.key' },
            ],
          },
        ]
      : []),
    ...(tls.caSecret !== undefined
      ? [
          {
            name: 'k6-backend-ca',
            secretName: tls.caSecret.name,
            mountPath: GRAFANA_BACKEND_TLS_DIR.ca,
            readOnly: true,
            defaultMode: 0o444,
            items: [{ key: tls.caSecret.key, path: 'ca.crt' }],
          },
        ]
      : []),
  ];
  return {
    additionalDataSources: [backendDatasource(b, ref)],
    ...(Object.keys(envValueFrom).length > 0 ? { envValueFrom } : {}),
    ...(extraSecretMounts.length > 0 ? { extraSecretMounts } : {}),
  };
}
