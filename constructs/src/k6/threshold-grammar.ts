/**
 * k6's threshold grammar (pure: no I/O): the key with its tag filters, the expression and the object form of
 * `options.thresholds`, parsed as k6 v1.7.1 parses them, with every problem named by its place in the map so the
 * platform config error points at the field. {@link checkThresholds} plugs this into the config schema.
 */
import type { z } from 'zod';
import { parseGoFloat, parseK6Duration, trimQuotes } from './go-values';
import { AGGREGATIONS_BY_TYPE, K6_BUILTIN_METRICS, type K6MetricInfo, type K6MetricType } from './k6-metrics';

/** Comparison operators of k6 thresholds (`===` is accepted as `==`). */
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** An aggregation method of a k6 threshold. */
export type ThresholdAggregation =
  | { readonly kind: 'percentile'; /** 0..100 as written in p(N). */ readonly percentile: number }
  | { readonly kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' };

/**
 * One threshold as k6 accepts it in `options.thresholds[<metric>]`: an expression string, or the object form with
 * `abortOnFail` and `delayAbortEval` (k6 v1.7.1 metrics/thresholds.go `thresholdConfig`).
 */
export interface ThresholdObject {
  /** The expression, e.g. `rate<0.01`. */
  readonly threshold: string;
  /**
   * Whether the run is aborted when the threshold fails: judged over all runners while the run goes, every push
   * interval, by `loadtest run` (runners themselves never judge thresholds; runs started without it are not watched).
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
  /** `abortOnFail` of the object form (false for a plain string); enforced while the run goes (abort-thresholds.ts). */
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

/** A parsed threshold before its metric is typed, with the path problems about it are reported at. */
type Draft = Omit<ParsedThreshold, 'metricInfo'> & { readonly path: ThresholdProblem['path'] };

function parseCollecting(thresholds: ThresholdsConfig): { parsed: ParsedThreshold[]; problems: ThresholdProblem[] } {
  const problems: ThresholdProblem[] = [];
  const drafts = draftThresholds(thresholds, problems);
  const { accepted, infoOf } = typeMetrics(drafts, problems);
  // Problems in the order of the map (keys, then list positions).
  const keys = Object.keys(thresholds);
  const order = (p: ThresholdProblem) => keys.indexOf(p.path[0]) * 1e6 + (p.path[1] ?? -1);
  problems.sort((x, y) => order(x) - order(y));
  return { parsed: accepted.map(({ path: _path, ...d }) => ({ ...d, metricInfo: infoOf(d.metric) })), problems };
}

/** Step 1: every key and expression parsed on its own; what does not parse goes to `problems`. */
function draftThresholds(thresholds: ThresholdsConfig, problems: ThresholdProblem[]): Draft[] {
  const drafts: Draft[] = [];
  for (const [key, specs] of Object.entries(thresholds)) {
    let k: ReturnType<typeof parseThresholdKey>;
    try {
      k = parseThresholdKey(key);
    } catch (e) {
      problems.push({ path: [key], input: key, message: (e as Error).message });
      continue;
    }
    specs.forEach((spec, index) => {
      const draft = draftThreshold(key, k, spec, index, problems);
      if (draft !== undefined) drafts.push(draft);
    });
  }
  return drafts;
}

/** One entry of a key's list: its expression and, in the object form, its abort fields. */
function draftThreshold(
  key: string,
  k: ReturnType<typeof parseThresholdKey>,
  spec: ThresholdSpec,
  index: number,
  problems: ThresholdProblem[],
): Draft | undefined {
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
    return {
      key,
      expression,
      index,
      path,
      metric: k.metric,
      filters: k.filters,
      ...parseThresholdExpression(expression),
      abortOnFail: typeof spec !== 'string' && spec.abortOnFail === true,
      ...(delayAbortEvalMs !== undefined ? { delayAbortEvalMs } : {}),
    };
  } catch (e) {
    problems.push({ path, input: expression, message: (e as Error).message });
    return undefined;
  }
}

/**
 * Step 2: one metric has one type (k6 v1.7.1 metrics/thresholds.go Validate checks each aggregation against it):
 * built-in, or for a custom metric the type every aggregation on it allows, over all keys of the metric (`my{a:1}` and
 * `my` are the same k6 metric). `rate` alone fits a counter and a rate: then it is a rate. A draft whose aggregation
 * does not fit goes to `problems`.
 */
function typeMetrics(drafts: readonly Draft[], problems: ThresholdProblem[]): { accepted: Draft[]; infoOf: (metric: string) => K6MetricInfo } {
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
  return { accepted, infoOf };
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
