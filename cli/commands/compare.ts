/** `loadtest compare`: a run next to its baseline (explicit, or the newest earlier passing run), regression rules judged. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { k6DurationSeconds, type PlatformConfig, type TestConfig } from '@k6-platform/constructs/internal';
import { COMPARE_EXIT_CODES, compareRuns, DEFAULT_SPREAD_RUNS } from '../compare/compare';
import { compareJsonText } from '../compare/json';
import { writeCompareJunit } from '../compare/junit';
import { formatComparison } from '../compare/table';
import type { RunComparison } from '../compare/types';
import { prometheusClient, PrometheusUnreachableError } from '../prometheus/client';
import { testOfRun } from '../prometheus/runs';
import { judgedTestThresholds } from '../run/run-plan';
import { validityInput } from '../verdict/validity';
import { environmentConfig, findTest, trendsOf, type CommandKit, type CommandResult } from './context';
import {
  envOption,
  jsonOption,
  promDuration,
  prometheusOption,
  prometheusTenantOption,
  prometheusTokenFileOption,
  runId,
  timeoutOption,
} from './options';

interface CompareOptions {
  baseline: string;
  prometheus?: string;
  prometheusTokenFile?: string;
  prometheusTenant?: string;
  env: string;
  test?: string;
  since: string;
  spreadRuns?: number;
  timeout?: number;
  json?: boolean;
  junit?: string;
}

/** `--baseline`: a run id or `last-pass`. */
export function baselineArg(value: string): string {
  return value === 'last-pass' ? value : runId(value);
}

/** `--spread-runs`: a count of runs, 0 to 20. */
function spreadRunsArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 20) throw new InvalidArgumentError('must be an integer from 0 to 20.');
  return n;
}

/** Adds `compare` to the program. */
export function addCompareCommand(program: Command, kit: CommandKit, result: CommandResult): void {
  program
    .command('compare')
    .description('compare a run with a baseline run: per scenario and request, deltas with noise bands; exits 0 / 6 regressed / 7 no baseline')
    .argument('<testid>', 'the run id (k6 testid tag)', runId)
    .addOption(
      new Option('--baseline <testid|last-pass>', 'the baseline run, or the newest earlier run of the test whose verdict passed')
        .default('last-pass')
        .argParser(baselineArg),
    )
    .addOption(prometheusOption())
    .addOption(prometheusTokenFileOption())
    .addOption(prometheusTenantOption())
    .addOption(envOption())
    .option('--test <name>', "test whose regression rules apply (default: the run's test label, else the longest test name prefixing the testid)")
    .addOption(
      new Option('--since <duration>', 'how far back to look for the baseline and the passing runs of the noise band')
        .default('24h')
        .argParser(promDuration),
    )
    .addOption(
      new Option(
        '--spread-runs <n>',
        `recent passing runs whose spread is a noise band (default: ${DEFAULT_SPREAD_RUNS} with last-pass, 0 with --baseline <testid>; 0 or 1: bucket error only)`,
      ).argParser(spreadRunsArg),
    )
    .addOption(timeoutOption())
    .addOption(jsonOption())
    .addOption(new Option('--junit <file>', 'also write the comparison as JUnit XML to <file> (one testcase per regression rule and per worse stat)'))
    .action(async (testid: string, opts: CompareOptions) => {
      result.code = await compareCommand(kit, testid, opts);
    });
}

async function compareCommand(kit: CommandKit, testid: string, opts: CompareOptions): Promise<number> {
  const { ctx, out, c, now } = kit;
  const cfg = environmentConfig(ctx.rootDir, opts.env);
  const timeout = kit.timeoutOf(opts.timeout);
  // The config's backend gives the query URL, tenant header and user when no flag or variable names them.
  const prom = kit.prometheusOf(opts, undefined, cfg);
  const client = prometheusClient(prom.base, {
    timeoutMs: timeout,
    deadline: AbortSignal.timeout(timeout),
    deadlineName: `--timeout ${timeout / 1000}s`,
    ...(prom.auth !== undefined ? { auth: prom.auth } : {}),
  });
  const test = opts.test !== undefined ? findTest(cfg, opts.test) : undefined;
  const comparison = await compareRun(kit, cfg, client, testid, test, { ...opts, timeoutMs: timeout });
  if (opts.junit !== undefined) writeCompareJunit(opts.junit, comparison, now());
  if (opts.json === true) out.write(compareJsonText(comparison, prom.base));
  else out.write(formatComparison(comparison, c));
  return comparison.exitCode;
}

/**
 * The run next to its baseline, as `compare` makes it (also for `report --baseline`): `test` when given, else the
 * run's test label, else the longest test name prefixing the testid. Never throws for an unreachable Prometheus.
 */
export async function compareRun(
  kit: CommandKit,
  cfg: PlatformConfig,
  client: ReturnType<typeof prometheusClient>,
  testid: string,
  given: TestConfig | undefined,
  opts: { readonly baseline: string; readonly since: string; readonly spreadRuns?: number; readonly timeoutMs: number },
): Promise<RunComparison> {
  const now = kit.now();
  try {
    const test = given ?? (await comparedTest(cfg, client, testid, now));
    return await compareRuns(client, {
      testid,
      ...(test !== undefined ? { test, thresholds: judgedTestThresholds(kit.ctx.rootDir, test), validity: validityInput(cfg, test) } : {}),
      tests: cfg.tests,
      baseline: opts.baseline,
      trends: trendsOf(cfg),
      now: now.getTime(),
      since: opts.since,
      ...(opts.spreadRuns !== undefined ? { spreadRuns: opts.spreadRuns } : {}),
      pushIntervalSeconds: k6DurationSeconds(cfg.runner.pushInterval),
      timeoutMs: opts.timeoutMs,
    });
  } catch (e) {
    if (!(e instanceof PrometheusUnreachableError)) throw e;
    return { status: 'unreachable', exitCode: COMPARE_EXIT_CODES.unreachable, testid, groups: [], regressions: [], notes: [e.message] };
  }
}

/** The test whose rules apply: the run's test label, else the longest test name prefixing the testid. */
async function comparedTest(
  cfg: PlatformConfig,
  client: ReturnType<typeof prometheusClient>,
  testid: string,
  now: Date,
): Promise<TestConfig | undefined> {
  const found = await testOfRun(client, testid, cfg.tests, { time: now.getTime() / 1000 });
  return found.test !== undefined ? cfg.tests.find((t) => t.name === found.test) : undefined;
}
