/**
 * The grammar of regression rules (pure: no I/O): `tests[].regression` maps a metric key written like a k6 threshold
 * key (`http_req_duration`, `http_req_duration{scenario:api}`) to rules that bound how much a run may be worse than its
 * baseline: `p(95) < +10%` (relative), `rate < +0.5pp` (percentage points of a ratio), `avg < +20` (the stat's own
 * unit: ms for time trends), and for stats where lower is worse `rate > -10%`. `loadtest compare` (cli/compare/)
 * judges them; {@link checkRegressionRules} plugs this into the config schema so a rule the platform cannot compute
 * fails config parsing with its field.
 */
import type { z } from 'zod';
import { K6_BUILTIN_METRICS, type K6MetricInfo } from './k6-metrics';
import { parseThresholdKey, type ThresholdAggregation, type ThresholdsConfig } from './threshold-grammar';
import { classicTrendStats } from './threshold-queries';

/** The regression rules of a test: metric key → rules (may be empty). */
export type RegressionConfig = Readonly<Record<string, readonly string[]>>;

/** How a rule's amount is measured. */
export type RegressionUnit = 'percent' | 'pp' | 'absolute';

/** One parsed regression rule. */
export interface ParsedRegressionRule {
  /** The key as written, e.g. `http_req_duration{scenario:api}`. */
  readonly key: string;
  /** The rule as written, e.g. `p(95) < +10%`. */
  readonly rule: string;
  /** Index of the rule in the key's list. */
  readonly index: number;
  /** k6 metric name. */
  readonly metric: string;
  /** Tag filters of the key. */
  readonly filters: Readonly<Record<string, string>>;
  /** The statistic, as a k6 threshold aggregation (so the verdict's query of it can be reused). */
  readonly aggregation: ThresholdAggregation;
  /** The statistic as written: `p(95)`, `avg`, `rate`. */
  readonly aggregationName: string;
  /** `increase`: the run is worse when the stat grows (`<` with `+`); `decrease`: worse when it falls (`>` with `-`). */
  readonly worse: 'increase' | 'decrease';
  /** The allowed change, in {@link unit}: 10 for `+10%`, 0.5 for `+0.5pp`, 20 for `+20`. */
  readonly amount: number;
  /** How {@link amount} is measured. */
  readonly unit: RegressionUnit;
  /** The metric's type (k6 built-ins only). */
  readonly metricInfo: K6MetricInfo;
}

/** One problem of a regression map; `path` is relative to the map (`[key]` or `[key, index]`). */
export interface RegressionProblem {
  readonly path: readonly [string] | readonly [string, number];
  readonly input: unknown;
  /** The rule, starting with "must". */
  readonly message: string;
}

