import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Dashboards } from './grafana-dashboards';
import { platformLabels } from './labels';
import { LoadTest } from './load-test';
import { MonitoringStack, PROMETHEUS_PORT, remoteWriteUrl } from './monitoring-stack';
import { DefaultDenyPolicy } from './network-policies';
import type { PlatformConfig } from './platform-config';
import { RunnerImage, runnerImagePropsFromConfig } from './runner-image';
import { TestScripts } from './test-scripts';
import { versions } from './versions';

/**
 * Pod Security labels of the monitoring namespace. kube-prometheus-stack cannot meet "restricted" there:
 * prometheus-node-exporter (subchart 4.56.1) runs with hostNetwork, hostPID, hostPort 9100 and hostPath mounts of /,
 * /proc and /sys to read the node's metrics, which only "privileged" allows; Grafana with persistence runs its
 * init-chown-data container as root with CHOWN and DAC_OVERRIDE (grafana 12.11.1 `initChownData`), which is "baseline".
 * So the namespace enforces "privileged", and audits against "restricted" and warns against "baseline" so that every
 * exception stays visible. The restricted profile is enforced where the platform's own pods run (load-test namespace).
 */
export const MONITORING_POD_SECURITY_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'privileged',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/audit-version': 'latest',
  'pod-security.kubernetes.io/warn': 'baseline',
  'pod-security.kubernetes.io/warn-version': 'latest',
};

/** Props of {@link buildPlatform}. */
export interface PlatformProps {
  /** The parsed configuration of the environment. */
  readonly config: PlatformConfig;
  /** Directory of the k6 scripts the tests name. */
  readonly scriptsDir: string;
  /**
   * Directory of the generated dashboard JSON files (`npm run dashboards`), provisioned as ConfigMaps in the monitoring
   * chart; must exist when given.
   * @default - `<parent of scriptsDir>/dashboards/generated` when that directory exists, else no dashboards
   */
  readonly dashboardsDir?: string;
}

/** The charts of one environment, in deploy order. */
export interface PlatformCharts {
  /** The platform's namespaces. */
  readonly namespaces: Chart;
  /** kube-prometheus-stack (values; rendered when a chart is at hand) and dashboards. */
  readonly monitoring: Chart;
  /** Test scripts and test runs. */
  readonly loadTests: Chart;
  /** The monitoring construct (remote-write URL, values). */
  readonly monitoringStack: MonitoringStack;
  /** Script bundles by test name. */
  readonly scripts: ReadonlyMap<string, TestScripts>;
  /** The distributed run of each test, by test name. */
  readonly runs: ReadonlyMap<string, LoadTest>;
  /** The Grafana dashboard ConfigMaps (absent when no dashboards directory exists). */
  readonly dashboards?: Dashboards;
  /** The runner image: `runnerImage.imageRef` is THE image every LoadTest runner uses. */
  readonly runnerImage: RunnerImage;
  /** The in-cluster build of the runner image (only with extensions and `runner.build: in-cluster`); `loadTests` depends on it. */
  readonly runnerImageBuild?: Chart;
}

/**
 * Builds every chart of one environment into `scope` (an App). The single composition used by `cdk8s synth`, the Helm
 * bundle and Pulumi, so they deploy exactly the same objects.
 */
