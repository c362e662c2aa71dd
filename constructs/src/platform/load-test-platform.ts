import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { Construct } from 'constructs';
import { z } from 'zod';
import { platformManifests, type ChartManifest } from './deploy';
import type { MonitoringStack } from '../monitoring/monitoring-stack';
import { buildPlatform, scriptFileProblems, type PlatformCharts } from './platform';
import {
  describeIssues,
  platformConfigSchema,
  PlatformConfigError,
  testSchema,
  type PlatformConfig,
  type PlatformConfigInput,
  type TestConfig,
  type TestInput,
} from '../config/platform-config';
import type { RunnerImage } from '../runner-image/runner-image';
import type { TestScripts } from '../load-test/test-scripts';

/** One load test as a caller writes it: a k6 script under `scriptsDir` and how to run it (defaults as in the platform config). */
export type LoadTestSpec = TestInput;
/** Namespaces of the platform as a caller writes them. */
export type NamespacesInput = NonNullable<PlatformConfigInput['namespaces']>;
/** Monitoring settings as a caller writes them. */
export type MonitoringInput = NonNullable<PlatformConfigInput['monitoring']>;
/** Runner settings (image, resources, remote-write options) as a caller writes them. */
export type RunnerInput = NonNullable<PlatformConfigInput['runner']>;
/** The cluster's network facts (its pod/service ranges, the DNS pods) as a caller writes them. */
export type NetworkInput = NonNullable<PlatformConfigInput['network']>;

/** Props of {@link LoadTestPlatform}: the whole platform of one environment from one object. */
export interface LoadTestPlatformProps {
  /** Directory holding the k6 scripts the tests name (each test's `script` is relative to it). */
  readonly scriptsDir: string;
  /**
   * Environment name: label value of every object.
   * @default "dev"
   */
  readonly environment?: string;
  /**
   * Namespaces of monitoring (kube-prometheus-stack, dashboards) and of the load tests.
   * @default - "monitoring" and "k6"
   */
  readonly namespaces?: NamespacesInput;
  /**
   * Monitoring: kube-prometheus-stack values, or (with `enabled: false`) an existing Prometheus at `remoteWriteUrl`.
   * @default - kube-prometheus-stack deployed with the pinned chart and the platform defaults
   */
  readonly monitoring?: MonitoringInput;
  /**
   * Runner defaults of every test: image (or xk6 extensions to build one), resources, remote-write options.
   * @default - the pinned official k6 image with the platform's default resources
   */
  readonly runner?: RunnerInput;
  /**
   * The cluster's network facts the NetworkPolicies need: its pod and service ranges (kept out of test targets' IP
   * blocks) and where the DNS pods run.
   * @default - the ranges and DNS pods of the platform config's defaults
   */
  readonly network?: NetworkInput;
  /**
   * The load tests, any number; names must be unique and each `script` must exist under `scriptsDir`.
   * @default - no tests
   */
  readonly tests?: readonly LoadTestSpec[];
  /**
   * Number of nodes runners can be scheduled on. When set, a test with `onePerNode` may not ask for more runners
   * than there are nodes (its pods would stay Pending).
   * @default - not checked
   */
  readonly nodeCount?: number;
  /**
   * Directory of Grafana dashboard JSON files provisioned as ConfigMaps for the Grafana sidecar (in the monitoring
   * namespace, also when `monitoring.enabled` is false: point the existing Grafana's sidecar at them).
   * @default - the platform's dashboards shipped with this package ({@link bundledDashboardsDir})
   */
  readonly dashboardsDir?: string;
}

/**
 * The directory of the platform's generated dashboards: `lib/dashboards/` inside the published package, or
 * `dashboards/generated/` when running from the repository sources. `undefined` when neither exists.
 */
export function bundledDashboardsDir(): string | undefined {
  const candidates = [path.join(__dirname, '..', 'dashboards'), path.join(__dirname, '..', '..', '..', 'dashboards', 'generated')];
  return candidates.find((d) => isDirectory(d));
}

/**
 * The composite: monitoring (kube-prometheus-stack values, or an existing Prometheus), dashboards, the runner image and
 * any number of load tests, assembled from ONE props object into cdk8s charts under this construct. It is built by the
 * composition `cdk8s synth`, the Helm bundle, Pulumi and the CLI use ({@link buildPlatform}), from the props parsed by
 * the same schema as a stack file (`platformConfigSchema`); it adds only what needs the filesystem (the scripts
 * directory, each test's script file, the dashboards directory) and the `nodeCount` check. Each part
 * ({@link MonitoringStack}, {@link TestScripts}, {@link RunnerImage}, the load test construct) is also usable on its own.
 *
 * Bad props throw ONE {@link PlatformConfigError} at construction with every problem, each naming the prop as typed
 * (`'tests[1].name'`, `'monitoring.remoteWriteUrl'`, `'scriptsDir'`, `'nodeCount'`): bad values and the schema's rules
 * across fields (duplicate test names, monitoring off without a remote-write URL), a missing scripts directory or
 * script, and more one-per-node runners than `nodeCount`.
 *
 * @example
 * const app = new App();
 * const platform = new LoadTestPlatform(app, 'Platform', {
 *   scriptsDir: path.join(__dirname, 'scripts'),
 *   tests: [{ name: 'checkout', script: 'checkout.js', parallelism: 4, thresholds: { http_req_failed: ['rate<0.01'] } }],
 * });
 * app.synth();
 */
