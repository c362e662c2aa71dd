/** `loadtest runs`: recent runs from Prometheus, each judged when its test has thresholds. */
import { Option, type Command } from 'commander';
import type { PlatformConfig } from '@k6-platform/constructs/internal';
import { EXIT } from '../exit-codes';
import { formatDuration, table } from '../output';
import { listRuns } from '../prometheus/runs';
import { judgedTestThresholds } from '../run/run-plan';
import { JSON_SCHEMA_VERSION, jsonText, runJson, type RunJson, type RunsJson } from '../verdict/json';
import { VERDICT_EXIT_CODES } from '../verdict/verdict';
import { validityInput } from '../verdict/validity';
import { environmentConfig, silent, dialectOf, trendsOf, type CommandKit, type CommandResult, type ResolvedPrometheus } from './context';
import { envOption, jsonOption, promDuration, prometheusOption, prometheusTenantOption, prometheusTokenFileOption, timeoutOption } from './options';

interface RunsOptions {
  prometheus?: string;
  prometheusTokenFile?: string;
  prometheusTenant?: string;
  env: string;
  since: string;
  verdict: boolean;
  timeout?: number;
  json?: boolean;
}

type ListedRun = Awaited<ReturnType<typeof listRuns>>[number];

/** How one run was judged: the verdict's exit code, or why it was not judged. */
type RunJudgement =
  { readonly code: number; readonly notJudged: null } | { readonly code: undefined; readonly notJudged: NonNullable<RunJson['notJudged']> };

/** Adds `runs` to the program. */
export function addRunsCommand(program: Command, kit: CommandKit, result: CommandResult): void {
  program
    .command('runs')
    .description('list recent runs from Prometheus (testid, start, duration, runners, verdict when the test has thresholds)')
    .addOption(prometheusOption())
    .addOption(prometheusTokenFileOption())
    .addOption(prometheusTenantOption())
    .addOption(envOption())
    .addOption(new Option('--since <duration>', 'how far back to look').default('24h').argParser(promDuration))
    .option('--no-verdict', 'skip judging each run')
    .addOption(timeoutOption())
    .addOption(jsonOption())
    .action(async (opts: RunsOptions) => {
      result.code = await runsCommand(kit, opts);
    });
}

async function runsCommand(kit: CommandKit, opts: RunsOptions): Promise<number> {
  const { ctx, out, now } = kit;
  const cfg = environmentConfig(ctx.rootDir, opts.env);
  const timeout = kit.timeoutOf(opts.timeout);
  const prom = kit.prometheusOf(opts, { timeoutMs: timeout }, cfg);
  const runs = await listRuns(prom.client, opts.since, cfg.tests, now().getTime() / 1000);
  const judged: [ListedRun, RunJudgement][] = [];
  for (const r of runs) judged.push([r, await judgeRun(kit, cfg, prom, r, opts, timeout)]);
  if (opts.json === true) {
    const doc: RunsJson = {
      schemaVersion: JSON_SCHEMA_VERSION,
      prometheus: prom.base,
      since: opts.since,
      runs: judged.map(([r, j]) => runJson(r, j.code, j.notJudged)),
    };
    out.write(jsonText(doc));
  } else if (runs.length === 0) out.write(`no runs in the last ${opts.since} at ${prom.base}\n`);
  else out.write(runsTable(kit, judged));
  return EXIT.ok;
}

/** The text listing: one row per run, and the footnotes its marks need. */
function runsTable(kit: CommandKit, judged: readonly [ListedRun, RunJudgement][]): string {
  const { c } = kit;
  const rows = judged.map(([r, j]) => [
    r.testid,
    r.testSource === 'conflict' ? c.red('conflict') : r.test === undefined ? c.dim('?') : r.testSource === 'prefix' ? `${r.test}*` : r.test,
    new Date(r.start * 1000).toISOString().replace('.000Z', 'Z'),
    formatDuration(r.end - r.start),
    String(r.runners),
    verdictCell(kit, j),
  ]);
  let text = table(['TESTID', 'TEST', 'START (UTC)', 'DURATION', 'RUNNERS', 'VERDICT'], rows);
  if (judged.some(([r]) => r.testSource === 'prefix')) {
    text += c.dim('* no test label on the run (written before runners were tagged): test matched by the longest test name prefixing the testid\n');
  }
  if (judged.some(([r]) => r.testSource === 'conflict')) {
    text += c.red('conflict: the run carries more than one test label; judge it with loadtest verdict --testid <id> --test <name>\n');
  }
  return text;
}

function verdictCell(kit: CommandKit, j: RunJudgement): string {
  const { c } = kit;
  if (j.code === undefined) return j.notJudged === 'not-started' ? c.yellow('not started') : c.dim('-');
  return j.code === 0
    ? c.green('pass')
    : j.code === VERDICT_EXIT_CODES.fail
      ? c.red('fail')
      : j.code === VERDICT_EXIT_CODES.inconclusive
        ? c.yellow('inconclusive')
        : c.yellow(`exit ${j.code}`);
}

/** Judges one run quietly when it started and its test has thresholds. */
async function judgeRun(
  kit: CommandKit,
  cfg: PlatformConfig,
  prom: ResolvedPrometheus,
  r: ListedRun,
  opts: RunsOptions,
  timeout: number,
): Promise<RunJudgement> {
  const { ctx, out, now } = kit;
  if (!r.started) return { code: undefined, notJudged: 'not-started' };
  const test = r.test !== undefined ? cfg.tests.find((t) => t.name === r.test) : undefined;
  if (test === undefined) return { code: undefined, notJudged: 'no-test' };
  if (!opts.verdict) return { code: undefined, notJudged: 'skipped' };
  const thresholds = judgedTestThresholds(ctx.rootDir, test);
  if (!Object.values(thresholds).some((l) => l.length > 0)) return { code: undefined, notJudged: 'no-thresholds' };
  const code = await kit.judge({
    prometheusUrl: prom.base,
    testid: r.testid,
    test,
    thresholds,
    validity: validityInput(cfg, test),
    out: silent(out),
    now: now(),
    trends: trendsOf(cfg),
    dialect: dialectOf(cfg),
    quiet: true,
    timeoutMs: timeout,
    ...(prom.auth !== undefined ? { prometheusAuth: prom.auth } : {}),
  });
  return { code, notJudged: null };
}
