/**
 * The shape of a comparison of one run with its baseline: what `loadtest compare` computes (cli/compare/compare.ts),
 * prints, writes as `--json` and `--junit`, and what `loadtest report` renders in its comparison section. One type,
 * so the command, the report and the JSON document cannot drift apart.
 */

/** How the baseline was chosen. */
export type BaselineSource = 'explicit' | 'last-pass';

/** A compared statistic of one request group (or of the whole run). */
export type ComparedStat =
  'p50' | 'p90' | 'p95' | 'p99' | 'error_ratio' | 'request_rate' | 'iteration_rate' | 'checks_ratio' | 'data_sent' | 'data_received';

/**
 * What a delta means once noise is taken out: `no-significant-change` when it lies within the noise band (the native
 * histogram's bucket error, or the spread of the baseline test's recent passing runs, whichever is wider).
 */
export type DeltaSignificance = 'worse' | 'better' | 'no-significant-change' | 'no-data';

/** One statistic, run next to baseline. */
export interface StatDelta {
  readonly stat: ComparedStat;
  /** k6's unit: ms for latencies, a 0-1 ratio, per second for rates, bytes for data. null when the run has no sample. */
  readonly run: number | null;
  readonly baseline: number | null;
  /** run - baseline; null when either is null. */
  readonly absolute: number | null;
  /** (run - baseline) / baseline; null when either is null or the baseline is 0. */
  readonly relative: number | null;
  /** Half-width of the noise band around the baseline, in the stat's own unit. */
  readonly noise: number;
  /** Where `noise` came from. */
  readonly noiseSource: 'bucket-error' | 'baseline-spread' | 'none';
  readonly significance: DeltaSignificance;
}

/** The stats of one test/scenario/request name. `scenario` and `name` are '' for the whole-run group. */
export interface ComparisonGroup {
  readonly scenario: string;
  readonly name: string;
  readonly stats: readonly StatDelta[];
}

/** One regression rule of the test's config, e.g. `http_req_duration: ["p(95) < +10%"]`, judged. */
export interface RegressionRuleResult {
  /** The metric key as configured (may carry a tag filter like k6 thresholds: `http_req_duration{scenario:api}`). */
  readonly metric: string;
  /** The rule as configured. */
  readonly rule: string;
  readonly run: number | null;
  readonly baseline: number | null;
  /** The limit the run's value was compared with (baseline adjusted by the rule). */
  readonly limit: number | null;
  /** false when the run crossed the limit by more than the noise band. */
  readonly pass: boolean;
  readonly note?: string;
}

/** Outcome of a comparison. */
export type ComparisonStatus = 'no-regression' | 'regressed' | 'no-baseline' | 'no-data' | 'unreachable';

/** A run compared with its baseline. */
export interface RunComparison {
  readonly status: ComparisonStatus;
  readonly exitCode: number;
  readonly testid: string;
  readonly test?: string;
  readonly baseline?: { readonly testid: string; readonly source: BaselineSource };
  /** Run windows (unix ms) the stats were computed over. */
  readonly runWindow?: { readonly start: number; readonly end: number };
  readonly baselineWindow?: { readonly start: number; readonly end: number };
  /** First the whole run ('' / ''), then each scenario and name, sorted. */
  readonly groups: readonly ComparisonGroup[];
  readonly regressions: readonly RegressionRuleResult[];
  /** Human-readable notes (how the baseline was found, what had no data). */
  readonly notes: readonly string[];
}
