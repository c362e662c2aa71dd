import * as path from 'node:path';
import { buildPlatform, LABELS, newEnvironmentApp, type RunShard } from '@k6-platform/constructs/internal';
import type { PlatformConfig, TestConfig } from '@k6-platform/constructs/internal';
import { assertScriptOptionsReadable, entryScriptOptions, judgedThresholds } from '@k6-platform/constructs/internal';
import type { ThresholdsConfig } from '@k6-platform/constructs/internal';
// applyOrder is shared with synth, which writes each run's objects (dist/<env>/runs/) in the order they are applied here.
import { applyOrder, buildEnvironment, checkObjectSizes, oversizedObjects } from '@k6-platform/constructs/output';
import { bundleScriptTree } from '@k6-platform/constructs/internal';
import type { KubeObject } from '../cluster/cluster';

/** What `loadtest run` applies for one run of one test. */
export interface RunPlan {
  readonly runId: string;
  readonly test: TestConfig;
  /** The load-test namespace. */
  readonly namespace: string;
  /** The run's objects in apply order (ConfigMaps, ServiceAccount, Service, NetworkPolicies, then the Jobs). */
  readonly objects: readonly KubeObject[];
  /** The thresholds that judge the run (config + script, LoadTest `thresholds`). */
  readonly thresholds: ThresholdsConfig;
  /** The Job that stops the run (applied on Ctrl-C), built by the LoadTest construct. */
  readonly stopJob?: KubeObject;
  /** A multi-cluster run: this cluster's start Job for a start time (unix ms) and how late it may resume (LoadTest `startJobManifest`). */
  readonly startJob?: (startAtMs: number, maxLateMs: number) => KubeObject;
}

/**
 * Builds the environment in memory and picks the objects of one test from the loadtests chart (label
 * `k6.platform/test=<name>`), for the given run id; with `shard`, one cluster's part of a multi-cluster run.
 */
export function planRun(config: PlatformConfig, rootDir: string, testName: string, runId: string, shard?: RunShard): RunPlan {
  const test = config.tests.find((t) => t.name === testName);
  if (test === undefined) {
    throw new UnknownTestError(testName, config);
  }
  const scriptsDir = path.join(rootDir, 'scripts');
  const cfg = runConfig(config, testName, runId);
  const charts =
    shard !== undefined
      ? buildPlatform(newEnvironmentApp('.'), { config: cfg, scriptsDir, shards: new Map([[testName, shard]]) })
      : buildEnvironment(cfg, scriptsDir).charts;
  const objects = (charts.loadTests.toJson() as KubeObject[]).filter((o) => o.metadata.labels?.[LABELS.test] === testName);
  // The API server would refuse them one by one, after the first were applied: refuse the run before any.
  checkObjectSizes(oversizedObjects(config.environment, objects));
  const run = charts.runs.get(testName);
  const stopJob = run !== undefined && test.schedule === undefined ? (run.stopJobManifest() as unknown as KubeObject) : undefined;
  const thresholds = run?.thresholds ?? test.thresholds;
  return {
    runId,
    test,
    namespace: config.namespaces.loadTests,
    objects: applyOrder(objects),
    thresholds,
    ...(stopJob !== undefined ? { stopJob } : {}),
    ...(shard !== undefined && run !== undefined
      ? { startJob: (at: number, late: number) => run.startJobManifest(at, late) as unknown as KubeObject }
      : {}),
  };
}

/**
 * The thresholds that judge runs of `test` (for `verdict` and `runs`, which build no LoadTest): its config thresholds
 * plus those its script exports, read from the script as it is now. Fails, naming file and line, when the script's
 * options cannot be read statically.
 */
export function judgedTestThresholds(rootDir: string, test: TestConfig): ThresholdsConfig {
  const bundle = bundleScriptTree(path.join(rootDir, 'scripts'), test.script);
  const options = entryScriptOptions(bundle);
  assertScriptOptionsReadable(options, test.script, `loadtest: test '${test.name}'`);
  return judgedThresholds(test.thresholds, options.thresholds);
}

/** The config the run is built from: the test's `runId` set (the LoadTest construct names the run's objects after it). */
function runConfig(config: PlatformConfig, testName: string, runId: string): PlatformConfig {
  return { ...config, tests: config.tests.map((t) => (t.name === testName ? { ...t, runId } : t)) };
}

/** The named test is not in the environment's config. */
export class UnknownTestError extends Error {
  public constructor(name: string, config: PlatformConfig) {
    const known = config.tests.map((t) => t.name);
    super(`unknown test '${name}' in environment '${config.environment}' (known: ${known.length ? known.join(', ') : 'none'})`);
    this.name = 'UnknownTestError';
  }
}
