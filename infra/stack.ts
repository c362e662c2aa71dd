import * as path from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import { dashboardsDirOf } from '@k6-platform/constructs/output';
import { Platform } from './components/platform';
import { readStackConfig } from './config';

/**
 * The Pulumi program: stack config in (validated by the same schema as synth), one {@link Platform} per stack,
 * outputs out. Loaded by infra/index.ts (Pulumi) and by the mocks tests.
 */

const rootDir = path.resolve(__dirname, '..');
const config = readStackConfig();

/**
 * Kubernetes provider for the configured kubeconfig / context (`k6platform:*`, else `kubernetes:*`, else kubectl's
 * current ones: infra/kube.ts).
 */
export const provider = new k8s.Provider(`${config.stack}-kubernetes`, {
  ...(config.kube.kubeconfig !== undefined ? { kubeconfig: config.kube.kubeconfig } : {}),
  ...(config.kube.context !== undefined ? { context: config.kube.context } : {}),
});

/** The environment. */
export const platform = new Platform(
  config.stack,
  {
    config: config.platform,
    scriptsDir: path.join(rootDir, 'scripts'),
    ...optional('dashboardsDir', dashboardsDirOf(rootDir)),
    secrets: config.secrets,
    ...(config.kube.context !== undefined ? { kubeContext: config.kube.context } : {}),
  },
  { providers: { kubernetes: provider } },
);

/** `{ [key]: value }` when the value is defined, else nothing (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value !== undefined ? ({ [key]: value } as Record<K, V>) : {};
}

/** Environment name (labels, dist/<env>/). */
export const environment = config.platform.environment;
/** Grafana: the ingress URL when configured, else the in-cluster Service URL. */
export const grafanaUrl = platform.grafanaUrl;
/** Reach Grafana from a workstation, then open http://localhost:3000/ (user admin, password from `grafanaAdminPassword`). */
export const grafanaPortForwardCommand = platform.grafanaPortForwardCommand;
/** Reach Prometheus from a workstation on http://localhost:9090 (`loadtest run` and `verdict` read it there). */
export const prometheusPortForwardCommand = platform.prometheusPortForwardCommand;
/** Prometheus remote-write URL the runners write to. */
export const remoteWriteUrl = platform.remoteWriteUrl;
/** The platform's namespaces. */
export const namespaces = platform.namespaceNames;
/** The command that starts a run, by test name (from the repository root, with Prometheus port-forwarded). */
export const runCommands = platform.runCommands;