export function buildPlatform(scope: Construct, props: PlatformProps): PlatformCharts {
  const cfg = props.config;
  const labels = platformLabels(cfg.environment);

  const namespaces = new Chart(scope, 'namespaces', { labels, disableResourceNameHashes: true });
  // With monitoring off the monitoring namespace belongs to the existing stack: it is used (dashboards), not created.
  if (cfg.monitoring.enabled) {
    new kplus.Namespace(namespaces, 'Monitoring', { metadata: { name: cfg.namespaces.monitoring, labels: MONITORING_POD_SECURITY_LABELS } });
  }
  new kplus.Namespace(namespaces, 'LoadTests', {
    metadata: {
      name: cfg.namespaces.loadTests,
      // Everything in the load-test namespace must meet the restricted Pod Security Standard.
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  });

  const monitoring = new Chart(scope, 'monitoring', { labels, namespace: cfg.namespaces.monitoring });
  monitoring.addDependency(namespaces);
  const monitoringStack = new MonitoringStack(monitoring, 'Stack', { config: cfg });
  const defaultDashboardsDir = path.join(path.dirname(path.resolve(props.scriptsDir)), 'dashboards', 'generated');
  const dashboardsDir = props.dashboardsDir ?? (existsSync(defaultDashboardsDir) ? defaultDashboardsDir : undefined);
  const dashboards =
    dashboardsDir !== undefined
      ? new Dashboards(monitoring, 'Dashboards', { directory: dashboardsDir, variableDefaults: { runner_namespace: cfg.namespaces.loadTests } })
      : undefined;

  const loadTests = new Chart(scope, 'loadtests', { labels, namespace: cfg.namespaces.loadTests });
  loadTests.addDependency(namespaces);
  // Anything the platform does not declare is closed in the load-test namespace: each run's policies open exactly
  // what its runners, starter and initializer need (DNS, Prometheus, targets, the k6 REST API).
  new DefaultDenyPolicy(loadTests, 'DefaultDeny', { namespace: cfg.namespaces.loadTests });
  // Runner image (issue 7): the official image, or (with extensions) one built in its own namespace and chart, which
  // the runs depend on (kubectl: apply it first and `kubectl wait --for=condition=complete job/<buildJobName>`).
  const runnerImageProps = runnerImagePropsFromConfig(cfg);
  const runnerImageBuild =
    (runnerImageProps.extensions ?? []).length > 0 && runnerImageProps.build === 'in-cluster'
      ? new Chart(scope, 'runnerimage', { labels })
      : undefined;
  runnerImageBuild?.addDependency(namespaces);
  if (runnerImageBuild) loadTests.addDependency(runnerImageBuild);
  const runnerImage = new RunnerImage(runnerImageBuild ?? loadTests, 'RunnerImage', runnerImageProps);

  const scripts = new Map<string, TestScripts>();
  for (const test of cfg.tests) {
    scripts.set(
      test.name,
      new TestScripts(loadTests, `Scripts-${test.name}`, { testName: test.name, entry: test.script, scriptsDir: props.scriptsDir }),
    );
  }

  // One distributed run per test (LoadTest): Indexed runner Job + starter (mode "jobs", or a CronJob with a schedule),
  // or a k6-operator TestRun (mode "operator").
  const runs = new Map<string, LoadTest>();
  for (const test of cfg.tests) {
    runs.set(
      test.name,
      new LoadTest(loadTests, `Run-${test.name}`, {
        test,
        scripts: scripts.get(test.name)!,
        remoteWriteUrl: remoteWriteUrl(cfg),
        image: runnerImage.imageRef,
        runner: cfg.runner,
        network: cfg.network,
        ...(cfg.runner.imageDigests.starter !== undefined ? { starterImage: `${versions.starterImage}@${cfg.runner.imageDigests.starter}` } : {}),
        // Prometheus pods (prometheus-operator labels) in the monitoring namespace; an external endpoint needs a target.
        ...(cfg.monitoring.enabled && cfg.monitoring.remoteWriteUrl === undefined
          ? { prometheus: { namespace: cfg.namespaces.monitoring, podLabels: { 'app.kubernetes.io/name': 'prometheus' }, port: PROMETHEUS_PORT } }
          : {}),
      }),
    );
  }

  return {
    namespaces,
    monitoring,
    loadTests,
    monitoringStack,
    scripts,
    runs,
    runnerImage,
    ...(runnerImageBuild ? { runnerImageBuild } : {}),
    ...(dashboards ? { dashboards } : {}),
  };
}

/** A fresh App for one environment, not writing anywhere until asked. */
export function newEnvironmentApp(outdir: string): App {
  return new App({ outdir, outputFileExtension: '.k8s.yaml' });
}
