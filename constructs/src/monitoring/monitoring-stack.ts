import { Helm } from 'cdk8s';
import { Construct } from 'constructs';
import { kubePrometheusStackFullname, MonitoringNetworkPolicies } from '../network/network-policies';
import type { PlatformConfig } from '../config/platform-config';
import { versions } from '../contract/versions';
import { PROMETHEUS_PORT } from '../contract/prometheus';
import { resolveBackend } from '../backend/backend';
import { backendGrafanaValues } from '../backend/grafana-backend';
import { clusterMetricsRemoteWrite } from '../backend/cluster-metrics';

/** Grafana's service port in kube-prometheus-stack. */
export const GRAFANA_PORT = 80;
/** Label and value the Grafana dashboards sidecar watches for. */
export const DASHBOARD_LABEL = { key: 'grafana_dashboard', value: '1' } as const;
/** Annotation on a dashboard ConfigMap naming the Grafana folder it goes into. */
export const DASHBOARD_FOLDER_ANNOTATION = 'grafana_folder';
/** uid of the Prometheus datasource the chart provisions; dashboards default to it. */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';
/** Name of that datasource (kube-prometheus-stack 88.5.3 values.yaml `grafana.sidecar.datasources.name`). */
export const PROMETHEUS_DATASOURCE_NAME = 'Prometheus';
/**
 * Prometheus feature flags. `native-histograms` is needed by Prometheus < 3.9 to ingest native histograms (remote write
 * included); from 3.9 on native histograms are stable and the flag is a no-op that logs a warning. The pinned chart
 * deploys Prometheus 3.14, but the flag is kept so a stack pinned to an older chart (or an older Prometheus image)
 * still ingests what k6 sends. `scrapeNativeHistograms` is what 3.9+ needs for scraping.
 */
export const PROMETHEUS_FEATURES = ['native-histograms'] as const;
/** Remote-write protobuf messages accepted: 1.0 (what k6 sends today) and 2.0. */
export const REMOTE_WRITE_MESSAGE_VERSIONS = ['V1.0', 'V2.0'] as const;

/** The subset of kube-prometheus-stack values this platform sets. Every path exists in the pinned chart's values.yaml. */
export interface KubePrometheusStackValues {
  readonly fullnameOverride: string;
  readonly alertmanager: { readonly enabled: boolean };
  readonly prometheus: {
    readonly prometheusSpec: {
      readonly enableRemoteWriteReceiver: boolean;
      readonly enableFeatures: readonly string[];
      readonly scrapeNativeHistograms: boolean;
      readonly remoteWriteReceiverMessageVersions: readonly string[];
      readonly retention: string;
      readonly retentionSize: string;
      readonly resources: Record<string, unknown>;
      readonly storageSpec: Record<string, unknown>;
      readonly serviceMonitorSelectorNilUsesHelmValues: boolean;
      readonly podMonitorSelectorNilUsesHelmValues: boolean;
      readonly ruleSelectorNilUsesHelmValues: boolean;
      /** With a metrics backend: the cluster metrics the dashboards and the verdict read, forwarded to it. */
      readonly remoteWrite?: readonly Record<string, unknown>[];
    };
  };
  readonly grafana: Record<string, unknown>;
}

/**
 * Name of the Prometheus Service the chart creates: `<fullname>-prometheus` (templates/prometheus/service.yaml of
 * kube-prometheus-stack-88.5.3), fullname being pinned to the release name and cut to 26 characters.
 */
export function prometheusServiceName(releaseName: string): string {
  return `${kubePrometheusStackFullname(releaseName)}-prometheus`;
}

/**
 * Name of the Grafana Service the chart creates: the grafana subchart's fullname, `<release>-grafana`, or the release
 * name alone when it contains "grafana" (`grafana.fullname`, charts/grafana/templates/_helpers.tpl at grafana-12.11.1;
 * a release name of at most 53 characters never reaches its 63-character cut).
 */
export function grafanaServiceName(releaseName: string): string {
  return releaseName.includes('grafana') ? releaseName : `${releaseName}-grafana`;
}

