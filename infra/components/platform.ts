import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { App } from 'cdk8s';
import {
  deploySecrets,
  grafanaPortForwardCommand,
  grafanaUrl,
  platformManifests,
  prometheusPortForwardCommand,
  startRunCommand,
} from '@k6-platform/constructs/internal';
import { LABELS, platformLabels } from '@k6-platform/constructs/internal';
import { monitoringValues, remoteWriteUrl } from '@k6-platform/constructs/internal';
import type { ChartManifest, PlatformConfig } from '@k6-platform/constructs/internal';
import { buildEnvironment } from '@k6-platform/constructs/output';
import { versions } from '@k6-platform/constructs/internal';
import { RunnerImageBuild } from './runner-image-build';

/** Arguments of {@link Platform}. */
export interface PlatformArgs {
  /** The validated platform configuration of the environment (from `readStackConfig`). */
  readonly config: PlatformConfig;
  /** Directory of the k6 scripts the tests name. */
  readonly scriptsDir: string;
  /** Directory of the Grafana dashboard JSON files to provision (`dashboardsDirOf(rootDir)`). @default - no dashboards */
  readonly dashboardsDir?: string;
  /** Secret values by stack config key (`grafanaAdminPassword`, ...); every key `deploySecrets(config)` names must be present. */
  readonly secrets: Readonly<Record<string, pulumi.Input<string>>>;
  /** Kube context named in the printed commands. @default - kubectl's current context */
  readonly kubeContext?: string;
  /** Helm release timeout for kube-prometheus-stack, in seconds. @default 600 */
  readonly releaseTimeoutSeconds?: number;
}

/**
 * One environment of the k6 platform on a cluster: the namespaces, the Secrets its config references (from secret
 * stack config), kube-prometheus-stack as a Helm Release with the values of `monitoringValues()`, and every other
 * object of the cdk8s app (dashboards, test scripts, runs) as one ConfigGroup per chart, after the Release so the
 * CRDs it installs exist first. Objects are built by constructs/ only; this component declares none by hand except
 * the Secrets, whose values exist nowhere but in secret config.
 */
export class Platform extends pulumi.ComponentResource {
  /** The Pulumi type token. */
  public static readonly __pulumiType = 'k6platform:index:Platform';

  /** The namespaces chart's objects. */
  public readonly namespaces: k8s.yaml.v2.ConfigGroup;
  /** The Secrets created from secret config, by `<namespace>/<name>`. */
  public readonly secrets: ReadonlyMap<string, k8s.core.v1.Secret>;
  /** kube-prometheus-stack. @default - none when `monitoring.enabled` is false */
  public readonly release?: k8s.helm.v3.Release;
  /** One ConfigGroup per remaining non-empty chart, by chart id (`monitoring`, `runnerimage`, `loadtests`, ...). */
  public readonly chartGroups: ReadonlyMap<string, k8s.yaml.v2.ConfigGroup>;
  /** The runner image built and pushed from the operator's machine (`runner.build: local` with extensions). */
  public readonly runnerImageBuild?: RunnerImageBuild;
  /** Grafana's URL (ingress, or in-cluster Service). */
  public readonly grafanaUrl: pulumi.Output<string>;
  /** The command that forwards Grafana to http://localhost:3000. */
  public readonly grafanaPortForwardCommand: pulumi.Output<string>;
  /** Where runners write metrics. */
  public readonly remoteWriteUrl: pulumi.Output<string>;
  /** The platform's namespaces. */
  public readonly namespaceNames: pulumi.Output<{ monitoring: string; loadTests: string }>;
  /** The command that forwards Prometheus to http://localhost:9090 (where `loadtest run` reads progress and verdict). */
  public readonly prometheusPortForwardCommand: pulumi.Output<string>;
  /** The command that starts a run, by test name. */
  public readonly runCommands: pulumi.Output<Record<string, string>>;

