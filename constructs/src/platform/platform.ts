import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Dashboards } from '../monitoring/grafana-dashboards';
import { platformLabels } from '../contract/labels';
import { LoadTest, type RunShard } from '../load-test/load-test';
import { MonitoringStack, remoteWriteUrl } from '../monitoring/monitoring-stack';
import { RecordingRules } from '../monitoring/recording-rules';
import { DefaultDenyPolicy } from '../network/network-policies';
import { PlatformConfigError, type PlatformConfig } from '../config/platform-config';
import { extensionJsModule, RunnerImage, runnerImagePropsFromConfig } from '../runner-image/runner-image';
import { TestScripts } from '../load-test/test-scripts';
import { BROWSER_MODULE } from '../load-test/browser';
import { browserImageProblem, testRunnerImage } from './browser-image';
import { versions } from '../contract/versions';
import { PROMETHEUS_PORT } from '../contract/prometheus';
import type { DataImage } from '../runner-image/data-image';
import { dataImagesOf } from './data-images';
import { resolveBackend } from '../backend/backend';

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
   * @default - no dashboards (a repository's are found by `dashboardsDirOf` of `@k6-platform/constructs/output`)
   */
  readonly dashboardsDir?: string;
  /**
   * Per test name: this cluster's part of a run of that test over several clusters (`loadtest run --context a
   * --context b`, docs/multi-cluster.md). @default - none: every run is whole in one cluster
   */
  readonly shards?: ReadonlyMap<string, RunShard>;
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
  /** The recording rules of the dashboards (with the stack deployed and `monitoring.recordingRules.enabled`). */
  readonly recordingRules?: RecordingRules;
  /**
   * The runner image: `runnerImage.imageRef` is the image every LoadTest runner uses, but those of tests importing
   * `k6/browser` without an explicit `runner.image` (they run the official image with Chromium: `LoadTest.image`).
   */
  readonly runnerImage: RunnerImage;
  /** The in-cluster builds: of the runner image (extensions, `runner.build: in-cluster`) and of data images (`tests[].data.mode` image); `loadTests` depends on it. */
  readonly runnerImageBuild?: Chart;
  /** Notes for the user: what the synth could not check (script bundles, modules the runner image may lack). */
  readonly warnings: readonly string[];
}

/**
 * Builds every chart of one environment into `scope` (an App). The single composition used by `cdk8s synth`, the Helm
 * bundle and Pulumi, so they deploy exactly the same objects.
 */