/** In-cluster base URL of Prometheus for a release in a namespace. */
export function prometheusUrl(releaseName: string, namespace: string): string {
  return `http://${prometheusServiceName(releaseName)}.${namespace}:${PROMETHEUS_PORT}`;
}

/**
 * The remote-write URL runners write to: the configured one when monitoring is external, else derived from the
 * release name, namespace and service port. The single place this URL is computed.
 */
export function remoteWriteUrl(cfg: PlatformConfig): string {
  if (cfg.monitoring.backend !== undefined) return resolveBackend(cfg.monitoring.backend).remoteWriteUrl;
  return cfg.monitoring.remoteWriteUrl ?? `${prometheusUrl(cfg.monitoring.releaseName, cfg.namespaces.monitoring)}/api/v1/write`;
}

/**
 * The kube-prometheus-stack values for an environment: the single function every deploy path uses (synth writes them,
 * the Helm bundle embeds them, Pulumi passes them to its Release).
 */
export function monitoringValues(cfg: PlatformConfig): KubePrometheusStackValues {
  const m = cfg.monitoring;
  const g = m.grafana;
  const storageClass = m.prometheus.storage.storageClassName;
  const backend = m.backend !== undefined ? resolveBackend(m.backend) : undefined;
  return {
    // Pin the names the chart derives (it truncates fullname to 26 characters), so service names are predictable.
    fullnameOverride: m.releaseName,
    alertmanager: { enabled: m.alertmanager.enabled },
    prometheus: {
      prometheusSpec: {
        enableRemoteWriteReceiver: true,
        enableFeatures: [...PROMETHEUS_FEATURES],
        scrapeNativeHistograms: true,
        remoteWriteReceiverMessageVersions: [...REMOTE_WRITE_MESSAGE_VERSIONS],
        retention: m.prometheus.retention,
        retentionSize: m.prometheus.retentionSize,
        resources: { ...m.prometheus.resources },
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              ...(storageClass !== undefined ? { storageClassName: storageClass } : {}),
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: m.prometheus.storage.size } },
            },
          },
        },
        // Select ServiceMonitors, PodMonitors and rules of every release, not only this chart's own.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        ...(backend !== undefined ? { remoteWrite: [clusterMetricsRemoteWrite(backend, cfg.namespaces.loadTests)] } : {}),
      },
    },
    grafana: {
      enabled: true,
      admin: { existingSecret: g.adminSecret.name, userKey: g.adminSecret.userKey, passwordKey: g.adminSecret.passwordKey },
      resources: { ...g.resources },
      persistence: {
        enabled: g.persistence.enabled,
        size: g.persistence.size,
        ...(g.persistence.storageClassName !== undefined ? { storageClassName: g.persistence.storageClassName } : {}),
      },
      ingress: {
        enabled: g.ingress.enabled,
        ...(g.ingress.className !== undefined ? { ingressClassName: g.ingress.className } : {}),
        hosts: g.ingress.host !== undefined ? [g.ingress.host] : [],
        path: '/',
        tls:
          g.ingress.tlsSecretName !== undefined && g.ingress.host !== undefined
            ? [{ secretName: g.ingress.tlsSecretName, hosts: [g.ingress.host] }]
            : [],
      },
      sidecar: {
        dashboards: {
          enabled: true,
          label: DASHBOARD_LABEL.key,
          labelValue: DASHBOARD_LABEL.value,
          searchNamespace: 'ALL',
          folderAnnotation: DASHBOARD_FOLDER_ANNOTATION,
          provider: { foldersFromFilesStructure: true },
        },
        // With a metrics backend, its datasource (same name and uid) replaces the chart's one on the stack's Prometheus.
        datasources: {
          enabled: true,
          defaultDatasourceEnabled: backend === undefined,
          isDefaultDatasource: true,
          uid: PROMETHEUS_DATASOURCE_UID,
        },
      },
      ...(backend !== undefined ? backendGrafanaValues(backend, { name: PROMETHEUS_DATASOURCE_NAME, uid: PROMETHEUS_DATASOURCE_UID }) : {}),
    },
  };
}