/** Thrown by {@link parseRegressionRules}; one `'<field>' <rule>, got "<input>"` line per problem. */
export class RegressionRuleError extends Error {
  public constructor(public readonly problems: readonly string[]) {
    super(`Invalid regression rules (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RegressionRuleError';
  }
}

/** The statistics `loadtest compare` computes per metric type (gauges have no whole-run statistic to compare). */
export const REGRESSION_STATS_BY_TYPE = {
  trend: ['p(N)', 'avg', 'med'],
  rate: ['rate'],
  counter: ['count', 'rate'],
  gauge: [],
} as const;

const ALLOWED =
  'allowed: "<stat> < +N%", "<stat> < +Npp" (ratios only), "<stat> < +N" (the stat\'s unit, ms for time trends), or "> -N…" where lower is worse';

/** Messages (each starts with "must"). */
export const REGRESSION_RULES = {
  rule: `must be a regression rule such as "p(95) < +10%", "rate < +0.5pp" or "avg < +20"; ${ALLOWED}`,
  direction: `must bound an increase with "< +N" or a decrease with "> -N", such as "p(95) < +10%" or "rate > -10%"; ${ALLOWED}`,
  percentile: 'must use a percentile between 0 and 100 in p(N), such as p(95) or p(99.9)',
  pp: 'must use "pp" (percentage points) only on the rate of a rate metric (a 0-1 ratio such as http_req_failed or checks); use "%" or a plain number here',
  metric: `must name a k6 built-in metric (${Object.keys(K6_BUILTIN_METRICS).join(', ')}); custom metrics have no known type to compare`,
} as const;

const RULE = /^\s*(p\([^)]*\)|avg|med|rate|count)\s*([<>])\s*([+-])?\s*(\d+(?:\.\d*)?|\.\d+)\s*(%|pp)?\s*$/;

/** Parses one rule of a metric; throws the rule's message. */
export function parseRegressionRule(key: string, rule: string, index = 0): ParsedRegressionRule {
  const { metric, filters } = parseThresholdKey(key);
  const metricInfo = K6_BUILTIN_METRICS[metric];
  if (metricInfo === undefined) throw new Error(REGRESSION_RULES.metric);
  const m = RULE.exec(rule);
  if (m === null) throw new Error(REGRESSION_RULES.rule);
  const [, stat, op, sign, num, suffix] = m as unknown as [string, string, '<' | '>', '+' | '-' | undefined, string, '%' | 'pp' | undefined];
  // the sign is required: `p(95) < 10` reads like a k6 threshold (an absolute limit), which a rule is not
  if (sign === undefined || (op === '<') !== (sign === '+')) throw new Error(REGRESSION_RULES.direction);
  let aggregation: ThresholdAggregation;
  if (stat.startsWith('p(')) {
    const p = Number(stat.slice(2, -1).trim());
    if (stat.slice(2, -1).trim() === '' || !(p >= 0 && p <= 100)) throw new Error(REGRESSION_RULES.percentile);
    aggregation = { kind: 'percentile', percentile: p };
  } else aggregation = { kind: stat as 'avg' | 'med' | 'rate' | 'count' };
  const allowed: readonly string[] = REGRESSION_STATS_BY_TYPE[metricInfo.type];
  const statName = aggregation.kind === 'percentile' ? 'p(N)' : aggregation.kind;
  if (!allowed.includes(statName)) {
    throw new Error(
      allowed.length === 0
        ? `must name a metric with a whole-run statistic: '${metric}' is a gauge (compare has none for gauges)`
        : `must use a statistic a ${metricInfo.type} metric has in compare (${allowed.join(', ')}): '${metric}' is a ${metricInfo.type}`,
    );
  }
  const unit: RegressionUnit = suffix === '%' ? 'percent' : suffix === 'pp' ? 'pp' : 'absolute';
  if (unit === 'pp' && !(metricInfo.type === 'rate' && aggregation.kind === 'rate')) throw new Error(REGRESSION_RULES.pp);
  return {
    key,
    rule,
    index,
    metric,
    filters,
    aggregation,
    aggregationName: stat.replace(/\s+/g, ''),
    worse: op === '<' ? 'increase' : 'decrease',
    amount: Number(num),
    unit,
    metricInfo,
  };
}

/** Every rule parsed, and every problem with its place in the map. */
function parseCollecting(config: RegressionConfig): { parsed: ParsedRegressionRule[]; problems: RegressionProblem[] } {
  const parsed: ParsedRegressionRule[] = [];
  const problems: RegressionProblem[] = [];
  for (const [key, rules] of Object.entries(config)) {
    try {
      const { metric } = parseThresholdKey(key);
      if (K6_BUILTIN_METRICS[metric] === undefined) {
        problems.push({ path: [key], input: key, message: REGRESSION_RULES.metric });
        continue;
      }
    } catch (e) {
      problems.push({ path: [key], input: key, message: (e as Error).message });
      continue;
    }
    rules.forEach((rule, index) => {
      try {
        parsed.push(parseRegressionRule(key, rule, index));
      } catch (e) {
        problems.push({ path: [key, index], input: rule, message: (e as Error).message });
      }
    });
  }
  return { parsed, problems };
}

/** Every problem of a regression map (empty when valid). */
export function regressionProblems(config: RegressionConfig): RegressionProblem[] {
  return parseCollecting(config).problems;
}

/** Parses a regression map; throws {@link RegressionRuleError} naming each bad field under `field`. */
export function parseRegressionRules(config: RegressionConfig, field = 'regression'): ParsedRegressionRule[] {
  const { parsed, problems } = parseCollecting(config);
  if (problems.length > 0) {
    throw new RegressionRuleError(
      problems.map((p) => `'${field}.${p.path[0]}${p.path.length === 2 ? `[${p.path[1]}]` : ''}' ${p.message}, got ${JSON.stringify(p.input)}`),
    );
  }
  return parsed;
}

/** A zod superRefine for `tests[].regression`: one issue per problem at `regression.<key>[<i>]`. */
export function checkRegressionRules(config: RegressionConfig, ctx: z.core.$RefinementCtx): void {
  for (const p of regressionProblems(config)) ctx.addIssue({ code: 'custom', path: [...p.path], input: p.input, message: p.message });
}

/**
 * The highest (or, for a `decrease` rule, lowest) value the run may have: the baseline moved by the rule's amount.
 * A relative rule on a baseline of 0 allows no change at all (use `pp` or an absolute amount there).
 */
export function regressionLimit(rule: Pick<ParsedRegressionRule, 'worse' | 'amount' | 'unit'>, baseline: number): number {
  const delta = rule.unit === 'percent' ? (Math.abs(baseline) * rule.amount) / 100 : rule.unit === 'pp' ? rule.amount / 100 : rule.amount;
  return rule.worse === 'increase' ? baseline + delta : baseline - delta;
}

/** The classic trend stats (K6_PROMETHEUS_RW_TREND_STATS notation) a trend rule reads: `p(N)`, `med`, `avg` → sum and count. */
export function classicStatsOfRule(rule: Pick<ParsedRegressionRule, 'aggregation'>): string[] {
  const a = rule.aggregation;
  if (a.kind === 'percentile') return [`p(${String(a.percentile)})`];
  if (a.kind === 'avg') return ['sum', 'count'];
  return [a.kind];
}

/**
 * With classic trend stats (`runner.nativeHistograms: false`) runners write only the stats of
 * {@link classicTrendStats}: the dashboards' and those of the test's config thresholds. A trend rule on any other stat
 * has nothing to read, so it is a problem at config parse (thresholds declared only in the script add stats too, but
 * cannot be read here: declare the threshold in the config, or use native histograms).
 */
export function classicRegressionProblems(config: RegressionConfig, thresholds: ThresholdsConfig): RegressionProblem[] {
  let written: string[];
  try {
    written = classicTrendStats(thresholds);
  } catch {
    return []; // the thresholds' own problems are reported at their field
  }
  const problems: RegressionProblem[] = [];
  for (const rule of parseCollecting(config).parsed) {
    if (rule.metricInfo.type !== 'trend') continue;
    const missing = classicStatsOfRule(rule).filter((x) => !written.includes(x));
    if (missing.length === 0) continue;
    problems.push({
      path: [rule.key, rule.index],
      input: rule.rule,
      message: `must use a trend stat the runners write with runner.nativeHistograms false (${written.join(', ')}); ${missing.join(' and ')} is written only when a config threshold of the test uses it (or with native histograms)`,
    });
  }
  return problems;
}
