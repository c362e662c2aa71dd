/**
 * k6 thresholds judged over ALL runners of a run, from the Prometheus data the runners write (pure: no I/O).
 *
 * A test declares thresholds in k6's own syntax (`{ 'http_req_duration{scenario:api}': ['p(95)<500'] }`); this module
 * parses them (errors name the config field), and turns each into one PromQL expression whose value is in k6's unit
 * (milliseconds for time trends, although Prometheus stores seconds). The CLI verdict, the dashboards' pass/fail row and
 * LoadTest share these queries. See docs/verdict.md for why each aggregation is written the way it is.
 */
import type { z } from 'zod';
import { promqlString } from '../contract/prometheus';

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

/**
 * One threshold as k6 accepts it in `options.thresholds[<metric>]`: an expression string, or the object form with
 * `abortOnFail` and `delayAbortEval` (k6 v1.7.1 metrics/thresholds.go `thresholdConfig`).
 */
export interface ThresholdObject {
  /** The expression, e.g. `rate<0.01`. */
  readonly threshold: string;
  /**
   * Whether k6 aborts the run when the threshold fails (checked by each runner on its own segment; the platform's
   * verdict over all runners carries the flag but does not enforce it during the run).
   * @default false
   */
  readonly abortOnFail?: boolean;
  /**
   * How long k6 waits before evaluating an `abortOnFail` threshold: a k6 duration (`"10s"`, `"1m30s"`, `"1d2h"`) or
   * milliseconds (a number or a numeric string); null is the same as absent.
   * @default - no delay
   */
  readonly delayAbortEval?: string | number | null;
}

/** One entry of a metric's threshold list: a string or the object form. */
export type ThresholdSpec = string | ThresholdObject;

/** The thresholds of a test as in k6 options and the platform config: metric key → list (may be empty, as in k6). */
export type ThresholdsConfig = Readonly<Record<string, readonly ThresholdSpec[]>>;

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
  /** Metric type: built-in, else inferred from the aggregations of all thresholds of the metric. */
  readonly metricInfo: K6MetricInfo;
  /** `abortOnFail` of the object form (false for a plain string). Not enforced by the platform's verdict. */
  readonly abortOnFail: boolean;
  /** `delayAbortEval` of the object form in milliseconds, when given. */
  readonly delayAbortEvalMs?: number;
}

/**
 * One problem found in a thresholds map; `path` is relative to the map: `[key]` for the key, `[key, index]` for an
 * expression string, `[key, index, field]` for a field of the object form.
 */
