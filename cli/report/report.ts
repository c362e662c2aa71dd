/**
 * `loadtest report`: a run's summary.json, junit.xml and index.html from Prometheus. The verdict is the verdict
 * (cli/verdict/verdict.ts `evaluateVerdict`, or the one `loadtest run` just made); its window bounds every other
 * query; the summary's and the charts' queries then run together, at most {@link DEFAULT_CONCURRENCY} at a time.
 */
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseThresholds, type ParsedThreshold, type ThresholdsConfig } from '@k6-platform/constructs/internal';
import type { RunComparison } from '../compare/types';
import { UsageError } from '../exit-codes';
import { writeJunit } from '../verdict/junit';
import { evaluateVerdict, findRunWindow, type RunWindow, type Verdict } from '../verdict/verdict';
import type { ValidityInput } from '../verdict/validity';
import { renderReportHtml } from './html';
import { boundedApi, DEFAULT_CONCURRENCY, type ReportApi } from './limit';
import { fetchCharts, type ChartData } from './series';
import { markThresholds, summarizeRun, type RunSummaryData } from './summary';
import { SUMMARY_TREND_STATS } from './summary-queries';

/** Version of the summary.json shape (docs/report.md). */
export const SUMMARY_SCHEMA_VERSION = 1;

/** The file names the report writes into its directory. */
export const REPORT_FILES = { summary: 'summary.json', junit: 'junit.xml', html: 'index.html' } as const;

/** What a report is made from. */
export interface ReportRequest {
  /** Prometheus (the CLI's client; any `data` API in tests). */
  readonly prometheus: ReportApi;
  readonly testid: string;
  /** The test whose thresholds judged the run. */
  readonly test?: string;
  /** The thresholds that judge the run (unused when `verdict` is given). @default - none */
  readonly thresholds?: ThresholdsConfig;
  readonly trends: 'native' | 'classic';
  /** The verdict already made (by `loadtest run`); @default - evaluated here */
  readonly verdict?: Verdict;
  /**
   * A verdict being made meanwhile (`loadtest report`'s judge prints it), awaited beside the summary's queries;
   * undefined when it resolves to nothing: then evaluated here. @default - none
   */
  readonly pendingVerdict?: Promise<Verdict | undefined>;
  /** Validity checks of the verdict evaluated here. @default - none */
  readonly validity?: ValidityInput;
  /** Why the run did not complete (`loadtest run`): shown above the verdict, and junit.xml's error. @default - it did */
  readonly runError?: { readonly type: string; readonly message: string };
  /** Notes of the verdict (cli/verdict/judge.ts `verdictNotes`), or their promise beside a pending verdict. @default [] */
  readonly notes?: readonly string[] | Promise<readonly string[]>;
  /** The run compared with its baseline. @default - no comparison section */
  readonly comparison?: RunComparison;
  readonly now: Date;
  /** Milliseconds the verdict evaluated here may take. @default - the verdict's default */
  readonly timeoutMs?: number;
  /** Queries in flight at once. @default 6 */
  readonly concurrency?: number;
}

/** A made report, before it is written. */
export interface RunReport {
  readonly verdict: Verdict;
  /** The summary.json document. */
  readonly summary: SummaryDocument;
  readonly charts: readonly ChartData[];
  readonly html: string;
  /** The run's error, for junit.xml. */
  readonly runError?: { readonly type: string; readonly message: string };
}

/** summary.json (docs/report.md, field by field). */
export interface SummaryDocument extends RunSummaryData {
  readonly schemaVersion: number;
  readonly testid: string;
  readonly test: string | null;
  readonly prometheus: string;
  readonly generatedAt: string;
  readonly verdict: { readonly status: Verdict['status']; readonly exitCode: number };
  readonly window: { readonly start: string; readonly end: string; readonly durationSeconds: number; readonly pushIntervalSeconds: number } | null;
  readonly options: { readonly summaryTrendStats: readonly string[]; readonly trends: 'native' | 'classic' };
  readonly state: { readonly testRunDurationMs: number };
}

/** The run window from the data (cli/verdict/verdict.ts `findRunWindow`); undefined for no data or a run never started. */
async function windowOf(api: ReportApi, req: ReportRequest): Promise<RunWindow | undefined> {
  const found = await findRunWindow(api, req.testid, { now: req.now.getTime() });
  return found !== undefined && !('idle' in found) ? found : undefined;
}

