import { App, Chart, Helm, Names } from 'cdk8s';
import type { Construct } from 'constructs';
import type { PlatformCharts } from './platform';
import { LABELS } from '../contract/labels';
import { GRAFANA_PORT, grafanaServiceName, prometheusServiceName } from '../monitoring/monitoring-stack';
import type { PlatformConfig } from '../config/platform-config';
import { PROMETHEUS_PORT } from '../contract/prometheus';
import { BACKEND_USERNAME_KEY } from '../backend/cluster-metrics';

/**
 * What a deployment (Pulumi or the Helm bundle) needs to know about an environment beyond its objects: which charts to
 * apply and in what order, which Secrets it must create from secret config, and the URLs and commands to hand to the
 * user. Everything here is derived from the config and the cdk8s app, so Pulumi, the bundle and the docs agree.
 */

/** A Kubernetes object as plain JSON (what `Chart.toJson()` returns). */
export type KubeObject = {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
};

/** The objects of one cdk8s chart, ready to apply. */
export interface ChartManifest {
  /** The chart's construct id (`namespaces`, `monitoring`, `loadtests`). */
  readonly id: string;
  /** The file `cdk8s synth` writes the chart to, e.g. `0002-loadtests.k8s.yaml`. */
  readonly fileName: string;
  /** The platform's own objects of the chart, in apply order. */
  readonly objects: readonly KubeObject[];
}

/**
 * The objects of every chart of an environment, in the order `cdk8s synth` writes them (charts topologically sorted),
 * WITHOUT
 * - kube-prometheus-stack's own objects: Helm deploys those (the Pulumi Release, or the bundle's dependency), even when
 *   `monitoring.chart.path` had them rendered into the monitoring chart for `cdk8s synth`;
 * - the objects of a run (labelled with a run id, see `isRunObject`): deploying the platform must not start a
 *   load test; `loadtest run` applies each run with a fresh run id.
 *
 * With `scope`, only the charts under that construct (e.g. one `LoadTestPlatform` in an app with other charts). With
 * `chartJson`, each chart's objects as already computed (`Chart.toJson()` resolves every object again on each call).
 */
export function platformManifests(
  app: App,
  charts: Pick<PlatformCharts, 'monitoringStack'>,
  scope?: Construct,
  chartJson: (chart: Chart) => readonly KubeObject[] = (chart) => chart.toJson() as KubeObject[],
): ChartManifest[] {
  const rendered = charts.monitoringStack.node.tryFindChild('Chart');
  const renderedKeys = new Set(rendered instanceof Helm ? rendered.apiObjects.map((o) => objectKey(o)) : []);
  const all = app.charts;
  const hasDependencies = all.some((c) => c.node.dependencies.length > 0);
  return all.flatMap((chart: Chart, index) => {
    // File names count every chart of the app (as `cdk8s synth` numbers them), even when only some are returned.
    if (scope !== undefined && !chart.node.scopes.includes(scope)) return [];
    const objects = chartJson(chart).filter((o) => !renderedKeys.has(objectKey(o)) && !isRunObject(o));
    const base = Names.toDnsLabel(chart);
    const fileName = `${hasDependencies ? `${index.toString().padStart(4, '0')}-` : ''}${base}${app.outputFileExtension}`;
    return [{ id: chart.node.id, fileName, objects }];
  });
}

/** True for an object that belongs to one run of a test (it carries the run-id label). */
export function isRunObject(o: { readonly metadata: object }): boolean {
  const labels = (o.metadata as { labels?: Record<string, string> }).labels;
  return labels?.[LABELS.runId] !== undefined;
}

function objectKey(o: { apiVersion: string; kind: string; metadata: { name?: string } }): string {
  return `${o.apiVersion}/${o.kind}/${o.metadata.name ?? ''}`;
}

/** The Grafana admin user name written into the admin Secret (the password comes from secret config). */
export const GRAFANA_ADMIN_USER = 'admin';

/** One key of a Secret the deployment creates: either a fixed value or a stack config key holding a secret. */
export interface DeploySecretEntry {
  /** Key inside the Secret. */
  readonly key: string;
  /** Stack config key (without the `k6platform:` prefix) that holds the value, set with `pulumi config set --secret`. */
  readonly configKey?: string;
  /** A fixed, non-secret value (used instead of `configKey`). */
  readonly value?: string;
}

/** A Secret the deployment must create because the platform config references it. */
export interface DeploySecret {
  /** Namespace of the Secret. */
  readonly namespace: string;
  /** Name of the Secret, as the config references it. */
  readonly name: string;
  /** What the Secret holds. */
  readonly entries: readonly DeploySecretEntry[];
}

/**
 * The Secrets an environment references and the deployment must create from secret config: the Grafana admin
 * credentials (when monitoring is deployed), the runners' remote-write credentials (when configured), and the
 * credential of a `monitoring.backend` (in both namespaces: runners and Grafana read it). Keys that name the same
 * Secret are merged into one.
 */
