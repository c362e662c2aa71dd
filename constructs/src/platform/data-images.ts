import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { PlatformConfigError, type PlatformConfig } from '../config/platform-config';
import { versions } from '../contract/versions';
import type { TestScripts } from '../load-test/test-scripts';
import { DataImage } from '../runner-image/data-image';
import { resolveRunnerImage, runnerImagePropsFromConfig, withDigest } from '../runner-image/runner-image';

/** The data images of an environment and the chart building them. */
export interface DataImages {
  /** Data image by test name (tests with `data.mode` "image" and files that need it). */
  readonly images: ReadonlyMap<string, DataImage>;
  /** The build chart: the runner image's when it is built in-cluster, else a new one (none without data images). */
  readonly chart?: Chart;
}

/** Where the charts go and what they depend on. */
export interface DataImageCharts {
  readonly labels: Record<string, string>;
  readonly namespaces: Chart;
  readonly loadTests: Chart;
  /** The runner image's build chart, if it has one (it then holds the build's ServiceAccount and NetworkPolicy). */
  readonly runnerImageBuild?: Chart;
}

/**
 * One {@link DataImage} per test with `data.mode` "image" whose bundle has files too large for a ConfigMap, built in
 * the build chart, which the load tests depend on (the images exist before a run pulls them). Each is built FROM the
 * runner's k6 image (an explicit `runner.image`, or the pinned official one: a build with extensions is not there yet
 * when the data image is built). Needs `runner.registry`, `runner.repository` and `runner.pushSecret`, and an
 * in-cluster build: every problem is reported at once, naming the fields.
 */
export function dataImagesOf(scope: Construct, cfg: PlatformConfig, scripts: ReadonlyMap<string, TestScripts>, charts: DataImageCharts): DataImages {
  const wanted = cfg.tests.flatMap((t, i) => (t.data?.mode === 'image' && scripts.get(t.name)!.dataFiles.length > 0 ? [{ t, i }] : []));
  if (wanted.length === 0) return { images: new Map() };
  const r = cfg.runner;
  const missing = (['registry', 'repository', 'pushSecret'] as const).filter((k) => r[k] === undefined);
  const problems = wanted.flatMap(({ i }) => [
    ...(missing.length > 0
      ? [
          `'tests[${i}].data.mode' image needs ${missing.map((k) => `'runner.${k}'`).join(', ')}: where the data image is pushed and with which credentials`,
        ]
      : []),
    ...(r.build !== 'in-cluster'
      ? [`'tests[${i}].data.mode' image needs 'runner.build' "in-cluster", got "${r.build}" (data images are built in the cluster)`]
      : []),
  ]);
  if (problems.length > 0) throw new PlatformConfigError(problems, `data images of environment "${cfg.environment}"`);

  let chart = charts.runnerImageBuild;
  if (chart === undefined) {
    chart = new Chart(scope, 'runnerimage', { labels: charts.labels });
    chart.addDependency(charts.namespaces);
    charts.loadTests.addDependency(chart);
  }
  const build = runnerImagePropsFromConfig(cfg);
  const baseImage = r.extensions.length === 0 ? resolveRunnerImage(cfg) : withDigest(`${versions.k6Image}:${r.k6Version}`, r.imageDigests.k6);
  const images = new Map<string, DataImage>();
  wanted.forEach(({ t }, n) => {
    const files = scripts.get(t.name)!.dataFiles;
    // The first build in the chart makes the namespace's ServiceAccount and NetworkPolicy (the runner image's, if built).
    const createSupport = charts.runnerImageBuild === undefined && n === 0;
    images.set(
      t.name,
      new DataImage(chart, `DataImage-${t.name}`, {
        testName: t.name,
        files,
        baseImage,
        build: { ...build, createNamespace: createSupport && (build.createNamespace ?? true) },
        createSupport,
      }),
    );
  });
  return { images, chart };
}