/** Props of {@link MonitoringStack}. */
export interface MonitoringStackProps {
  /** The parsed platform configuration of the environment. */
  readonly config: PlatformConfig;
  /**
   * Path to helm when the stack is rendered from a local chart.
   * @default - `HELM_BIN` from the environment, else `helm` on PATH
   */
  readonly helmExecutable?: string;
}

/**
 * kube-prometheus-stack for the platform: Prometheus with the remote-write receiver and native histograms on, Grafana
 * with dashboards from labelled ConfigMaps and admin credentials from an existing Secret.
 *
 * The values are always computed ({@link MonitoringStack.values}); when `monitoring.chart.path` points at a local chart
 * directory or .tgz, the stack is also rendered into plain manifests through cdk8s's Helm construct.
 */
export class MonitoringStack extends Construct {
  /** The chart values (identical to `monitoringValues(config)`). */
  public readonly values: KubePrometheusStackValues;
  /** Where runners send their metrics. */
  public readonly remoteWriteUrl: string;
  /** In-cluster Prometheus base URL (for queries). */
  public readonly prometheusUrl: string;
  /** Whether the chart was rendered into this construct's manifests. */
  public readonly rendered: boolean;
  /** Who may connect to the stack's pods (only when the stack is deployed: `monitoring.enabled`). @default - none with monitoring off */
  public readonly networkPolicies?: MonitoringNetworkPolicies;

  public constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id);
    const cfg = props.config;
    this.values = monitoringValues(cfg);
    this.remoteWriteUrl = remoteWriteUrl(cfg);
    this.prometheusUrl = prometheusUrl(cfg.monitoring.releaseName, cfg.namespaces.monitoring);
    if (cfg.monitoring.enabled) {
      // Default-deny ingress plus explicit allows: above all, only runners may use the remote-write receiver.
      this.networkPolicies = new MonitoringNetworkPolicies(this, 'NetworkPolicies', {
        namespace: cfg.namespaces.monitoring,
        releaseName: cfg.monitoring.releaseName,
        loadTestsNamespace: cfg.namespaces.loadTests,
        alertmanager: cfg.monitoring.alertmanager.enabled,
        grafanaIngress: cfg.monitoring.grafana.ingress.enabled,
      });
    }
    const chartPath = cfg.monitoring.chart.path;
    this.rendered = cfg.monitoring.enabled && chartPath !== undefined;
    if (this.rendered && chartPath !== undefined) {
      const helm = props.helmExecutable ?? process.env.HELM_BIN ?? 'helm';
      const helmFlags = ['--include-crds', '--kube-version', versions.kubernetes];
      try {
        new Helm(this, 'Chart', {
          chart: chartPath,
          releaseName: cfg.monitoring.releaseName,
          namespace: cfg.namespaces.monitoring,
          values: this.values as unknown as Record<string, unknown>,
          helmExecutable: helm,
          helmFlags,
        });
      } catch (e) {
        // cdk8s passes on helm's stderr alone: say which command failed, for which setting, and why.
        const command = [
          helm,
          'template',
          '-f',
          '<values>',
          '--namespace',
          cfg.namespaces.monitoring,
          ...helmFlags,
          cfg.monitoring.releaseName,
          chartPath,
        ];
        const why = (e instanceof Error ? e.message : String(e)).trim();
        throw new Error(`MonitoringStack: rendering 'monitoring.chart.path' ${chartPath} failed: \`${command.join(' ')}\`: ${why}`);
      }
    }
  }
}

/** One line telling how to render the stack when no chart is at hand. */
export function renderHint(cfg: PlatformConfig): string {
  const kps = versions.kubePrometheusStack;
  return (
    `kube-prometheus-stack not rendered (no chart at hand): values in dist/${cfg.environment}/platform/kube-prometheus-stack.values.yaml; ` +
    `render with \`helm template ${cfg.monitoring.releaseName} ${kps.chart} --repo ${cfg.monitoring.chart.repository} --version ${cfg.monitoring.chart.version} ` +
    `-n ${cfg.namespaces.monitoring} --include-crds -f dist/${cfg.environment}/platform/kube-prometheus-stack.values.yaml\` ` +
    `or set monitoring.chart.path to a local chart`
  );
}
