import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { LABELS } from '../contract/labels';
import { NAMESPACE_NAME_LABEL } from './network-rules';
import { PROMETHEUS_PORT } from '../contract/prometheus';

/**
 * Namespace-wide NetworkPolicies of the platform:
 *
 * - {@link DefaultDenyPolicy}: closes a namespace for everything its other policies do not declare (the load-test
 *   namespace: ingress and egress; the monitoring namespace: ingress only, so scraping keeps working).
 * - {@link MonitoringNetworkPolicies}: who may talk to kube-prometheus-stack's pods. Above all, Prometheus's
 *   remote-write receiver (`/api/v1/write` on 9090, unauthenticated) accepts writes from the load-test runners only.
 *
 * Pod labels and ports are those of the pinned chart (kube-prometheus-stack 88.5.3 and its subcharts grafana 12.11.1,
 * kube-state-metrics 8.4.0, prometheus-node-exporter 4.56.1) with `fullnameOverride` = the release name, as
 * `monitoringValues()` sets it.
 */

/** Component label value of the runner pods of both run forms (jobs: our Job template; operator: TestRun runner metadata). */
export const RUNNER_COMPONENT = 'runner';
/** @deprecated Use {@link PROMETHEUS_PORT} (the contract module). */
export const PROMETHEUS_WEB_PORT = PROMETHEUS_PORT;
/** The config-reloader sidecar's web port in the Prometheus and Alertmanager pods (chart `prometheus.service.reloaderWebPort`). */
export const CONFIG_RELOADER_PORT = 8080;
/** Grafana's container port (the Service's port 80 targets it). */
export const GRAFANA_CONTAINER_PORT = 3000;
/** Alertmanager's web port (alerts from Prometheus) and its cluster (mesh) port. */
export const ALERTMANAGER_PORTS = { web: 9093, mesh: 9094 } as const;
/** The prometheus-operator's HTTPS port (admission webhook called by the API server, metrics): chart `prometheusOperator.tls.internalPort`. */
export const OPERATOR_TLS_PORT = 10250;
/** kube-state-metrics's metrics port and its self-telemetry port. */
export const KUBE_STATE_METRICS_PORTS = { http: 8080, telemetry: 8081 } as const;

/** Which traffic a {@link DefaultDenyPolicy} closes. */
export type PolicyType = 'Ingress' | 'Egress';

/** Props of {@link DefaultDenyPolicy}. */
export interface DefaultDenyPolicyProps {
  /** Namespace to close. */
  readonly namespace: string;
  /** Directions closed for every pod of the namespace. @default ["Ingress", "Egress"] */
  readonly policyTypes?: readonly PolicyType[];
  /** Object name. @default "k6-platform-default-deny" */
  readonly name?: string;
}

/**
 * A NetworkPolicy selecting every pod of a namespace with no rules: each pod is isolated for the given directions, so
 * only what some other policy of the namespace allows gets through (NetworkPolicies are additive).
 */
export class DefaultDenyPolicy extends Construct {
  /** The policy object. */
  public readonly policy: k8s.KubeNetworkPolicy;

  public constructor(scope: Construct, id: string, props: DefaultDenyPolicyProps) {
    super(scope, id);
    const types = [...(props.policyTypes ?? ['Ingress', 'Egress'])];
    this.policy = new k8s.KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: props.name ?? 'k6-platform-default-deny', namespace: props.namespace, labels: { [LABELS.component]: 'network-policy' } },
      spec: {
        podSelector: {},
        policyTypes: types,
        ...(types.includes('Ingress') ? { ingress: [] } : {}),
        ...(types.includes('Egress') ? { egress: [] } : {}),
      },
    });
  }
}

/** Props of {@link MonitoringNetworkPolicies}. */
export interface MonitoringNetworkPoliciesProps {
  /** Namespace of kube-prometheus-stack. */
  readonly namespace: string;
  /** Helm release name (= the chart's fullname: `monitoringValues()` sets `fullnameOverride` to it). */
  readonly releaseName: string;
  /** Namespace of the load-test runners, the only writers of metrics. */
  readonly loadTestsNamespace: string;
  /** Whether Alertmanager is deployed. @default false */
  readonly alertmanager?: boolean;
  /** Whether Grafana is served through an ingress (then its port is open to every source: ingress controllers vary). @default false */
  readonly grafanaIngress?: boolean;
}