  public constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Platform.__pulumiType, name, {}, opts);
    const cfg = args.config;
    // The kps objects come from the Release; never render the chart locally here (that needs helm at deploy time).
    const buildCfg: PlatformConfig = { ...cfg, monitoring: { ...cfg.monitoring, chart: { ...cfg.monitoring.chart, path: undefined } } };
    const { app, charts } = buildEnvironment(buildCfg, args.scriptsDir, '.', args.dashboardsDir);
    const manifests = platformManifests(app, charts);
    const nsManifest = manifests.find((m) => m.id === charts.namespaces.node.id);
    if (nsManifest === undefined) throw new Error(`Platform: the app has no '${charts.namespaces.node.id}' chart`);

    this.namespaces = new k8s.yaml.v2.ConfigGroup(`${name}-${nsManifest.id}`, { objs: [...nsManifest.objects] }, { parent: this });

    const secrets = this.createSecrets(name, args);
    this.secrets = secrets;

    if (cfg.monitoring.enabled) {
      const chart = cfg.monitoring.chart;
      this.release = new k8s.helm.v3.Release(
        `${name}-${cfg.monitoring.releaseName}`,
        {
          name: cfg.monitoring.releaseName,
          chart: chart.path ?? versions.kubePrometheusStack.chart,
          version: chart.version,
          ...(chart.path === undefined ? { repositoryOpts: { repo: chart.repository } } : {}),
          namespace: cfg.namespaces.monitoring,
          createNamespace: false,
          values: monitoringValues(cfg) as unknown as Record<string, unknown>,
          timeout: args.releaseTimeoutSeconds ?? 600,
        },
        { parent: this, dependsOn: [this.namespaces, ...[...secrets.values()]] },
      );
    }

    // With extensions and `runner.build: local`, the image is built and pushed from here (docker-build) before the tests.
    if (cfg.runner.build === 'local' && (cfg.runner.extensions ?? []).length > 0) {
      this.runnerImageBuild = new RunnerImageBuild(`${name}-runner-image`, { config: cfg }, { parent: this });
    }

    const after: pulumi.Resource[] = [this.namespaces, ...secrets.values(), ...(this.release !== undefined ? [this.release] : [])];
    this.chartGroups = this.createChartGroups(name, app, manifests, { namespaces: nsManifest, loadTestsId: charts.loadTests.node.id, after });

    this.grafanaUrl = pulumi.output(grafanaUrl(cfg));
    this.grafanaPortForwardCommand = pulumi.output(grafanaPortForwardCommand(cfg, args.kubeContext));
    this.prometheusPortForwardCommand = pulumi.output(prometheusPortForwardCommand(cfg, args.kubeContext));
    this.remoteWriteUrl = pulumi.output(remoteWriteUrl(cfg));
    this.namespaceNames = pulumi.output({ monitoring: cfg.namespaces.monitoring, loadTests: cfg.namespaces.loadTests });
    this.runCommands = pulumi.output(Object.fromEntries(cfg.tests.map((t) => [t.name, startRunCommand(cfg, t.name, args.kubeContext)])));
    this.registerOutputs({
      grafanaUrl: this.grafanaUrl,
      grafanaPortForwardCommand: this.grafanaPortForwardCommand,
      prometheusPortForwardCommand: this.prometheusPortForwardCommand,
      remoteWriteUrl: this.remoteWriteUrl,
      namespaces: this.namespaceNames,
      runCommands: this.runCommands,
    });
  }

  /** The platform's Secrets, filled from Pulumi secret config (never from the stack file's plain values). */
  private createSecrets(name: string, args: PlatformArgs): Map<string, k8s.core.v1.Secret> {
    const cfg = args.config;
    const secrets = new Map<string, k8s.core.v1.Secret>();
    for (const s of deploySecrets(cfg)) {
      const stringData: Record<string, pulumi.Input<string>> = {};
      for (const e of s.entries) {
        const value = e.configKey !== undefined ? args.secrets[e.configKey] : e.value;
        if (value === undefined)
          throw new Error(`Platform: secret config 'k6platform:${e.configKey}' is missing (Secret '${s.namespace}/${s.name}')`);
        stringData[e.key] = e.configKey !== undefined ? pulumi.secret(value) : value;
      }
      secrets.set(
        `${s.namespace}/${s.name}`,
        new k8s.core.v1.Secret(
          `${name}-${s.namespace}-${s.name}`,
          {
            metadata: { name: s.name, namespace: s.namespace, labels: { ...platformLabels(cfg.environment), [LABELS.managedBy]: 'pulumi' } },
            type: 'Opaque',
            stringData,
          },
          { parent: this, dependsOn: [this.namespaces], additionalSecretOutputs: ['data', 'stringData'] },
        ),
      );
    }
    return secrets;
  }

  /** One ConfigGroup per chart after the namespaces, each after what it depends on (secrets, release, image, charts). */
  private createChartGroups(
    name: string,
    app: App,
    manifests: readonly ChartManifest[],
    deps: { readonly namespaces: ChartManifest; readonly loadTestsId: string; readonly after: readonly pulumi.Resource[] },
  ): Map<string, k8s.yaml.v2.ConfigGroup> {
    const groups = new Map<string, k8s.yaml.v2.ConfigGroup>();
    for (const m of manifests) {
      if (m === deps.namespaces || m.objects.length === 0) continue;
      // The chart's own cdk8s dependencies (e.g. loadtests on the in-cluster runnerimage build) become dependsOn too.
      const chart = app.charts.find((c) => c.node.id === m.id);
      const chartDeps = (chart?.node.dependencies ?? []).flatMap((d) => groups.get(d.node.id) ?? []);
      const imageDeps = m.id === deps.loadTestsId && this.runnerImageBuild !== undefined ? [this.runnerImageBuild] : [];
      groups.set(
        m.id,
        new k8s.yaml.v2.ConfigGroup(
          `${name}-${m.id}`,
          { objs: [...m.objects] },
          { parent: this, dependsOn: [...deps.after, ...chartDeps, ...imageDeps] },
        ),
      );
    }
    return groups;
  }
}
