/**
 * `cdk8s synth` as a user runs it, against `helm template` in the same run: medians of `npx cdk8s synth
 * --no-check-upgrade` end to end, the cdk8s app alone (cdk8s.yaml `app:`, the bundled launcher constructs/bin/synth.js),
 * the app without its V8 code cache (as right after the bundle is rebuilt) and `helm template` of a reference chart
 * with .tools/bin/helm.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median } from './machine';

/** Names a chart directory to use as the helm reference instead of the platform's own bundle. */
export const BENCH_CHART_ENV = 'K6_PLATFORM_BENCH_CHART';

/** Medians (ms) of the three commands, and which chart `helm template` rendered. */
export interface SynthCliFigures {
  readonly endToEndMs: number;
  readonly appMs: number;
  /** The app with its code cache removed before each run (the launcher compiles the bundle and writes the cache). */
  readonly appNoCodeCacheMs: number;
  readonly helmMs: number;
  /** 1-minute load average over the timed runs: min, median, max. */
  readonly loadAverage: readonly [number, number, number];
  /** What `helm template` rendered, in words. */
  readonly reference: string;
  readonly repeats: number;
  /** The fastest run of each command: on a shared machine, the closest to its quiet-machine time. */
  readonly fastest: { readonly endToEndMs: number; readonly appMs: number; readonly appNoCodeCacheMs: number; readonly helmMs: number };
}

/** Wall time (ms) of one command; throws with its output when it fails, so a broken run is never timed. */
function timeCommand(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  return elapsed;
}

/**
 * The chart `helm template` renders: the one named by {@link BENCH_CHART_ENV}, else a copy of the platform's own Helm
 * chart (dist/chart with dev's values, written by constructs/src/output/helm/) without its kube-prometheus-stack
 * dependency, which is not on this machine (rendering it would need the network).
 */
function referenceChart(rootDir: string, scratch: string): { dir: string; reference: string } {
  const named = process.env[BENCH_CHART_ENV];
  if (named !== undefined && named !== '') return { dir: path.resolve(named), reference: `${named} (${BENCH_CHART_ENV})` };
  const bundle = path.join(rootDir, 'dist', 'chart');
  if (!existsSync(path.join(bundle, 'Chart.yaml'))) throw new Error(`bench: no Helm bundle at ${bundle}; run npx cdk8s synth first`);
  const dir = path.join(scratch, 'chart');
  cpSync(bundle, dir, { recursive: true });
  // The chart serves every environment; `helm template` without -f renders with values.yaml, so make that dev's.
  cpSync(path.join(dir, 'values-dev.yaml'), path.join(dir, 'values.yaml'));
  const chartYaml = path.join(dir, 'Chart.yaml');
  writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^dependencies:\n(?:[ -].*\n?)*/m, ''));
  return {
    dir,
    reference: 'the platform Helm chart dist/chart with values-dev.yaml (its kube-prometheus-stack dependency left out: not on this machine)',
  };
}

/** Runs each command once to warm up (the first app run builds the bundle), then `repeats` times, interleaved. */
export function benchSynthCli(rootDir: string, repeats = 5): SynthCliFigures {
  const npx = 'npx';
  const helm = path.join(rootDir, '.tools', 'bin', 'helm');
  const noOutdir = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CDK8S_OUTDIR'));
  const endToEnd = () => timeCommand(npx, ['cdk8s', 'synth', '--no-check-upgrade'], rootDir);
  const app = () => timeCommand(process.execPath, ['constructs/bin/synth.js'], rootDir, noOutdir);
  const codeCache = path.join(rootDir, '.cache', 'synth', 'app.cache');
  const appNoCodeCache = () => {
    rmSync(codeCache, { force: true });
    return app(); // and writes the cache again, for the next app() run
  };
  endToEnd();
  app();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'k6-bench-chart-'));
  try {
    const { dir, reference } = referenceChart(rootDir, scratch);
    const helmTemplate = () => timeCommand(helm, ['template', 'bench', dir], rootDir);
    helmTemplate();
    const e2e: number[] = [];
    const apps: number[] = [];
    const coldApps: number[] = [];
    const helms: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < repeats; i++) {
      coldApps.push(appNoCodeCache());
      e2e.push(endToEnd());
      apps.push(app());
      helms.push(helmTemplate());
      loads.push(os.loadavg()[0]!);
    }
    return {
      endToEndMs: median(e2e),
      appMs: median(apps),
      appNoCodeCacheMs: median(coldApps),
      helmMs: median(helms),
      reference,
      repeats,
      fastest: { endToEndMs: Math.min(...e2e), appMs: Math.min(...apps), appNoCodeCacheMs: Math.min(...coldApps), helmMs: Math.min(...helms) },
      loadAverage: [Math.min(...loads), median(loads), Math.max(...loads)],
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
