/**
 * The platform deployed into a cluster that already runs Prometheus and Grafana: monitoring is off, runners write to
 * the existing Prometheus's remote-write URL, and every cdk8s chart of LoadTestPlatform becomes one
 * `k8s.yaml.v2.ConfigGroup` (in deploy order: each group depends on the one before). Deploying never starts a load
 * test: `manifests()` holds no run; each test's run is a stack output, applied with kubectl to start it.
 */
import * as path from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { App } from 'cdk8s';
import { LABELS, LoadTestPlatform, type KubeObject } from '@k6-platform/constructs';

const config = new pulumi.Config();
/** Remote-write URL of the cluster's existing Prometheus (started with `--web.enable-remote-write-receiver`). */
const remoteWriteUrl = config.require('remoteWriteUrl');
/** Namespace of the existing monitoring stack (the dashboards ConfigMaps go there). */
const monitoringNamespace = config.get('monitoringNamespace') ?? 'monitoring';

const app = new App();
export const platform = new LoadTestPlatform(app, 'LoadTests', {
  environment: pulumi.getStack(),
  scriptsDir: path.join(__dirname, 'scripts'),
  namespaces: { monitoring: monitoringNamespace, loadTests: 'loadtests' },
  monitoring: { enabled: false, remoteWriteUrl },
  tests: [{ name: 'smoke', script: 'smoke.js', parallelism: 2, duration: '1m', targets: [{ cidr: '0.0.0.0/0', ports: [443] }] }],
});

/** One ConfigGroup per chart (charts without objects are skipped), each after the previous one. */
export const configGroups: k8s.yaml.v2.ConfigGroup[] = [];
for (const chart of platform.manifests()) {
  if (chart.objects.length === 0) continue;
  const previous = configGroups[configGroups.length - 1];
  configGroups.push(
    new k8s.yaml.v2.ConfigGroup(
      `${pulumi.getStack()}-${chart.id}`,
      { objs: [...chart.objects] },
      previous !== undefined ? { dependsOn: [previous] } : {},
    ),
  );
}

/**
 * The objects of one run of each test, by test name (`platform.charts.runs` holds its LoadTest): not deployed, since
 * applying them starts the run.
 */
export const runObjects: Record<string, KubeObject[]> = Object.fromEntries(
  [...platform.charts.runs].map(([name, run]) => [
    name,
    (platform.charts.loadTests.toJson() as KubeObject[]).filter(
      (o) => (o.metadata.labels as Record<string, string> | undefined)?.[LABELS.runId] === run.runId,
    ),
  ]),
);
