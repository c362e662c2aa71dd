/** `loadtest report <testid> --out DIR`: summary.json, junit.xml and a self-contained index.html of one run. */
import { Option, type Command } from 'commander';
import type { TestConfig, ThresholdsConfig } from '@k6-platform/constructs/internal';
import { UsageError } from '../exit-codes';
import { prometheusClient } from '../prometheus/client';
import { buildReport, checkReportDir, writeReport } from '../report/report';
import { judgedTestThresholds } from '../run/run-plan';
import { verdictNotes } from '../verdict/judge';
import { validityInput } from '../verdict/validity';
import type { Verdict } from '../verdict/verdict';
import { dialectOf, environmentConfig, trendsOf, type CommandKit, type CommandResult, type ResolvedPrometheus } from './context';
import { envOption, promDuration, prometheusOption, prometheusTenantOption, prometheusTokenFileOption, runId, timeoutOption } from './options';
import { baselineArg, compareRun } from './compare';
import type { RunComparison } from '../compare/types';
import { judgedTest } from './verdict';

interface ReportOptions {
  out: string;
  prometheus?: string;
  prometheusTokenFile?: string;
  prometheusTenant?: string;
  env: string;
  test?: string;
  baseline?: string;
  since: string;
  timeout?: number;
}

/** `--report <dir>` of `run`, and `--out <dir>` of `report`: where the three files go. */
export function reportDirOption(flags: string, what: string): Option {
  return new Option(flags, what).argParser((value: string) => {
    if (value.trim() === '') throw new UsageError(`option '${flags}' must be a directory path, got ""`);
    checkReportDir(value, flags.split(' ')[0]!);
    return value;
  });
}

/** Adds `report` to the program. */
export function addReportCommand(program: Command, kit: CommandKit, result: CommandResult): void {
  program
    .command('report')
    .description('write summary.json, junit.xml and a self-contained index.html of one run (needs Prometheus); exits with the verdict')
    .argument('<testid>', 'the run id (k6 testid tag)', runId)
    .addOption(reportDirOption('--out <dir>', 'directory the three files are written to (created when missing)').makeOptionMandatory())
    .addOption(prometheusOption())
    .addOption(prometheusTokenFileOption())
    .addOption(prometheusTenantOption())
    .addOption(envOption())
    .option('--test <name>', "test whose thresholds apply (default: the run's test label, as for verdict)")
    .option(
      '--baseline <testid|last-pass>',
      "put the run next to this baseline in index.html, as `loadtest compare` does (docs/compare.md); the exit code stays the verdict's",
      baselineArg,
    )
    .option('--since <duration>', 'how far back last-pass looks for a baseline', promDuration, '24h')
    .addOption(timeoutOption())
    .action(async (testid: string, opts: ReportOptions) => {
      result.code = await reportCommand(kit, testid, opts);
    });
}

async function reportCommand(kit: CommandKit, testid: string, opts: ReportOptions): Promise<number> {
  const { ctx, out } = kit;
  const cfg = environmentConfig(ctx.rootDir, opts.env);
  const timeout = kit.timeoutOf(opts.timeout);
  const prom = kit.prometheusOf(opts, { timeoutMs: timeout }, cfg);
  const { test, testNote } = await judgedTest(kit, cfg, prom, { testid, ...(opts.test !== undefined ? { test: opts.test } : {}) });
  let verdict: Verdict | undefined;
  const thresholds = test !== undefined ? judgedTestThresholds(ctx.rootDir, test) : undefined;
  // The judge prints the table while the summary's and the charts' queries run beside its own.
  const judged = kit.judge({
    prometheusUrl: prom.base,
    testid,
    test,
    ...(test !== undefined ? { thresholds, validity: validityInput(cfg, test) } : {}),
    out,
    now: kit.now(),
    trends: trendsOf(cfg),
    dialect: dialectOf(cfg),
    timeoutMs: timeout,
    ...(testNote !== undefined ? { testNote } : {}),
    ...(prom.auth !== undefined ? { prometheusAuth: prom.auth } : {}),
    onVerdict: (v) => (verdict = v),
  });
  const pendingVerdict = judged.then(() => verdict);
  const notes = pendingVerdict.then((v) =>
    v !== undefined ? verdictNotes({ testid, test, ...(testNote !== undefined ? { testNote } : {}) }, v) : [],
  );
  const comparison =
    opts.baseline !== undefined
      ? compareRun(kit, cfg, reportClient(prom, timeout), testid, test, { baseline: opts.baseline, since: opts.since, timeoutMs: timeout })
      : undefined;
  await writeRunReport(kit, {
    ...(comparison !== undefined ? { comparison: await comparison } : {}),
    dir: opts.out,
    testid,
    test,
    trends: trendsOf(cfg),
    prom,
    timeoutMs: timeout,
    verdict: pendingVerdict,
    notes,
    ...(thresholds !== undefined ? { thresholds } : {}),
  });
  return judged;
}

/** What {@link writeRunReport} needs. */
export interface RunReportRequest {
  readonly dir: string;
  readonly testid: string;
  readonly test: TestConfig | undefined;
  readonly trends: 'native' | 'classic';
  readonly prom: ResolvedPrometheus;
  readonly timeoutMs: number;
  /**
   * The verdict just made, or being made; undefined (or resolving so) when the judge reported none: the report then
   * judges what ran with `thresholds`.
   */
  readonly verdict: Verdict | undefined | Promise<Verdict | undefined>;
  readonly thresholds?: ThresholdsConfig;
  readonly notes?: readonly string[] | Promise<readonly string[]>;
  /** The JUnit error of a run that did not complete. */
  readonly error?: { readonly type: string; readonly message: string };
  /** The run next to its baseline, for the page's comparison section. */
  readonly comparison?: RunComparison;
}

/** The report's own client: the report needs range answers (`data`), which a context's querier may not offer. */
function reportClient(prom: ResolvedPrometheus, timeoutMs: number): ReturnType<typeof prometheusClient> {
  return prometheusClient(prom.base, { timeoutMs, ...(prom.auth !== undefined ? { auth: prom.auth } : {}) });
}

/** Makes the report from Prometheus and writes its three files; prints where they are. */
export async function writeRunReport(kit: CommandKit, r: RunReportRequest): Promise<void> {
  const report = await buildReport({
    prometheus: reportClient(r.prom, r.timeoutMs),
    ...(r.comparison !== undefined ? { comparison: r.comparison } : {}),
    testid: r.testid,
    ...(r.test !== undefined ? { test: r.test.name } : {}),
    trends: r.trends,
    ...(r.verdict instanceof Promise ? { pendingVerdict: r.verdict } : r.verdict !== undefined ? { verdict: r.verdict } : {}),
    ...(r.thresholds !== undefined ? { thresholds: r.thresholds } : {}),
    ...(r.error !== undefined ? { runError: r.error } : {}),
    notes: r.notes,
    now: kit.now(),
    timeoutMs: r.timeoutMs,
  });
  const files = writeReport(r.dir, report);
  kit.out.write(`report: ${files.join(', ')}\n`);
}
