/**
 * k6 thresholds judged over ALL runners of a run, from the Prometheus data the runners write (pure: no I/O).
 *
 * A test declares thresholds in k6's own syntax (`{ 'http_req_duration{scenario:api}': ['p(95)<500'] }`); this module
 * parses them (errors name the config field), and turns each into one PromQL expression whose value is in k6's unit
 * (milliseconds for time trends, although Prometheus stores seconds). The CLI verdict, the dashboards' pass/fail row and
 * LoadTest share these queries. See docs/verdict.md for why each aggregation is written the way it is.
 */
import type { z } from 'zod';

/** Comparison operators of k6 thresholds (`===` is accepted as `==`). */
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** k6 metric types. */
export type K6MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

/** An aggregation method of a k6 threshold. */
export type ThresholdAggregation =
  | { readonly kind: 'percentile'; /** 0..100 as written in p(N). */ readonly percentile: number }
  | { readonly kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' };

/** A metric of k6 and how it is written to Prometheus. */
export interface K6MetricInfo {
  /** The metric type. */
  readonly type: K6MetricType;
  /** Whether a trend holds times (k6: milliseconds; Prometheus: seconds, name suffix `_seconds`). */
  readonly isTime: boolean;
}

/** k6's built-in metrics (HTTP, iterations, VUs, checks, data, gRPC, WebSockets). */
export const K6_BUILTIN_METRICS: Readonly<Record<string, K6MetricInfo>> = {
  http_reqs: { type: 'counter', isTime: false },
  iterations: { type: 'counter', isTime: false },
  data_sent: { type: 'counter', isTime: false },
  data_received: { type: 'counter', isTime: false },
  dropped_iterations: { type: 'counter', isTime: false },
  grpc_reqs: { type: 'counter', isTime: false },
  ws_msgs_sent: { type: 'counter', isTime: false },
  ws_msgs_received: { type: 'counter', isTime: false },
  ws_sessions: { type: 'counter', isTime: false },
  vus: { type: 'gauge', isTime: false },
  vus_max: { type: 'gauge', isTime: false },
  checks: { type: 'rate', isTime: false },
  http_req_failed: { type: 'rate', isTime: false },
  http_req_duration: { type: 'trend', isTime: true },
  http_req_waiting: { type: 'trend', isTime: true },
  http_req_blocked: { type: 'trend', isTime: true },
  http_req_connecting: { type: 'trend', isTime: true },
  http_req_tls_handshaking: { type: 'trend', isTime: true },
  http_req_sending: { type: 'trend', isTime: true },
  http_req_receiving: { type: 'trend', isTime: true },
  iteration_duration: { type: 'trend', isTime: true },
  group_duration: { type: 'trend', isTime: true },
  grpc_req_duration: { type: 'trend', isTime: true },
  ws_connecting: { type: 'trend', isTime: true },
  ws_session_duration: { type: 'trend', isTime: true },
  ws_ping: { type: 'trend', isTime: true },
};

/** Aggregations k6 allows per metric type. */
export const AGGREGATIONS_BY_TYPE: Readonly<Record<K6MetricType, readonly string[]>> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
};

/** One parsed threshold expression of one metric key. */
export interface ParsedThreshold {
  /** The key as written, e.g. `http_req_duration{scenario:api}`. */
  readonly key: string;
  /** The expression as written, e.g. `p(95)<500`. */
  readonly expression: string;
  /** Index of the expression in the key's list. */
  readonly index: number;
  /** k6 metric name, e.g. `http_req_duration`. */
  readonly metric: string;
  /** Tag filters in the order written (`{scenario:api,method:GET}` → `{scenario:'api',method:'GET'}`). */
  readonly filters: Readonly<Record<string, string>>;
  /** Aggregation method. */
  readonly aggregation: ThresholdAggregation;
  /** Aggregation as written in k6 syntax (`p(95)`, `rate`). */
  readonly aggregationName: string;
  /** Comparison operator. */
  readonly operator: ThresholdOperator;
  /** Right-hand side in k6's unit (milliseconds for time trends). */
  readonly value: number;
  /** Metric type: built-in, else inferred from the aggregation (see {@link inferMetricInfo}). */
  readonly metricInfo: K6MetricInfo;
}