export function deploySecrets(cfg: PlatformConfig): DeploySecret[] {
  const secrets = new Map<string, { namespace: string; name: string; entries: DeploySecretEntry[] }>();
  const add = (namespace: string, name: string, entry: DeploySecretEntry) => {
    const id = `${namespace}/${name}`;
    const s = secrets.get(id) ?? { namespace, name, entries: [] };
    secrets.set(id, s);
    if (s.entries.some((e) => e.key === entry.key)) {
      throw new Error(`Deploy: Secret '${id}' key '${entry.key}' is referenced twice with different sources; give each credential its own key`);
    }
    s.entries.push(entry);
  };
  if (cfg.monitoring.enabled) {
    const a = cfg.monitoring.grafana.adminSecret;
    add(cfg.namespaces.monitoring, a.name, { key: a.userKey, value: GRAFANA_ADMIN_USER });
    add(cfg.namespaces.monitoring, a.name, { key: a.passwordKey, configKey: 'grafanaAdminPassword' });
  }
  const auth = cfg.runner.remoteWriteAuth;
  if (auth?.type === 'basic') {
    add(cfg.namespaces.loadTests, auth.username.name, { key: auth.username.key, configKey: 'remoteWriteUsername' });
    add(cfg.namespaces.loadTests, auth.password.name, { key: auth.password.key, configKey: 'remoteWritePassword' });
  } else if (auth?.type === 'bearer') {
    add(cfg.namespaces.loadTests, auth.token.name, { key: auth.token.key, configKey: 'remoteWriteToken' });
  }
  // A metrics backend's credential: the runners read it in the load-test namespace, Grafana in the monitoring one.
  const b = cfg.monitoring.backend?.auth;
  const namespaces = [cfg.namespaces.loadTests, ...(cfg.monitoring.enabled ? [cfg.namespaces.monitoring] : [])];
  for (const ns of namespaces) {
    if (b?.type === 'basic') {
      add(ns, b.passwordSecret.name, { key: b.passwordSecret.key, configKey: 'remoteWritePassword' });
      // The stack's Prometheus forwards cluster metrics with basic auth read from Secret keys, the user name included.
      if (ns === cfg.namespaces.monitoring) add(ns, b.passwordSecret.name, { key: BACKEND_USERNAME_KEY, value: b.username });
    } else if (b?.type === 'bearer') add(ns, b.tokenSecret.name, { key: b.tokenSecret.key, configKey: 'remoteWriteToken' });
  }
  return [...secrets.values()];
}

/** Grafana's URL: `http(s)://<ingress host>/` when an ingress is configured, else the in-cluster Service URL. */
export function grafanaUrl(cfg: PlatformConfig): string {
  const g = cfg.monitoring.grafana;
  if (g.ingress.enabled && g.ingress.host !== undefined) {
    return `${g.ingress.tlsSecretName !== undefined ? 'https' : 'http'}://${g.ingress.host}/`;
  }
  return `http://${grafanaServiceName(cfg.monitoring.releaseName)}.${cfg.namespaces.monitoring}.svc:${GRAFANA_PORT}/`;
}

/** `--context <ctx>` when a kube context is configured, else nothing (kubectl's current context). */
function contextFlag(context: string | undefined): string {
  return context !== undefined && context !== '' ? ` --context ${context}` : '';
}

/** The command that makes Grafana reachable on http://localhost:3000 from a workstation. */
export function grafanaPortForwardCommand(cfg: PlatformConfig, context?: string): string {
  return `kubectl${contextFlag(context)} -n ${cfg.namespaces.monitoring} port-forward svc/${grafanaServiceName(cfg.monitoring.releaseName)} 3000:${GRAFANA_PORT}`;
}

/** The command that makes Prometheus reachable on http://localhost:9090 (where `loadtest run` and `verdict` look by default). */
export function prometheusPortForwardCommand(cfg: PlatformConfig, context?: string): string {
  return `kubectl${contextFlag(context)} -n ${cfg.namespaces.monitoring} port-forward svc/${prometheusServiceName(cfg.monitoring.releaseName)} ${PROMETHEUS_PORT}:${PROMETHEUS_PORT}`;
}

/**
 * The command that starts a run of one test: `loadtest run` (cli/) applies a fresh run (new run id) of the test to the
 * cluster, follows it and prints the verdict. `npx loadtest` finds the `loadtest` bin of the installed CLI package in a
 * team's repository, and of the root package.json in this one; run it from the repository root.
 */
export function startRunCommand(cfg: PlatformConfig, testName: string, context?: string): string {
  if (!cfg.tests.some((t) => t.name === testName)) {
    throw new Error(`Deploy: 'tests' has no test named '${testName}' (known: ${cfg.tests.map((t) => t.name).join(', ')})`);
  }
  return `npx loadtest run ${testName} --env ${cfg.environment}${contextFlag(context)}`;
}
