import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { KubeObject } from './deploy';
import type { MonitoringStack } from '../monitoring/monitoring-stack';
import { buildPlatform, type PlatformCharts } from './platform';
import { parsePlatformConfig, PlatformConfigError, type PlatformConfig, type PlatformConfigInput, type testSchema } from '../config/platform-config';
import type { RunnerImage } from '../runner-image/runner-image';
import type { TestScripts } from '../load-test/test-scripts';

/** One load test as a caller writes it: a k6 script under `scriptsDir` and how to run it (defaults as in the platform config). */
export type LoadTestSpec = z.input<typeof testSchema>;
/** Namespaces of the platform as a caller writes them. */
export type NamespacesInput = NonNullable<PlatformConfigInput['namespaces']>;
/** Monitoring settings as a caller writes them. */
export type MonitoringInput = NonNullable<PlatformConfigInput['monitoring']>;
/** Runner settings (image, resources, remote-write options) as a caller writes them. */
export type RunnerInput = NonNullable<PlatformConfigInput['runner']>;

/** Stands in for a missing remote-write URL while the conflict is reported; never synthesized (validation fails first). */
const MISSING_REMOTE_WRITE_URL = 'http://remote-write-url.invalid/api/v1/write';

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
  return candidates.find((d) => existsSync(d) && statSync(d).isDirectory());
}

/**
 * The composite: monitoring (kube-prometheus-stack values, or an existing Prometheus), dashboards, the runner image and
 * any number of load tests, assembled from ONE props object into cdk8s charts under this construct. It composes the
 * same parts as `cdk8s synth` of this repository ({@link buildPlatform}); each part ({@link MonitoringStack},
 * {@link TestScripts}, {@link RunnerImage}, the load test construct) is also usable on its own.
 *
 * A single bad value throws at once with every bad field listed. Props that conflict with each other (monitoring off
 * and no remote-write URL, a missing script, duplicate test names, more one-per-node runners than `nodeCount`) are
 * collected with `node.addValidation` and reported together when the app is synthesized (or {@link LoadTestPlatform.manifests} is
 * called), each naming the prop.
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
    const { conflicts, kept, keptIndex, monitoring, missingUrl } = checkProps(props);

    try {
      this.config = parsePlatformConfig(
        {
          ...(props.environment !== undefined ? { environment: props.environment } : {}),
          ...(props.namespaces !== undefined ? { namespaces: props.namespaces } : {}),
          monitoring: missingUrl ? { ...monitoring, remoteWriteUrl: MISSING_REMOTE_WRITE_URL } : monitoring,
          ...(props.runner !== undefined ? { runner: props.runner } : {}),
          tests: kept,
        },
        { description: 'LoadTestPlatform props' },
      );
    } catch (e) {
      if (!(e instanceof PlatformConfigError)) throw e;
      // Name tests by their index in props.tests (conflicting tests were left out), and report the conflicts too.
      const renumbered = e.problems.map((p) => p.replace(/'tests\[(\d+)\]/g, (_, j: string) => `'tests[${keptIndex[Number(j)] ?? Number(j)}]`));
      throw new PlatformConfigError([...renumbered, ...conflicts.map((c) => c.replace(/^LoadTestPlatform: /, ''))], 'LoadTestPlatform props');
    }

    if (props.nodeCount !== undefined) {
      if (!Number.isInteger(props.nodeCount) || props.nodeCount < 1) {
        throw new Error(`LoadTestPlatform: 'nodeCount' must be an integer of at least 1, got ${props.nodeCount}`);
      }
      this.config.tests.forEach((t, j) => {
        const i = keptIndex[j] ?? j;
        if (t.onePerNode && t.parallelism > (props.nodeCount ?? 0)) {
          conflicts.push(
            `LoadTestPlatform: 'tests[${i}].parallelism' is ${t.parallelism} with 'tests[${i}].onePerNode' (one runner per node), above 'nodeCount' ${props.nodeCount}: ` +
              `lower the parallelism to at most ${props.nodeCount}, add nodes, or turn onePerNode off`,
          );
        }
      });
    }
    this.node.addValidation({ validate: () => [...conflicts] });

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
   * The objects of every chart of this platform, in deploy order, for deployment tools that take objects (Pulumi's
   * `k8s.yaml.v2.ConfigGroup` `objs`). Runs this construct's validations first and throws with all problems, as
   * `app.synth()` does.
   */
  public manifests(): PlatformManifest[] {
    const errors = this.node.findAll().flatMap((c) => c.node.validate().map((e) => `[${c.node.path}] ${e}`));
    if (errors.length > 0) throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
    const charts = this.node.findAll().filter((c): c is Chart => Chart.isChart(c));
    return sortByDependencies(charts).map((chart) => ({ id: chart.node.id, objects: chart.toJson() as KubeObject[] }));
  }
}