export interface ThresholdProblem {
  /** Where the problem is. */
  readonly path: readonly [string] | readonly [string, number] | readonly [string, number, string];
  /** The offending key, expression or field value. */
  readonly input: unknown;
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

/** k6 v1.7.1 metrics/registry.go `nameRegexString`: the names a k6 metric can have. */
const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{1,128}$/;
/** A Prometheus label name (what a tag must be to be filtered on in Prometheus). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Messages (each starts with "must", so the platform config error reads `'<field>' must ..., got <value>`). */
export const THRESHOLD_RULES = {
  key: 'must be a k6 metric name with optional tag filters, such as "http_req_duration" or "http_req_duration{scenario:api,method:GET}"',
  metricName: 'must use a k6 metric name: 2 to 129 ASCII letters, digits or "_", not starting with a digit',
  filter:
    'must write each tag filter as "tag:value" with a value after the colon (quote an empty value: "tag:\'\'"), such as "http_req_duration{scenario:api,method:GET}"',
  tagName: 'must use tag names that are Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__")',
  expression:
    'must be a k6 threshold expression "<aggregation><operator><number>" with an operator <, <=, >, >=, ==, === or !=, such as "p(95)<500", "avg<200", "rate<0.01" or "count>1000"',
  aggregation: 'must use one of the k6 aggregations p(N), avg, min, max, med, count, rate or value',
  percentile: 'must use a percentile between 0 and 100 in p(N), such as p(95) or p(99.9)',
  value: 'must compare with a number, such as "p(95)<500" or "rate<0.01"',
  delayAbortEval: 'must be a k6 duration such as "10s", "1m30s" or "1d", or milliseconds',
} as const;

/**
 * Go's strconv.ParseFloat (which k6 uses for the threshold value and the percentile): decimal with optional exponent,
 * hexadecimal with a `p` exponent, `inf`/`infinity`/`nan` in any case, optional sign.
 */
function parseGoFloat(s: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  let n: number | undefined;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) n = Number(s);
  const hex = /^([+-]?)0[xX]_?([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex !== null && `${hex[2]!}${hex[3] ?? ''}`.replace(/_/g, '') !== '') {
    const int = hex[2]!.replace(/_/g, '');
    const frac = (hex[3] ?? '').replace(/_/g, '');
    n = (((hex[1] === '-' ? -1 : 1) * parseInt(`${int}${frac}`, 16)) / 16 ** frac.length) * 2 ** Number(hex[4]);
  }
  // Out of float64 range is an error in Go (ErrRange), not an infinity.
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/**
 * k6's threshold key (v1.7.1 metrics/metric.go `ParseMetricName`, then internal/metrics/engine/engine.go and
 * `Metric.AddSubmetric`): the metric name is everything before the first `{`; the tags run to the last `}`, which must
 * end the key; tags are split on `,`, each needs `:` followed by at least one character; keys and values are trimmed of
 * spaces and then of any `"`/`'` at either end, so `tag:''` is an empty value (a tag k6 sets empty, which Prometheus
 * stores as no label). Throws the rule.
 */
export function parseThresholdKey(key: string): { readonly metric: string; readonly filters: Readonly<Record<string, string>> } {
  const open = key.indexOf('{');
  const close = key.lastIndexOf('}');
  if (open < 0 !== close < 0 || close < open || (close >= 0 && close !== key.length - 1)) throw new Error(THRESHOLD_RULES.key);
  const metric = open < 0 ? key : key.slice(0, open);
  if (!METRIC_NAME.test(metric)) throw new Error(THRESHOLD_RULES.metricName);
  const filters: Record<string, string> = {};
  if (open >= 0) {
    for (const part of key.slice(open + 1, close).split(',')) {
      const colon = part.indexOf(':');
      if (colon < 0 || colon === part.length - 1) throw new Error(THRESHOLD_RULES.filter);
      const tag = trimQuotes(part.slice(0, colon).trim());
      if (!LABEL_NAME.test(tag) || tag.startsWith('__')) throw new Error(THRESHOLD_RULES.tagName);
      filters[tag] = trimQuotes(part.slice(colon + 1).trim());
    }
  }
  return { metric, filters };
}

/** k6 v1.7.1 metrics/thresholds_parser.go `operatorTokens`, in the order they are tried. */
const OPERATOR_TOKENS = ['<=', '<', '>=', '>', '===', '==', '!='] as const;
const METHOD_TOKENS = ['value', 'count', 'rate', 'avg', 'min', 'med', 'max'] as const;

/**
 * Parses an expression (`p(95)<500`) into aggregation, operator and value as k6 v1.7.1 metrics/thresholds_parser.go
 * does: the first operator token (in the order `<=`, `<`, `>=`, `>`, `===`, `==`, `!=`) found with text after it splits
 * the expression; both sides are trimmed; the left is an aggregation token or `p(<float>)`, the right a float. Throws
 * the rule.
 */
export function parseThresholdExpression(expression: string): {
  readonly aggregation: ThresholdAggregation;
  readonly aggregationName: string;
  readonly operator: ThresholdOperator;
  readonly value: number;
} {
  let scanned: [string, string, string] | undefined;
  for (const op of OPERATOR_TOKENS) {
    const at = expression.indexOf(op);
    if (at >= 0 && at + op.length < expression.length) {
      scanned = [expression.slice(0, at).trim(), op, expression.slice(at + op.length).trim()];
      break;
    }
  }
  if (scanned === undefined) throw new Error(THRESHOLD_RULES.expression);
  const [method, op, rhs] = scanned;
  const operator = (op === '===' ? '==' : op) as ThresholdOperator;
  let aggregation: ThresholdAggregation;
  if ((METHOD_TOKENS as readonly string[]).includes(method)) aggregation = { kind: method as (typeof METHOD_TOKENS)[number] };
  else if (method.startsWith('p(') && method.endsWith(')')) {
    const p = parseGoFloat(method.slice(2, -1));
    if (p === undefined) throw new Error(THRESHOLD_RULES.percentile);
    // k6 parses any float here, but its TrendSink.P (metrics/sink.go) indexes out of range outside 0..100.
    if (!(p >= 0 && p <= 100)) throw new Error(THRESHOLD_RULES.percentile);
    aggregation = { kind: 'percentile', percentile: p };
  } else throw new Error(THRESHOLD_RULES.aggregation);
  const value = parseGoFloat(rhs);
  if (value === undefined) throw new Error(THRESHOLD_RULES.value);
  return { aggregation, aggregationName: method, operator, value };
}

/**
 * A k6 duration in milliseconds (v1.7.1 lib/types/types.go `NullDuration.UnmarshalJSON` / `ParseExtendedDuration`):
 * a number or numeric string is milliseconds, `<int>d[<go duration>]` days, else a Go duration (`1h2m3.5s`, `250ms`).
 */
export function parseK6Duration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  const n = parseGoFloat(v);
  if (n !== undefined) return Number.isFinite(n) ? n : undefined;
  const d = v.indexOf('d');
  if (d < 0) return parseGoDuration(v);
  const days = /^[+-]?\d+$/.test(v.slice(0, d)) ? Number(v.slice(0, d)) : undefined;
  if (days === undefined) return undefined;
  const rest = d + 1 < v.length ? parseGoDuration(v.slice(d + 1)) : 0;
  if (rest === undefined || rest < 0) return undefined;
  return days * 86_400_000 + (days < 0 ? -rest : rest);
}

const GO_DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration in milliseconds. */
function parseGoDuration(s: string): number | undefined {
  const m = /^([+-]?)(.*)$/s.exec(s)!;
  if (m[2] === '0') return 0;
  if (m[2] === '') return undefined;
  let total = 0;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let pos = 0;
  for (let x = re.exec(m[2]!); x !== null; x = re.exec(m[2]!)) {
    total += Number(x[1]) * GO_DURATION_UNITS[x[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== m[2]!.length) return undefined;
  return m[1] === '-' ? -total : total;
}

/** Metric types whose thresholds may use an aggregation (k6 v1.7.1 metrics/metric_type.go `supportedAggregationMethods`). */
function typesWith(aggregation: ThresholdAggregation): readonly K6MetricType[] {
  const name = aggregation.kind === 'percentile' ? 'p(N)' : aggregation.kind;
  return (Object.keys(AGGREGATIONS_BY_TYPE) as K6MetricType[]).filter((t) => AGGREGATIONS_BY_TYPE[t].includes(name));
}

/**
 * The type of a metric: k6's built-ins are known; a custom metric's type follows from the aggregation (`p(N)`, `avg`,
 * `med`, `min`, `max` → trend without time unit, `count` → counter, `rate` → rate, `value` → gauge). With several
 * thresholds on one custom metric, {@link parseThresholds} resolves the type from all of them (`count` and `rate` →
 * counter).
 */
export function inferMetricInfo(metric: string, aggregation: ThresholdAggregation): K6MetricInfo {
  const builtin = K6_BUILTIN_METRICS[metric];
  if (builtin !== undefined) return builtin;
  const types = typesWith(aggregation);
  return { type: types.length === 1 ? types[0]! : 'rate', isTime: false };
}

/** Every problem of a thresholds map (empty when valid). Used by the platform config schema. */
export function thresholdProblems(thresholds: ThresholdsConfig): ThresholdProblem[] {
  return parseCollecting(thresholds).problems;
}

/** `'<field>.<key>[<i>].<sub>'` of a problem. */
export function thresholdProblemField(field: string, p: ThresholdProblem): string {
  return `${field}.${p.path[0]}${p.path.length >= 2 ? `[${p.path[1]}]` : ''}${p.path.length === 3 ? `.${p.path[2]}` : ''}`;
}

/**
 * Parses a thresholds map. Throws {@link ThresholdError} listing every problem with its field, e.g.
 * `'tests[0].thresholds.http_req_duration[1]' must be a k6 threshold expression ..., got "p95<500"`.
 */
export function parseThresholds(thresholds: ThresholdsConfig, field = 'thresholds'): ParsedThreshold[] {
  const { parsed, problems } = parseCollecting(thresholds);
  if (problems.length > 0) {
    throw new ThresholdError(problems.map((p) => `'${thresholdProblemField(field, p)}' ${p.message}, got ${JSON.stringify(p.input)}`));
  }
  return parsed;
}

function parseCollecting(thresholds: ThresholdsConfig): { parsed: ParsedThreshold[]; problems: ThresholdProblem[] } {
  type Draft = Omit<ParsedThreshold, 'metricInfo'> & { readonly path: ThresholdProblem['path'] };
  const drafts: Draft[] = [];
  const problems: ThresholdProblem[] = [];
  for (const [key, specs] of Object.entries(thresholds)) {
    let k: ReturnType<typeof parseThresholdKey>;
    try {
      k = parseThresholdKey(key);
    } catch (e) {
      problems.push({ path: [key], input: key, message: (e as Error).message });
      continue;
    }
    specs.forEach((spec, index) => {
      const expression = typeof spec === 'string' ? spec : spec.threshold;
      const path: ThresholdProblem['path'] = typeof spec === 'string' ? [key, index] : [key, index, 'threshold'];
      let delayAbortEvalMs: number | undefined;
      if (typeof spec !== 'string' && spec.delayAbortEval !== undefined && spec.delayAbortEval !== null) {
        delayAbortEvalMs = parseK6Duration(spec.delayAbortEval);
        if (delayAbortEvalMs === undefined) {
          problems.push({ path: [key, index, 'delayAbortEval'], input: spec.delayAbortEval, message: THRESHOLD_RULES.delayAbortEval });
        }
      }
      try {
        drafts.push({
          key,
          expression,
          index,
          path,
          metric: k.metric,
          filters: k.filters,
          ...parseThresholdExpression(expression),
          abortOnFail: typeof spec !== 'string' && spec.abortOnFail === true,
          ...(delayAbortEvalMs !== undefined ? { delayAbortEvalMs } : {}),
        });
      } catch (e) {
        problems.push({ path, input: expression, message: (e as Error).message });
      }
    });
  }
  // One metric has one type (k6 v1.7.1 metrics/thresholds.go Validate checks each aggregation against it): built-in, or
  // for a custom metric the type every aggregation on it allows, over all keys of the metric (`my{a:1}` and `my` are
  // the same k6 metric). `rate` alone fits a counter and a rate: then it is a rate.
  const custom = new Map<string, { types: readonly K6MetricType[]; first: Draft }>();
  const accepted: Draft[] = [];
  for (const d of drafts) {
    const fits = typesWith(d.aggregation);
    const builtin = K6_BUILTIN_METRICS[d.metric];
    if (builtin !== undefined) {
      if (fits.includes(builtin.type)) accepted.push(d);
      else {
        problems.push({
          path: d.path,
          input: d.expression,
          message: `must use an aggregation a ${builtin.type} metric has (${AGGREGATIONS_BY_TYPE[builtin.type].join(', ')}): '${d.metric}' is a ${builtin.type}`,
        });
      }
      continue;
    }
    const before = custom.get(d.metric);
    const types = before === undefined ? fits : before.types.filter((t) => fits.includes(t));
    if (types.length > 0) {
      custom.set(d.metric, { types, first: before?.first ?? d });
      accepted.push(d);
      continue;
    }
    const b = before!;
    const allowed = [...new Set(b.types.flatMap((t) => AGGREGATIONS_BY_TYPE[t]))].join(', ');
    problems.push({
      path: d.path,
      input: d.expression,
      message: `must use an aggregation that fits the other thresholds of custom metric '${d.metric}': "${b.first.expression}" at '${b.first.key}[${b.first.index}]' makes it a ${b.types.join(' or ')} (${allowed})`,
    });
  }
  const infoOf = (metric: string): K6MetricInfo => {
    const builtin = K6_BUILTIN_METRICS[metric];
    if (builtin !== undefined) return builtin;
    const types = custom.get(metric)!.types;
    return { type: types.length === 1 ? types[0]! : 'rate', isTime: false };
  };
  // Problems in the order of the map (keys, then list positions).
  const keys = Object.keys(thresholds);
  const order = (p: ThresholdProblem) => keys.indexOf(p.path[0]) * 1e6 + (p.path[1] ?? -1);
  problems.sort((x, y) => order(x) - order(y));
  return { parsed: accepted.map(({ path: _path, ...d }) => ({ ...d, metricInfo: infoOf(d.metric) })), problems };
}

/**
 * A zod superRefine for the `thresholds` field of a test: adds one issue per problem at
 * `thresholds.<key>[<i>](.<field>)`, so a bad threshold fails config parsing with the field path.
 */
export function checkThresholds(thresholds: ThresholdsConfig, ctx: z.core.$RefinementCtx): void {
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
    case 'avg': {
      // k6 v1.7.1 internal/output/prometheusrw/remotewrite/trend.go adaptUnit divides EVERY stat of a time trend by
      // 1000, `_count` included: the number of observations is `_count * 1000` for time trends.
      const count = t.metricInfo.isTime ? `(sum(${last(stat('count'))}) * 1000)` : `sum(${last(stat('count'))})`;
      return {
        ...base,
        promql: `(sum(${last(stat('sum'))}) / ${count})${toK6Unit}`,
        aggregation:
          'sum of all observations / their count over all runners, from the classic sum and count gauges (exact; a time trend’s _count is written divided by 1000)',
      };
    }
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

/**
 * The classic trend stats the generated classic dashboards read (dashboards/src/load-test-panels.ts `QUANTILES`
 * p50/p90/p95/p99 and the min/max of `extreme`, the `quantile_stat` variable of k6-load-test-classic.ts), in k6's
 * K6_PROMETHEUS_RW_TREND_STATS notation. dashboards/test/dashboards.test.ts checks every `k6_<trend>_<stat>` the
 * classic dashboard queries is covered.
 */
export const CLASSIC_DASHBOARD_TREND_STATS: readonly string[] = ['p(90)', 'p(95)', 'p(99)', 'med', 'min', 'max'];

/**
 * K6_PROMETHEUS_RW_TREND_STATS for runners writing classic trend stats (`runner.nativeHistograms: false`): what the
 * classic dashboards read ({@link CLASSIC_DASHBOARD_TREND_STATS}) plus what the test's trend thresholds need: `avg` →
 * `sum` and `count` (the verdict's exact average over all runners, {@link thresholdQuery}), `min`/`max`/`med` as
 * themselves, `p(N)` → `p(N)` (k6 writes `_p<N without the dot>`). One list for every trend of the runner: the variable
 * is per runner, not per metric. Stat names as k6 v1.7.1 metrics/sample.go `GetResolversForTrendColumns` and
 * internal/output/prometheusrw/remotewrite/remotewrite.go `setTrendStatsResolver` (`sum`) accept them.
 */
export function classicTrendStats(thresholds: ThresholdsConfig | readonly ParsedThreshold[] = {}): string[] {
  const parsed = Array.isArray(thresholds) ? (thresholds as readonly ParsedThreshold[]) : parseThresholds(thresholds as ThresholdsConfig);
  const stats = [...CLASSIC_DASHBOARD_TREND_STATS];
  const add = (s: string) => {
    if (!stats.includes(s)) stats.push(s);
  };
  for (const t of parsed) {
    if (t.metricInfo.type !== 'trend') continue;
    const a = t.aggregation;
    if (a.kind === 'avg') {
      add('sum');
      add('count');
    } else if (a.kind === 'percentile') add(`p(${String(a.percentile)})`);
    else add(a.kind);
  }
  return stats;
}

/** PromQL of every threshold of a test (thresholds as in the config, or already parsed). */
export function thresholdQueries(thresholds: ThresholdsConfig | readonly ParsedThreshold[], scope: ThresholdQueryScope): ThresholdQuery[] {
  const parsed = Array.isArray(thresholds) ? (thresholds as readonly ParsedThreshold[]) : parseThresholds(thresholds as ThresholdsConfig);
  return parsed.map((t) => thresholdQuery(t, scope));
}

/** Go's `strings.Trim(s, "\"'")`: every `"` and `'` at either end. */
function trimQuotes(s: string): string {
  return s.replace(/^["']+|["']+$/g, '');
}