const tcp = (...ports: number[]): k8s.NetworkPolicyPort[] => ports.map((port) => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' }));

/**
 * kube-prometheus-stack's fullname when `fullnameOverride` is the release name (as `monitoringValues()` sets it): the
 * chart cuts it to 26 characters and drops one trailing "-", so that its longest derived names fit in 63
 * (`kube-prometheus-stack.fullname`, charts/kube-prometheus-stack/templates/_helpers.tpl at kube-prometheus-stack-88.5.3).
 * The Prometheus and Alertmanager objects are named `<fullname>-prometheus` and `<fullname>-alertmanager`.
 */
export function kubePrometheusStackFullname(releaseName: string): string {
  const cut = releaseName.slice(0, 26);
  return cut.endsWith('-') ? cut.slice(0, -1) : cut;
}

/** Pod labels of the chart's components for a release (kube-prometheus-stack 88.5.3 templates). */
export function monitoringPodLabels(releaseName: string) {
  const fullname = kubePrometheusStackFullname(releaseName);
  return {
    /** prometheus-operator sets these on the Prometheus pods (the chart's Service selects them the same way). */
    prometheus: { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': `${fullname}-prometheus` },
    /** grafana subchart selector labels. */
    grafana: { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': releaseName },
    /** prometheus-operator sets these on the Alertmanager pods (the chart's Service selects them the same way). */
    alertmanager: { 'app.kubernetes.io/name': 'alertmanager', alertmanager: `${fullname}-alertmanager` },
    /** The operator Deployment's pod labels (`app: <chart name>-operator`, `release`). */
    operator: { app: 'kube-prometheus-stack-operator', release: releaseName },
    /** kube-state-metrics subchart selector labels. */
    kubeStateMetrics: { 'app.kubernetes.io/name': 'kube-state-metrics', 'app.kubernetes.io/instance': releaseName },
  } as const;
}

/**
 * The monitoring namespace's NetworkPolicies: a default-deny for ingress, then per component exactly who may connect.
 *
 * | pods | open to |
 * |---|---|
 * | Prometheus 9090 | runners of the load-test namespace (remote write), Grafana (queries), Prometheus (self-scrape) |
 * | Prometheus 8080 (config reloader) | Prometheus (scrape) |
 * | Grafana 3000 | Prometheus (scrape); with an ingress: every source |
 * | Alertmanager 9093, 8080 / 9094 | Prometheus (alerts, scrape) / Alertmanager peers (cluster mesh) |
 * | prometheus-operator 10250 | every source: the API server calls its admission webhook from outside the pod network |
 * | kube-state-metrics 8080, 8081 | Prometheus (scrape) |
 *
 * Egress is not restricted, so Prometheus still scrapes node-exporter (host network), the kubelets and the API server.
 * node-exporter runs in the host network, where NetworkPolicies do not apply. `kubectl port-forward` keeps working: the
 * kubelet forwards into the pod's network namespace through the container runtime, which NetworkPolicies do not see.
 */
export class MonitoringNetworkPolicies extends Construct {
  /** The policies, by component (`default-deny`, `prometheus`, `grafana`, `alertmanager`, `operator`, `kube-state-metrics`). */
  public readonly policies: ReadonlyMap<string, k8s.KubeNetworkPolicy>;

  public constructor(scope: Construct, id: string, props: MonitoringNetworkPoliciesProps) {
    super(scope, id);
    const pods = monitoringPodLabels(props.releaseName);
    const policies = new Map<string, k8s.KubeNetworkPolicy>();
    policies.set(
      'default-deny',
      new DefaultDenyPolicy(this, 'DefaultDeny', { namespace: props.namespace, policyTypes: ['Ingress'], name: 'k6-platform-default-deny-ingress' })
        .policy,
    );
    const from = (labels: Readonly<Record<string, string>>): k8s.NetworkPolicyPeer => ({ podSelector: { matchLabels: { ...labels } } });
    const prometheus = from(pods.prometheus);
    const add = (component: string, id: string, selector: Readonly<Record<string, string>>, ingress: k8s.NetworkPolicyIngressRule[]) => {
      policies.set(
        component,
        new k8s.KubeNetworkPolicy(this, id, {
          metadata: { name: `k6-platform-${component}`, namespace: props.namespace, labels: { [LABELS.component]: 'network-policy' } },
          spec: { podSelector: { matchLabels: { ...selector } }, policyTypes: ['Ingress'], ingress },
        }),
      );
    };

    add('prometheus', 'Prometheus', pods.prometheus, [
      {
        from: [
          {
            // Both run forms: the jobs-form Job template and the operator's runner pods carry the component label.
            namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: props.loadTestsNamespace } },
            podSelector: { matchLabels: { [LABELS.component]: RUNNER_COMPONENT } },
          },
          from(pods.grafana),
          prometheus,
        ],
        ports: tcp(PROMETHEUS_WEB_PORT),
      },
      { from: [prometheus], ports: tcp(CONFIG_RELOADER_PORT) },
    ]);
    add('grafana', 'Grafana', pods.grafana, [
      props.grafanaIngress === true ? { ports: tcp(GRAFANA_CONTAINER_PORT) } : { from: [prometheus], ports: tcp(GRAFANA_CONTAINER_PORT) },
    ]);
    if (props.alertmanager === true) {
      add('alertmanager', 'Alertmanager', pods.alertmanager, [
        { from: [prometheus], ports: tcp(ALERTMANAGER_PORTS.web, CONFIG_RELOADER_PORT) },
        {
          from: [from(pods.alertmanager)],
          ports: [...tcp(ALERTMANAGER_PORTS.mesh), { port: k8s.IntOrString.fromNumber(ALERTMANAGER_PORTS.mesh), protocol: 'UDP' }],
        },
      ]);
    }
    add('operator', 'Operator', pods.operator, [{ ports: tcp(OPERATOR_TLS_PORT) }]);
    add('kube-state-metrics', 'KubeStateMetrics', pods.kubeStateMetrics, [
      { from: [prometheus], ports: tcp(KUBE_STATE_METRICS_PORTS.http, KUBE_STATE_METRICS_PORTS.telemetry) },
    ]);
    this.policies = policies;
  }
}