/** The objects of one chart of a {@link LoadTestPlatform}. */
export interface PlatformManifest {
  /** The chart's construct id (`namespaces`, `monitoring`, `loadtests`, ...). */
  readonly id: string;
  /** The chart's objects as plain JSON. */
  readonly objects: readonly KubeObject[];
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

/** Charts with the charts they depend on first (stable otherwise). */
function sortByDependencies(charts: readonly Chart[]): Chart[] {
  const out: Chart[] = [];
  const visit = (c: Chart, seen: Set<Chart>) => {
    if (out.includes(c) || seen.has(c)) return;
    seen.add(c);
    for (const d of c.node.dependencies) if (Chart.isChart(d) && charts.includes(d)) visit(d, seen);
    out.push(c);
  };
  for (const c of charts) visit(c, new Set());
  return out;
}

/**
 * The props' own problems before the schema sees them: the scripts folder and files (filesystem) and duplicate test
 * names; tests that conflict are left out of the build (their objects could not be made) and reported by validation.
 */
function checkProps(props: LoadTestPlatformProps): {
  conflicts: string[];
  kept: LoadTestSpec[];
  keptIndex: number[];
  monitoring: MonitoringInput;
  missingUrl: boolean;
} {
  const conflicts: string[] = [];
  const tests = props.tests ?? [];
  const scriptsDirOk = existsSync(props.scriptsDir) && statSync(props.scriptsDir).isDirectory();
  if (!scriptsDirOk)
    conflicts.push(`LoadTestPlatform: 'scriptsDir' ${props.scriptsDir} is not a directory; point it at the folder holding the k6 scripts`);

  // Tests that conflict are left out of the build (their objects could not be made); the validation fails synth.
  const kept: LoadTestSpec[] = [];
  const keptIndex: number[] = [];
  const firstByName = new Map<string, number>();
  tests.forEach((t, i) => {
    let build = true;
    const first = firstByName.get(t.name);
    if (first !== undefined) {
      conflicts.push(
        `LoadTestPlatform: 'tests[${i}].name' ${JSON.stringify(t.name)} is already used by 'tests[${first}]'; test names must be unique`,
      );
      build = false;
    } else firstByName.set(t.name, i);
    if (scriptsDirOk && !isFile(path.resolve(props.scriptsDir, t.script))) {
      conflicts.push(
        `LoadTestPlatform: 'tests[${i}].script' ${JSON.stringify(t.script)} does not exist in 'scriptsDir' ${props.scriptsDir} (looked for ${path.resolve(props.scriptsDir, t.script)})`,
      );
      build = false;
    }
    if (!scriptsDirOk) build = false;
    if (build) {
      kept.push(t);
      keptIndex.push(i);
    }
  });
  const monitoring = props.monitoring ?? {};
  const missingUrl = monitoring.enabled === false && monitoring.remoteWriteUrl === undefined;
  if (missingUrl) {
    conflicts.push(
      `LoadTestPlatform: 'monitoring.remoteWriteUrl' must be set when 'monitoring.enabled' is false: runners need an existing Prometheus to write to (its /api/v1/write URL)`,
    );
  }
  return { conflicts, kept, keptIndex, monitoring, missingUrl };
}