export function buildPlatform(scope: Construct, props: PlatformProps): PlatformCharts {
  const cfg = props.config;
  // Every missing script at once, by field, before any chart exists (TestScripts would stop at the first).
  const missing = scriptFileProblems(props.scriptsDir, cfg.tests);
  if (missing.length > 0) throw new PlatformConfigError(missing, `test scripts of environment "${cfg.environment}"`);
  const labels = platformLabels(cfg.environment);
  const namespaces = namespacesChart(scope, cfg, labels);

  const monitoring = new Chart(scope, 'monitoring', { labels, namespace: cfg.namespaces.monitoring });
  monitoring.addDependency(namespaces);
  const monitoringStack = new MonitoringStack(monitoring, 'Stack', { config: cfg });
  const dashboards = dashboardsOf(monitoring, cfg, props);
  // Only with the platform's own stack: it runs prometheus-operator (the PrometheusRule CRD) and a Prometheus 3 that
  // records native histograms; an existing Prometheus may have neither.
  const recordingRules =
    cfg.monitoring.enabled && cfg.monitoring.recordingRules.enabled
      ? new RecordingRules(monitoring, 'RecordingRules', {
          namespace: cfg.namespaces.monitoring,
          releaseName: cfg.monitoring.releaseName,
          pushInterval: cfg.runner.pushInterval,
        })
      : undefined;

  const loadTests = new Chart(scope, 'loadtests', { labels, namespace: cfg.namespaces.loadTests });
  loadTests.addDependency(namespaces);
  // Anything the platform does not declare is closed in the load-test namespace: each run's policies open exactly
  // what its runners, starter and initializer need (DNS, Prometheus, targets, the k6 REST API).
  new DefaultDenyPolicy(loadTests, 'DefaultDeny', { namespace: cfg.namespaces.loadTests });
  const { runnerImage, runnerImageBuild: runnerBuild } = runnerImageOf(scope, cfg, labels, namespaces, loadTests);

  const scripts = new Map<string, TestScripts>();
  for (const test of cfg.tests) {
    scripts.set(
      test.name,
      new TestScripts(loadTests, `Scripts-${test.name}`, {
        testName: test.name,
        entry: test.script,
        scriptsDir: props.scriptsDir,
        ...(test.data !== undefined ? { data: test.data } : {}),
      }),
    );
  }
  // Every k6 module a script imports must exist in the runner image: fail now rather than in every runner's init.
  const moduleCheck = checkScriptModules(cfg, scripts);
  if (moduleCheck.errors.length > 0) throw new Error(moduleCheck.errors.join('\n'));
  const warnings = [...[...scripts.values()].flatMap((s) => s.warnings), ...moduleCheck.warnings];
  const dataImages = dataImagesOf(scope, cfg, scripts, { labels, namespaces, loadTests, ...(runnerBuild ? { runnerImageBuild: runnerBuild } : {}) });
  const runnerImageBuild = runnerBuild ?? dataImages.chart;
  const runs = testRuns(loadTests, cfg, scripts, runnerImage, dataImages.images, props.shards);

  return {
    namespaces,
    monitoring,
    loadTests,
    monitoringStack,
    scripts,
    runs,
    runnerImage,
    warnings,
    ...(runnerImageBuild ? { runnerImageBuild } : {}),
    ...(dashboards ? { dashboards } : {}),
    ...(recordingRules ? { recordingRules } : {}),
  };
}

/**
 * What is wrong on disk with the scripts a config's tests name: `scriptsDir` not a directory (then nothing else is
 * checked), or a test's `script` outside it or not a file. One line per problem, naming the field as
 * `'tests[<i>].script'` in the `describeIssues` form, so a stack file and `LoadTestPlatform` props get the same
 * message. Tests without a script string are skipped (the schema reports those). Resolved as TestScripts resolves
 * the entry: relative to `scriptsDir`, and never outside it.
 */
export function scriptFileProblems(scriptsDir: string, tests: readonly { readonly script?: unknown }[]): string[] {
  if (!isDirectory(scriptsDir)) return [`'scriptsDir' ${scriptsDir} is not a directory; point it at the folder holding the k6 scripts`];
  const root = path.resolve(scriptsDir);
  const problems: string[] = [];
  tests.forEach((t, i) => {
    if (typeof t.script !== 'string' || t.script === '') return;
    const abs = path.resolve(root, t.script);
    const rel = path.relative(root, abs);
    const field = `'tests[${i}].script' ${JSON.stringify(t.script)}`;
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      problems.push(`${field} is outside 'scriptsDir' ${scriptsDir}; scripts must live under it`);
    } else if (!existsSync(abs) || !statSync(abs).isFile()) {
      problems.push(`${field} does not exist in 'scriptsDir' ${scriptsDir} (looked for ${abs})`);
    }
  });
  return problems;
}