/** The verdict: as given, as it arrives, or evaluated here over the window already found (no second search). */
function verdictOf(api: ReportApi, req: ReportRequest, parsed: readonly ParsedThreshold[], window: RunWindow | undefined): Promise<Verdict> {
  if (req.verdict !== undefined) return Promise.resolve(req.verdict);
  const evaluate = async (): Promise<Verdict> => {
    const v = await evaluateVerdict(api, req.testid, parsed, {
      now: req.now.getTime(),
      trends: req.trends,
      ...(window !== undefined ? { start: window.start, end: window.end } : {}),
      ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
      ...(req.validity !== undefined ? { validity: req.validity } : {}),
    });
    // a given window carries no push interval: the one found from the data
    return window !== undefined && v.window !== undefined ? { ...v, window } : v;
  };
  return req.pendingVerdict !== undefined ? req.pendingVerdict.then((v) => v ?? evaluate()) : evaluate();
}

/**
 * Makes the report. The run window first (the verdict's, when given); then the verdict's threshold queries, the
 * summary's and the charts' all at once, at most `concurrency` in flight.
 */
export async function buildReport(req: ReportRequest): Promise<RunReport> {
  const api = boundedApi(req.prometheus, req.concurrency ?? DEFAULT_CONCURRENCY);
  const parsed = parseThresholds(req.thresholds ?? {});
  const w = req.verdict !== undefined ? req.verdict.window : await windowOf(api, req);
  const thresholds = req.verdict !== undefined && req.verdict.rows.length > 0 ? req.verdict.rows.map((r) => r.query.threshold) : parsed;
  const [verdict, unmarked, charts] = await Promise.all([
    verdictOf(api, req, parsed, w),
    w !== undefined ? summarizeRun(api, req.testid, w, { trends: req.trends, thresholds }) : Promise.resolve({ metrics: {}, checks: [] }),
    w !== undefined ? fetchCharts(api, req.testid, w, req.trends) : Promise.resolve([]),
  ]);
  const data = markThresholds(unmarked, verdict);
  const notes = (await req.notes) ?? [];
  const summary: SummaryDocument = {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    testid: req.testid,
    test: req.test ?? null,
    prometheus: req.prometheus.url,
    generatedAt: req.now.toISOString(),
    verdict: { status: verdict.status, exitCode: verdict.exitCode },
    window:
      w !== undefined
        ? {
            start: new Date(w.start).toISOString(),
            end: new Date(w.end).toISOString(),
            durationSeconds: (w.end - w.start) / 1000,
            pushIntervalSeconds: w.pushIntervalSeconds,
          }
        : null,
    options: { summaryTrendStats: SUMMARY_TREND_STATS, trends: req.trends },
    state: { testRunDurationMs: w !== undefined ? w.end - w.start : 0 },
    ...data,
  };
  const html = renderReportHtml({
    testid: req.testid,
    ...(req.test !== undefined ? { test: req.test } : {}),
    generatedAt: req.now,
    prometheus: req.prometheus.url,
    verdict,
    notes: req.runError !== undefined ? [`the run did not complete (${req.runError.type}): ${req.runError.message}`, ...notes] : notes,
    summary: data,
    charts,
    ...(req.comparison !== undefined ? { comparison: req.comparison } : {}),
  });
  return { verdict, summary, charts, html, ...(req.runError !== undefined ? { runError: req.runError } : {}) };
}

/** A clear error when `dir` exists and is not a directory (raised before anything is written). */
export function checkReportDir(dir: string, option = '--out'): void {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new UsageError(`${option} ${dir}: exists and is not a directory; give a directory (it is created when missing)`);
}

/** Writes `text` to `file` atomically (a temporary file beside it, then a rename). */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Writes summary.json, junit.xml (cli/verdict/junit.ts) and index.html into `dir`; returns their paths. A run that did
 * not complete is junit.xml's error (as `run --junit` writes it), so the file never reads as a pass.
 */
export function writeReport(dir: string, report: RunReport): string[] {
  const error = report.runError;
  checkReportDir(dir);
  mkdirSync(dir, { recursive: true });
  const files = Object.values(REPORT_FILES).map((f) => path.join(dir, f));
  writeAtomic(files[0]!, `${JSON.stringify(report.summary, null, 2)}\n`);
  writeJunit(files[1]!, [
    {
      testid: report.summary.testid,
      ...(report.summary.test !== null ? { test: report.summary.test } : {}),
      timestamp: new Date(report.summary.generatedAt),
      verdict: report.verdict,
      ...(error !== undefined ? { error } : {}),
    },
  ]);
  writeAtomic(files[2]!, report.html);
  return files;
}