export class LoadTestPlatform extends Construct {
  /** The parsed, defaulted configuration the parts were built from. */
  public readonly config: PlatformConfig;
  /** The charts: namespaces, monitoring, load tests (and the runner image build when there is one). */
  public readonly charts: PlatformCharts;
  /** The monitoring construct (kube-prometheus-stack values, remote-write URL). */
  public readonly monitoringStack: MonitoringStack;
  /** Where runners send their metrics. */
  public readonly remoteWriteUrl: string;
  /** The runner image every load test uses. */
  public readonly runnerImage: RunnerImage;
  /** Script bundles by test name. */
  public readonly scripts: ReadonlyMap<string, TestScripts>;

  public constructor(scope: Construct, id: string, props: LoadTestPlatformProps) {
    super(scope, id);
    this.config = checkedConfig(props);
    const dashboardsDir = props.dashboardsDir ?? bundledDashboardsDir();
    this.charts = buildPlatform(this, {
      config: this.config,
      scriptsDir: props.scriptsDir,
      ...(dashboardsDir !== undefined ? { dashboardsDir } : {}),
    });
    this.monitoringStack = this.charts.monitoringStack;
    this.remoteWriteUrl = this.monitoringStack.remoteWriteUrl;
    this.runnerImage = this.charts.runnerImage;
    this.scripts = this.charts.scripts;
  }

  /**
   * The platform's objects, chart by chart in deploy order ({@link platformManifests}, as Pulumi and the Helm bundle
   * deploy them), for deployment tools that take objects (Pulumi's `k8s.yaml.v2.ConfigGroup` `objs`). Without
   * kube-prometheus-stack's Helm-rendered objects (Helm deploys those) and without the objects of a run: deploying the
   * platform never starts a load test. A run's objects: `platform.charts.runs.get('<test>')` is its LoadTest (with
   * `runId`, `runnerJob`, `service`, `configMap`, `testRun`, `stopJobManifest()`), and its objects are those of
   * `platform.charts.loadTests.toJson()` labelled with its run id (`LABELS.runId`); `loadtest run` applies them with a
   * fresh run id. Runs the validations of the constructs in it first, as `app.synth()` does.
   */
  public manifests(): ChartManifest[] {
    const errors = this.node.findAll().flatMap((c) => c.node.validate().map((e) => `[${c.node.path}] ${e}`));
    if (errors.length > 0) throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
    return platformManifests(App.of(this), this.charts, this);
  }
}

/**
 * The objects of one chart of a {@link LoadTestPlatform}.
 * @deprecated use ChartManifest (what {@link LoadTestPlatform.manifests} returns)
 */
export type PlatformManifest = ChartManifest;

/** What `nodeCount` may be. */
const nodeCountRule = z.strictObject({
  nodeCount: z
    .number({ error: 'must be an integer of at least 1' })
    .int({ error: 'must be an integer of at least 1' })
    .min(1, { error: 'must be an integer of at least 1' })
    .optional(),
});

/**
 * The props parsed by the platform config schema, or ONE {@link PlatformConfigError} with every problem: the schema's
 * (every test given to it, so `tests[i]` is the index in `props.tests`), the filesystem's and `nodeCount`'s.
 */
function checkedConfig(props: LoadTestPlatformProps): PlatformConfig {
  const parsed = platformConfigSchema.safeParse(
    // No default tests (the schema's sample test is for a stack file without any): an empty list unless given.
    {
      environment: props.environment,
      namespaces: props.namespaces,
      monitoring: props.monitoring,
      runner: props.runner,
      network: props.network,
      tests: props.tests ?? [],
    },
    { reportInput: true },
  );
  const problems = parsed.success ? [] : describeIssues(parsed.error);
  // Not an array (from JavaScript): the schema reports it, nothing to look for on disk.
  const tests: readonly LoadTestSpec[] = Array.isArray(props.tests) ? props.tests : [];
  problems.push(...scriptFileProblems(props.scriptsDir, tests));
  if (props.dashboardsDir !== undefined && !isDirectory(props.dashboardsDir)) {
    problems.push(`'dashboardsDir' ${props.dashboardsDir} is not a directory; point it at the folder of Grafana dashboard JSON files`);
  }
  problems.push(...nodeCountProblems(props.nodeCount, parsed.success ? parsed.data.tests : tests.map((t) => testSchema.safeParse(t).data)));
  if (problems.length > 0 || !parsed.success) throw new PlatformConfigError(problems, 'LoadTestPlatform props');
  return parsed.data;
}

/**
 * `nodeCount` itself, and each test with `onePerNode` asking for more runners than there are nodes (the others would
 * stay Pending). `tests` are the parsed ones, or (when the config has problems) each test that parses on its own.
 */
function nodeCountProblems(nodeCount: unknown, tests: readonly (TestConfig | undefined)[]): string[] {
  const checked = nodeCountRule.safeParse({ nodeCount }, { reportInput: true });
  if (!checked.success) return describeIssues(checked.error);
  const nodes = checked.data.nodeCount;
  if (nodes === undefined) return [];
  return tests.flatMap((t, i) =>
    t !== undefined && t.onePerNode && t.parallelism > nodes
      ? [
          `'tests[${i}].parallelism' must be at most 'nodeCount' (${nodes}) with 'tests[${i}].onePerNode' (one runner per node), got ${t.parallelism}: ` +
            'lower the parallelism, add nodes, or turn onePerNode off',
        ]
      : [],
  );
}

function isDirectory(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}