function isDirectory(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/** The namespaces chart: the load-test namespace (restricted) and, when the platform deploys it, monitoring. */
function namespacesChart(scope: Construct, cfg: PlatformConfig, labels: Record<string, string>): Chart {
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
  return namespaces;
}

/** The dashboard ConfigMaps of `props.dashboardsDir`, when given. */
function dashboardsOf(monitoring: Chart, cfg: PlatformConfig, props: PlatformProps): Dashboards | undefined {
  const dashboardsDir = props.dashboardsDir;
  return dashboardsDir !== undefined
    ? new Dashboards(monitoring, 'Dashboards', { directory: dashboardsDir, variableDefaults: { runner_namespace: cfg.namespaces.loadTests } })
    : undefined;
}

/**
 * The runner image: the official image, or (with extensions) one built in its own namespace and chart, which the runs
 * depend on (kubectl: apply it first and `kubectl wait --for=condition=complete job/<buildJobName>`).
 */
function runnerImageOf(
  scope: Construct,
  cfg: PlatformConfig,
  labels: Record<string, string>,
  namespaces: Chart,
  loadTests: Chart,
): { runnerImage: RunnerImage; runnerImageBuild: Chart | undefined } {
  const runnerImageProps = runnerImagePropsFromConfig(cfg);
  const runnerImageBuild =
    (runnerImageProps.extensions ?? []).length > 0 && runnerImageProps.build === 'in-cluster'
      ? new Chart(scope, 'runnerimage', { labels })
      : undefined;
  runnerImageBuild?.addDependency(namespaces);
  if (runnerImageBuild) loadTests.addDependency(runnerImageBuild);
  return { runnerImage: new RunnerImage(runnerImageBuild ?? loadTests, 'RunnerImage', runnerImageProps), runnerImageBuild };
}

/**
 * One distributed run per test (LoadTest): Indexed runner Job + starter (mode "jobs", or a CronJob with a schedule), or
 * a k6-operator TestRun (mode "operator"). Run ids name objects and are the testid tag: two tests resolving to the same
 * one would overwrite each other, so that is refused.
 */
function testRuns(
  loadTests: Chart,
  cfg: PlatformConfig,
  scripts: ReadonlyMap<string, TestScripts>,
  runnerImage: RunnerImage,
  dataImages: ReadonlyMap<string, DataImage>,
  shards: ReadonlyMap<string, RunShard> | undefined,
): Map<string, LoadTest> {
  const runs = new Map<string, LoadTest>();
  const byRunId = new Map<string, number>();
  cfg.tests.forEach((test, i) => {
    const run = new LoadTest(loadTests, `Run-${test.name}`, {
      test,
      scripts: scripts.get(test.name)!,
      remoteWriteUrl: remoteWriteUrl(cfg),
      // Tests importing k6/browser run the official image with Chromium; the others the runner image.
      image: testRunnerImage(cfg, scripts.get(test.name)!, runnerImage.imageRef),
      runner: cfg.runner,
      network: cfg.network,
      ...(dataImages.has(test.name) ? { dataImage: dataImages.get(test.name)!.imageRef } : {}),
      ...(shards?.has(test.name) === true ? { shard: shards.get(test.name)! } : {}),
      ...(cfg.monitoring.backend !== undefined ? { backend: resolveBackend(cfg.monitoring.backend) } : {}),
      ...(cfg.runner.imageDigests.starter !== undefined ? { starterImage: `${versions.starterImage}@${cfg.runner.imageDigests.starter}` } : {}),
      // Prometheus pods (prometheus-operator labels) in the monitoring namespace; an external endpoint needs a target.
      ...(cfg.monitoring.enabled && cfg.monitoring.remoteWriteUrl === undefined && cfg.monitoring.backend === undefined
        ? { prometheus: { namespace: cfg.namespaces.monitoring, podLabels: { 'app.kubernetes.io/name': 'prometheus' }, port: PROMETHEUS_PORT } }
        : {}),
    });
    const first = byRunId.get(run.runId);
    if (first !== undefined) {
      throw new Error(`LoadTest: 'tests[${i}]' resolves to run id "${run.runId}", already the run id of 'tests[${first}]': set a different 'runId'`);
    }
    byRunId.set(run.runId, i);
    runs.set(test.name, run);
  });
  return runs;
}

/** What {@link checkScriptModules} found. */
export interface ScriptModuleCheck {
  /** Modules the runner image certainly lacks: the synth fails with these. */
  readonly errors: readonly string[];
  /** Modules the platform cannot tell about (an extension or image it does not know): the user may know better. */
  readonly warnings: readonly string[];
}

/**
 * Checks the k6 modules each test's scripts import ({@link TestScripts.modules}) against the runner image:
 * - `k6/x/<name>` needs a `runner.extensions` entry providing it ({@link extensionJsModule}). The official image has
 *   no extensions, and k6 v1.7.1's automatic extension resolution (on by default, cmd/state/state.go) would fetch an
 *   unpinned build at run time, which runners are not allowed to reach. An error, unless an extension with a
 *   non-conventional module path might provide it (a warning).
 * - `k6/browser` needs an image with a browser: such tests run the official `grafana/k6:<version>-with-browser`
 *   ({@link testRunnerImage}); an explicit `runner.image` of the official image without it, and images built with
 *   extensions (on the official image), are errors; other images a warning ({@link browserImageProblem}).
 * - Remote (`https://`) modules are fetched by each runner at start: a warning when the test's `targets` allow no
 *   HTTPS egress (port 443) to an IP block.
 */
export function checkScriptModules(cfg: PlatformConfig, scripts: ReadonlyMap<string, TestScripts>): ScriptModuleCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  const extensions = cfg.runner.extensions;
  const provided = new Set(extensions.map((e) => extensionJsModule(e.module)).filter((m): m is string => m !== undefined));
  const unknown = extensions.filter((e) => extensionJsModule(e.module) === undefined).map((e) => e.module);
  cfg.tests.forEach((test, i) => {
    const bundle = scripts.get(test.name);
    if (bundle === undefined) return;
    // Remote modules are fetched by every runner when it starts: over HTTPS, through the runner NetworkPolicy.
    const remote = bundle.remoteModules[0];
    if (remote !== undefined && !test.targets.some((t) => t.cidr !== undefined && t.ports.includes(443))) {
      warnings.push(
        `LoadTestPlatform: 'tests[${i}].script' ${test.script} imports ${remote.module} (${remote.file} line ${remote.line}), which k6 fetches when each runner starts, ` +
          `but 'tests[${i}].targets' allow no HTTPS egress to an IP block (port 443); add the module host's addresses, or bundle the module as a local file`,
      );
    }
    const seen = new Set<string>();
    for (const m of bundle.modules) {
      if (seen.has(m.module)) continue;
      seen.add(m.module);
      const who = `LoadTestPlatform: 'tests[${i}].script' ${test.script} imports ${m.module} (${m.file} line ${m.line})`;
      if (m.module.startsWith('k6/x/')) {
        if (provided.has(m.module)) continue;
        const name = m.module.slice('k6/x/'.length);
        if (unknown.length > 0) {
          warnings.push(
            `${who}, which no 'runner.extensions' entry provides by name (github.com/<owner>/xk6-${name.split('/')[0]} provides k6/x/${name.split('/')[0]}); ` +
              `make sure one of ${unknown.join(', ')} provides it`,
          );
        } else {
          errors.push(
            `${who}, which no 'runner.extensions' entry provides (${extensions.length === 0 ? 'none declared' : `declared: ${extensions.map((e) => e.module).join(', ')}`}); ` +
              `add the xk6 extension that provides it (by convention github.com/<owner>/xk6-${name.split('/')[0]}) to 'runner.extensions'`,
          );
        }
      } else if (m.module === BROWSER_MODULE) {
        const { error, warning } = browserImageProblem(cfg, who, test.name);
        if (error !== undefined) errors.push(error);
        if (warning !== undefined) warnings.push(warning);
      }
    }
  });
  return { errors, warnings };
}

/** A fresh App for one environment, not writing anywhere until asked. */
export function newEnvironmentApp(outdir: string): App {
  return new App({ outdir, outputFileExtension: '.k8s.yaml' });
}
