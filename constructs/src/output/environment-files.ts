import { Yaml, type App, type Chart } from 'cdk8s';
import * as YAML from 'yaml';
import { isRunObject, platformManifests, type ChartManifest, type KubeObject } from '../platform/deploy';
import type { PlatformCharts } from '../platform/platform';
import type { PlatformConfig } from '../config/platform-config';
import { LABELS } from '../contract/labels';
import { GENERATED_HEADER, PLATFORM_DIR, runFile, runFileHeader, VALUES_FILE } from './layout';

/**
 * Every file of one environment's output (`dist/<env>/`, see ./layout.ts), built in memory from each chart's JSON,
 * which is computed once: `Chart.toJson()` resolves and validates the whole app on every call, and the manifests, the
 * Helm bundle, the size check and the object count all read the same objects.
 */

/** One chart's objects as JSON, in the order `cdk8s synth` writes them. */
export interface ChartJson {
  readonly chart: Chart;
  readonly objects: readonly KubeObject[];
}

/** What {@link environmentFiles} builds for one environment. */
export interface EnvironmentFiles {
  /** Every file of `dist/<env>/`, by path relative to it (`/`-separated), with its content. */
  readonly files: ReadonlyMap<string, string>;
  /** Every object of the environment's charts, platform and runs (for the size check and the count). */
  readonly objects: readonly KubeObject[];
  /** The platform manifests (no run object), for the platform's Helm chart. */
  readonly manifests: readonly ChartManifest[];
  /** The serializer of the platform files (each object serialized once, for them and the Helm chart's templates). */
  readonly serialize: (o: KubeObject) => string;
}

/**
 * Each chart's objects, `toJson()` called once per chart, in the order `cdk8s synth` writes the charts. That order is
 * read after the first `toJson()`, which resolves the dependencies between charts (as `App.synth()` does first).
 */
export function chartsJson(app: App): ChartJson[] {
  const json = new Map(app.charts.map((chart) => [chart, chart.toJson() as KubeObject[]]));
  return app.charts.map((chart) => ({ chart, objects: json.get(chart)! }));
}

/** {@link platformManifests} over the JSON of {@link chartsJson}, so no chart is synthesized again. */
export function platformManifestsOf(app: App, charts: Pick<PlatformCharts, 'monitoringStack'>, json: readonly ChartJson[]): ChartManifest[] {
  const byChart = new Map(json.map((c) => [c.chart, c.objects]));
  return platformManifests(app, charts, undefined, (chart) => byChart.get(chart) ?? (chart.toJson() as KubeObject[]));
}

/** Apply order by kind: what pods mount or use first, the Jobs last (the starter after the runners). */
const KIND_ORDER = [
  'ServiceAccount',
  'ConfigMap',
  'Secret',
  'Role',
  'RoleBinding',
  'Service',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'TestRun',
  'Job',
];

/** Sorts objects for applying: by kind (`KIND_ORDER`), then runner Jobs before others, stable otherwise. */
export function applyOrder<T extends KubeObject>(objects: readonly T[]): T[] {
  const rank = (o: T) => {
    const k = KIND_ORDER.indexOf(o.kind);
    return (k === -1 ? KIND_ORDER.length : k) * 2 + (o.kind === 'Job' && labelsOf(o)[LABELS.component] !== 'runner' ? 1 : 0);
  };
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map((x) => x.o);
}

/**
 * The objects of one run of each test (those with the run-id label, see `isRunObject`), by test name in config order,
 * each in apply order. Every run object must name a test of the config.
 */
export function runObjectsByTest(config: PlatformConfig, objects: readonly KubeObject[]): Map<string, KubeObject[]> {
  const byTest = new Map(config.tests.map((t) => [t.name, [] as KubeObject[]]));
  for (const o of objects.filter((x) => isRunObject(x))) {
    const test = labelsOf(o)[LABELS.test];
    const list = test !== undefined ? byTest.get(test) : undefined;
    if (list === undefined) {
      throw new Error(
        `synth: '${o.kind}/${o.metadata.name ?? '?'}' carries the run-id label but its '${LABELS.test}' label is ${JSON.stringify(test)}, not a test of environment '${config.environment}' (${config.tests.map((t) => t.name).join(', ')})`,
      );
    }
    list.push(o);
  }
  return new Map([...byTest].map(([name, list]) => [name, applyOrder(list)]));
}

/**
 * Builds every file of `dist/<env>/`: under `platform/`, each chart's manifest file without the objects of a run
 * (serialized exactly as `cdk8s synth` writes it) and the kube-prometheus-stack values; under `runs/`,
 * one file per test with the objects of its run, headed by what it is.
 */
export function environmentFiles(config: PlatformConfig, app: App, charts: PlatformCharts): EnvironmentFiles {
  const json = chartsJson(app);
  const manifests = platformManifestsOf(app, charts, json);
  const files = new Map<string, string>();
  // Each platform object is serialized once, exactly as `cdk8s synth` writes a document (Yaml.stringify joins its
  // documents with `---`); the same serializer writes the Helm chart's templates (synth.ts).
  const serialized = new Map<KubeObject, string>();
  const serialize = (o: KubeObject): string => {
    let text = serialized.get(o);
    if (text === undefined) serialized.set(o, (text = Yaml.stringify(o)));
    return text;
  };
  for (const { chart, objects } of json) {
    const { fileName } = manifests.find((m) => m.id === chart.node.id)!;
    files.set(
      `${PLATFORM_DIR}/${fileName}`,
      objects
        .filter((o) => !isRunObject(o))
        .map(serialize)
        .join('---\n'),
    );
  }
  files.set(`${PLATFORM_DIR}/${VALUES_FILE}`, GENERATED_HEADER + YAML.stringify(charts.monitoringStack.values, { lineWidth: 0 }));
  const objects = json.flatMap((c) => c.objects);
  for (const [name, runObjects] of runObjectsByTest(config, objects)) {
    const test = config.tests.find((t) => t.name === name)!;
    const runId = charts.runs.get(name)?.runId ?? labelsOf(runObjects[0])[LABELS.runId] ?? '?';
    files.set(runFile(name), runFileHeader(config, test, runId) + Yaml.stringify(...runObjects));
  }
  return { files, objects, manifests, serialize };
}

function labelsOf(o: KubeObject | undefined): Readonly<Record<string, string | undefined>> {
  return ((o?.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {}) as Readonly<Record<string, string | undefined>>;
}