/** One problem found in a thresholds map; `path` is relative to the map (`[key]` or `[key, index]`). */
export interface ThresholdProblem {
  /** `[key]` for a key problem, `[key, index]` for an expression problem. */
  readonly path: readonly [string] | readonly [string, number];
  /** The offending key or expression. */
  readonly input: string;
  /** The rule, starting with "must". */
  readonly message: string;
}

/** Thrown by {@link parseThresholds}; one `'<field>' <rule>, got "<input>"` line per problem. */
export class ThresholdError extends Error {
  public constructor(
    /** The problem lines. */
    public readonly problems: readonly string[],
  ) {
    super(`Invalid thresholds (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ThresholdError';
  }
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const KEY = /^\s*([^{}\s]+)\s*(?:\{(.*)\})?\s*$/s;
const EXPRESSION = /^\s*([a-z]+)\s*(?:\(\s*([^)]*?)\s*\))?\s*(===|==|!=|<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/** Messages (each starts with "must", so the platform config error reads `'<field>' must ..., got <value>`). */
export const THRESHOLD_RULES = {
  key: 'must be a k6 metric name with optional tag filters, such as "http_req_duration" or "http_req_duration{scenario:api,method:GET}"',
  filter: 'must write each tag filter as "tag:value", such as "http_req_duration{scenario:api,method:GET}"',
  tagName: 'must use tag names that are Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*)',
  expression: 'must be a k6 threshold expression "<aggregation><operator><number>", such as "p(95)<500", "avg<200", "rate<0.01" or "count>1000"',
  aggregation: 'must use one of the k6 aggregations p(N), avg, min, max, med, count, rate or value',
  percentile: 'must use a percentile between 0 and 100 in p(N), such as p(95) or p(99.9)',
} as const;

/** Parses a threshold key (`http_req_duration{scenario:api}`) into metric name and tag filters; throws the rule. */
export function parseThresholdKey(key: string): { readonly metric: string; readonly filters: Readonly<Record<string, string>> } {
  const m = KEY.exec(key);
  if (m === null || !NAME.test(m[1]!)) throw new Error(THRESHOLD_RULES.key);
  const filters: Record<string, string> = {};
  const body = m[2];
  if (body !== undefined) {
    for (const part of body.split(',')) {
      const colon = part.indexOf(':');
      if (colon < 0) throw new Error(THRESHOLD_RULES.filter);
      const tag = part.slice(0, colon).trim();
      const value = unquote(part.slice(colon + 1).trim());
      if (!NAME.test(tag) || tag.startsWith('__')) throw new Error(THRESHOLD_RULES.tagName);
      filters[tag] = value;
    }
  }
  return { metric: m[1]!, filters };
}

/** Parses an expression (`p(95)<500`) into aggregation, operator and value; throws the rule. */
export function parseThresholdExpression(expression: string): {
  readonly aggregation: ThresholdAggregation;
  readonly aggregationName: string;
  readonly operator: ThresholdOperator;
  readonly value: number;
} {
  const m = EXPRESSION.exec(expression);
  if (m === null) throw new Error(THRESHOLD_RULES.expression);
  const [, method, arg, op, num] = m as unknown as [string, string, string | undefined, string, string];
  const operator = (op === '===' ? '==' : op) as ThresholdOperator;
  const value = Number(num);
  if (method === 'p') {
    const p = arg !== undefined && /^\d+(\.\d+)?$/.test(arg) ? Number(arg) : NaN;
    if (!(p >= 0 && p <= 100)) throw new Error(THRESHOLD_RULES.percentile);
    return { aggregation: { kind: 'percentile', percentile: p }, aggregationName: `p(${arg!})`, operator, value };
  }
  if (arg !== undefined || !['avg', 'min', 'max', 'med', 'count', 'rate', 'value'].includes(method)) throw new Error(THRESHOLD_RULES.aggregation);
  return { aggregation: { kind: method as 'avg' }, aggregationName: method, operator, value };
}

/**
 * The type of a metric: k6's built-ins are known; a custom metric's type follows from the aggregation (`p(N)`, `avg`,
 * `med`, `min`, `max` → trend without time unit, `count` → counter, `rate` → rate, `value` → gauge).
 */
export function inferMetricInfo(metric: string, aggregation: ThresholdAggregation): K6MetricInfo {
  const builtin = K6_BUILTIN_METRICS[metric];
  if (builtin !== undefined) return builtin;
  switch (aggregation.kind) {
    case 'count':
      return { type: 'counter', isTime: false };
    case 'rate':
      return { type: 'rate', isTime: false };
    case 'value':
      return { type: 'gauge', isTime: false };
    default:
      return { type: 'trend', isTime: false };
  }
}

/** Every problem of a thresholds map (empty when valid). Used by the platform config schema. */
export function thresholdProblems(thresholds: Readonly<Record<string, readonly string[]>>): ThresholdProblem[] {
  return parseCollecting(thresholds).problems;
}

/**
 * Parses a thresholds map. Throws {@link ThresholdError} listing every problem with its field, e.g.
 * `'tests[0].thresholds.http_req_duration[1]' must be a k6 threshold expression ..., got "p95<500"`.
 */
export function parseThresholds(thresholds: Readonly<Record<string, readonly string[]>>, field = 'thresholds'): ParsedThreshold[] {
  const { parsed, problems } = parseCollecting(thresholds);
  if (problems.length > 0) {
    throw new ThresholdError(
      problems.map((p) => `'${field}.${p.path[0]}${p.path.length === 2 ? `[${p.path[1]}]` : ''}' ${p.message}, got ${JSON.stringify(p.input)}`),
    );
  }
  return parsed;
}

function parseCollecting(thresholds: Readonly<Record<string, readonly string[]>>): { parsed: ParsedThreshold[]; problems: ThresholdProblem[] } {
  const parsed: ParsedThreshold[] = [];
  const problems: ThresholdProblem[] = [];
  for (const [key, expressions] of Object.entries(thresholds)) {
    let k: ReturnType<typeof parseThresholdKey>;
    try {
      k = parseThresholdKey(key);
    } catch (e) {
      problems.push({ path: [key], input: key, message: (e as Error).message });
      continue;
    }
    expressions.forEach((expression, index) => {
      try {
        const x = parseThresholdExpression(expression);
        const metricInfo = inferMetricInfo(k.metric, x.aggregation);
        const allowed = AGGREGATIONS_BY_TYPE[metricInfo.type];
        const name = x.aggregation.kind === 'percentile' ? 'p(N)' : x.aggregation.kind;
        if (!allowed.includes(name)) {
          throw new Error(`must use an aggregation a ${metricInfo.type} metric has (${allowed.join(', ')}): '${k.metric}' is a ${metricInfo.type}`);
        }
        parsed.push({ key, expression, index, metric: k.metric, filters: k.filters, ...x, metricInfo });
      } catch (e) {
        problems.push({ path: [key, index], input: expression, message: (e as Error).message });
      }
    });
  }
  return { parsed, problems };
}

/**
 * A zod superRefine for the `thresholds` field of a test: adds one issue per problem at `thresholds.<key>[<i>]`,
 * so a bad threshold fails config parsing with the field path.
 */
export function checkThresholds(thresholds: Readonly<Record<string, readonly string[]>>, ctx: z.core.$RefinementCtx): void {
  for (const p of thresholdProblems(thresholds)) ctx.addIssue({ code: 'custom', path: [...p.path], input: p.input, message: p.message });
}

/** Whether `observed <op> value` holds. */
export function compareThreshold(observed: number, operator: ThresholdOperator, value: number): boolean {
  switch (operator) {
    case '<':
      return observed < value;
    case '<=':
      return observed <= value;
    case '>':
      return observed > value;
    case '>=':
      return observed >= value;
    case '==':
      return observed === value;
    case '!=':
      return observed !== value;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// PromQL
// ---------------------------------------------------------------------------------------------------------------

/** What the queries are evaluated over. */
export interface ThresholdQueryScope {
  /** The run id (`testid` label), or a Grafana variable such as `$testid`. */
  readonly testid: string;
  /**
   * How `testid` is matched: `=` for one run, `=~` for a Grafana multi-value variable.
   * @default "="
   */
  readonly testidMatch?: '=' | '=~';
  /**
   * Range of the run window, evaluated at the run's end: seconds, or a PromQL duration / Grafana variable.
   * @example 3600, "1h", "$__range"
   */
  readonly window: number | string;
  /**
   * Length of the run in seconds for counter `rate` (k6: count per second of test duration); a number or a PromQL
   * expression such as `$__range_s`.
   * @default - the window in seconds (a number window only)
   */
  readonly durationSeconds?: number | string;
  /**
   * How runners write trends: `native` histograms (K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM, the platform default) or
   * `classic` stat gauges (K6_PROMETHEUS_RW_TREND_STATS), where percentiles of separate series cannot be combined.
   * @default "native"
   */
  readonly trends?: 'native' | 'classic';
}

/** One threshold as PromQL. */
export interface ThresholdQuery {
  /** The parsed threshold. */
  readonly threshold: ParsedThreshold;
  /** k6 metric name. */
  readonly metric: string;
  /** Tag filters. */
  readonly filters: Readonly<Record<string, string>>;
  /** The expression as written. */
  readonly expression: string;
  /** One PromQL expression whose single value is in k6's unit (milliseconds for time trends). */
  readonly promql: string;
  /** How the runners' data is combined, in one sentence. */
  readonly aggregation: string;
}

/** Escapes a label value for a double-quoted PromQL string. */
export function promqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** `{testid="X",scenario="api"}` */
function selector(scope: ThresholdQueryScope, filters: Readonly<Record<string, string>>): string {
  const parts = [
    `testid${scope.testidMatch ?? '='}${promqlString(scope.testid)}`,
    ...Object.entries(filters).map(([k, v]) => `${k}=${promqlString(v)}`),
  ];
  return `{${parts.join(',')}}`;
}

function windowOf(scope: ThresholdQueryScope): string {
  return typeof scope.window === 'number' ? `${Math.max(1, Math.ceil(scope.window))}s` : scope.window;
}

/** The Prometheus metric name k6's remote-write output uses for a metric of this type. */
export function prometheusMetricName(metric: string, info: K6MetricInfo): string {
  switch (info.type) {
    case 'counter':
      return `k6_${metric}_total`;
    case 'rate':
      return `k6_${metric}_rate`;
    case 'gauge':
      return `k6_${metric}`;
    case 'trend':
      return info.isTime ? `k6_${metric}_seconds` : `k6_${metric}`;
  }
}

/** PromQL of one threshold over all runners of a run; see docs/verdict.md. */
export function thresholdQuery(t: ParsedThreshold, scope: ThresholdQueryScope): ThresholdQuery {
  const sel = selector(scope, t.filters);
  const w = windowOf(scope);
  const name = prometheusMetricName(t.metric, t.metricInfo);
  const last = (m: string, s = sel) => `last_over_time(${m}${s}[${w}])`;
  const toK6Unit = t.metricInfo.isTime ? ' * 1000' : '';
  const hist = `sum(increase(${name}${sel}[${w}]))`;
  const base = { threshold: t, metric: t.metric, filters: t.filters, expression: t.expression };
  const a = t.aggregation;
  if (t.metricInfo.type === 'trend' && scope.trends === 'classic') return classicTrendQuery(t, base, last, toK6Unit);
  switch (a.kind) {
    case 'percentile':
    case 'med': {
      const q = a.kind === 'percentile' ? Number((a.percentile / 100).toPrecision(12)) : 0.5;
      return {
        ...base,
        promql: `histogram_quantile(${q}, ${hist})${toK6Unit}`,
        aggregation: `quantile ${q} of the native histograms of all runners summed over the run window (within the bucket error)`,
      };
    }
    case 'avg':
      return {
        ...base,
        promql: `(histogram_sum(${hist}) / histogram_count(${hist}))${toK6Unit}`,
        aggregation: 'sum of all observations / their count, over the native histograms of all runners',
      };
    case 'min':
    case 'max':
      return {
        ...base,
        promql: `histogram_quantile(${a.kind === 'min' ? 0 : 1}, ${hist})${toK6Unit}`,
        aggregation: `${a.kind === 'min' ? 'lower' : 'upper'} bound of the ${a.kind === 'min' ? 'lowest' : 'highest'} populated bucket over all runners (native histograms keep no exact min/max)`,
      };
    case 'count':
      return { ...base, promql: `sum(${last(name)})`, aggregation: 'sum over all runners of each counter series’ final value' };
    case 'value':
      return { ...base, promql: `sum(${last(name)})`, aggregation: 'sum over all runners of each gauge series’ last value' };
    case 'rate': {
      if (t.metricInfo.type === 'counter') {
        const d = scope.durationSeconds ?? (typeof scope.window === 'number' ? scope.window : undefined);
        if (d === undefined)
          throw new Error(`thresholdQuery: '${t.key}' '${t.expression}' needs scope.durationSeconds when the window is not a number`);
        return { ...base, promql: `sum(${last(name)}) / ${String(d)}`, aggregation: 'final count over all runners / run duration in seconds' };
      }
      if (t.metric === 'http_req_failed') {
        // Each rate series is weighted by the request count of exactly the same tag set.
        const reqs = last('k6_http_reqs_total');
        return {
          ...base,
          promql: `sum(${last(name)} * ${reqs}) / sum(${reqs} and ${last(name)})`,
          aggregation: 'each runner’s cumulative ratio per tag set weighted by k6_http_reqs_total of the same tag set',
        };
      }
      // Other rates (checks, custom): weight each series by its runner's iterations of the same scenario.
      const iterations = `sum by (instance_id, scenario) (${last('k6_iterations_total', selector(scope, {}))})`;
      return {
        ...base,
        promql: `sum(${last(name)} * on (instance_id, scenario) group_left ${iterations}) / sum((${last(name)} * 0 + 1) * on (instance_id, scenario) group_left ${iterations})`,
        aggregation: 'each runner’s cumulative ratio weighted by that runner’s iterations of the same scenario',
      };
    }
  }
}

/**
 * A trend threshold over classic stat gauges (`k6_<metric>_<stat>`, seconds, cumulative per series since the start):
 * avg, min and max combine exactly; a percentile is the highest value of any series (an upper bound of the run's
 * percentile: a mix of series never has a higher percentile than its highest series).
 */
function classicTrendQuery(
  t: ParsedThreshold,
  base: Pick<ThresholdQuery, 'threshold' | 'metric' | 'filters' | 'expression'>,
  last: (m: string) => string,
  toK6Unit: string,
): ThresholdQuery {
  const stat = (s: string) => `k6_${t.metric}_${s}`;
  const a = t.aggregation;
  switch (a.kind) {
    case 'avg':
      return {
        ...base,
        promql: `(sum(${last(stat('sum'))}) / sum(${last(stat('count'))}))${toK6Unit}`,
        aggregation: 'sum of all observations / their count over all runners, from the classic sum and count gauges (exact)',
      };
    case 'min':
    case 'max':
      return {
        ...base,
        promql: `${a.kind}(${last(stat(a.kind))})${toK6Unit}`,
        aggregation: `${a.kind} over all runners of the classic ${a.kind} gauges (exact)`,
      };
    default: {
      const name = a.kind === 'percentile' ? `p${String(a.percentile).replace('.', '')}` : 'med';
      return {
        ...base,
        promql: `max(${last(stat(name))})${toK6Unit}`,
        aggregation: `highest ${name} gauge of any runner and series: an upper bound, classic percentiles cannot be combined (use native histograms)`,
      };
    }
  }
}

/** PromQL of every threshold of a test (thresholds as in the config, or already parsed). */
export function thresholdQueries(
  thresholds: Readonly<Record<string, readonly string[]>> | readonly ParsedThreshold[],
  scope: ThresholdQueryScope,
): ThresholdQuery[] {
  const parsed = Array.isArray(thresholds)
    ? (thresholds as readonly ParsedThreshold[])
    : parseThresholds(thresholds as Record<string, readonly string[]>);
  return parsed.map((t) => thresholdQuery(t, scope));
}

function unquote(s: string): string {
  return s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0] ? s.slice(1, -1) : s;
}
