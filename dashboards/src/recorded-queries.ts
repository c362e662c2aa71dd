/**
 * The native dashboard over recorded series: the platform's recording rules (`RecordingRules` of the library)
 * pre-aggregate latency histograms and rates by the labels the panels use, so a panel reads a few recorded series
 * instead of every runner's histograms. A run recorded before the rules existed, or a Prometheus without them, has
 * only the raw series: the `source` variable switches every query between the two.
 *
 * Each switched query is `<recorded side> or <raw side>`, both inside the aggregation, and the sides carry opposite
 * matchers on a label no series has ({@link SOURCE_GUARD_LABEL}, so its value reads as ""): with `source` = `.*` the
 * recorded side matches (`"" =~ ".*"`) and the raw side selects nothing (`"" !~ ".*"` is false); with `.+` the other
 * way round. The unselected side costs an index lookup, not a decode of its samples: an `or` of two full sides would
 * evaluate both, and the raw one is the cost the rules exist to avoid.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  RECORDED_COUNTERS,
  RECORDED_GAUGES,
  RECORDED_HTTP_TRENDS,
  recordedCounterRate,
  recordedGaugeSum,
  recordedHistogramRate,
  RECORDED_RUN_TRENDS,
  RECORDED_RUNNER_TRENDS,
  recordedRunIncrement,
  RULE_LEVELS,
  type RuleLevel,
  type RunHistogramSource,
} from '@k6-platform/constructs/internal';
import { byClause, nativeLatency, type LatencyQueries } from './queries';

/** A label no k6 or recorded series carries: matchers on it compare `$source` against the empty string. */
export const SOURCE_GUARD_LABEL = 'dashboard_source';

/** The values of the `source` variable: regexes that match the empty string (recorded) or not (raw). */
export const SOURCE_VALUES = { recorded: '.*', raw: '.+' } as const;

const RECORDED_SIDE = `${SOURCE_GUARD_LABEL}=~"$source"`;
const RAW_SIDE = `${SOURCE_GUARD_LABEL}!~"$source"`;

/** The guards as the threshold queries take them (the pass/fail row reads the run totals the same way). */
export const SOURCE_GUARDS: RunHistogramSource = { recordedGuard: RECORDED_SIDE, rawGuard: RAW_SIDE };

/**
 * The `source` variable: recorded series (default) or the raw ones. A custom variable of `label : value` pairs (the
 * form @grafana/scenes CustomVariable parses); single-valued, so Grafana's Prometheus datasource escapes only
 * backslashes and quotes in its value (grafana/grafana packages/grafana-prometheus/src/escaping.ts
 * `interpolateQueryExpr`), and the regexes reach Prometheus as written.
 */
export function sourceVariable(): dashboard.CustomVariableBuilder {
  const options = Object.entries(SOURCE_VALUES).map(([text, value]) => ({ text, value, selected: text === 'recorded' }));
  return new dashboard.CustomVariableBuilder('source')
    .label('Series')
    .description(
      'recorded: the platform recording rules (fast). raw: every runner series, for runs recorded before the rules existed or a ' +
        'Prometheus without them, and for filters on labels the rules drop (instance_id, url, proto).',
    )
    .values(options.map((o) => `${o.text} : ${o.value}`).join(','))
    .options(options)
    .current({ text: 'recorded', value: SOURCE_VALUES.recorded });
}

/** Label names a selector matches on (`testid=~"$testid", name=~"$name"` gives testid and name). */
export function selectorLabels(sel: string): string[] {
  return [...sel.matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)].map((m) => m[1]!);
}

/** The first of `levels` that keeps every label a query selects or groups by; none when no rule keeps them all. */
function levelFor(levels: readonly RuleLevel[], sel: string, by?: readonly string[]): RuleLevel | undefined {
  const needed = [...selectorLabels(sel), ...(by ?? [])];
  return levels.find((lv) => needed.every((l) => (RULE_LEVELS[lv] as readonly string[]).includes(l)));
}

/**
 * `sum by (...) (<recorded> or <raw>)` with the source guards, or the raw query alone when nothing is recorded. Each
 * side is given the selector with its guard.
 */
function switched(
  recorded: ((sel: string) => string) | undefined,
  raw: (sel: string) => string,
  sel: string,
  by: readonly string[] | undefined,
  rawOnly: string,
): string {
  if (recorded === undefined) return rawOnly;
  return `sum${byClause(by)} (${recorded(`${sel}, ${RECORDED_SIDE}`)} or ${raw(`${sel}, ${RAW_SIDE}`)})`;
}

/** A recorded series read as it is, or not at all. */
const plain = (name: string | undefined) => (name === undefined ? undefined : (s: string) => `${name}{${s}}`);

const counterLevels = (metric: string): RuleLevel[] => RECORDED_COUNTERS.filter((c) => c.metric === metric).map((c) => c.level);
const gaugeLevels = (metric: string): RuleLevel[] => RECORDED_GAUGES.filter((g) => g.metric === metric).map((g) => g.level);
/** The levels each native-histogram trend's rate is recorded at. */
function histogramLevels(trend: string): RuleLevel[] {
  const levels: RuleLevel[] = [];
  if ((RECORDED_HTTP_TRENDS as readonly string[]).includes(trend)) levels.push('request');
  if ((RECORDED_RUNNER_TRENDS as readonly string[]).includes(trend)) levels.push('runner_request');
  if (trend === 'iteration_duration') levels.push('scenario');
  return levels;
}

/**
 * The run's merged histogram over the time range, by `by`: the sum of the recorded run increments where the trend has
 * them and the request level keeps the labels, else the `increase` of every runner's series.
 */
function runHistogram(trend: string, sel: string, by: readonly string[] | undefined): string {
  const level = (RECORDED_RUN_TRENDS as readonly string[]).includes(trend) ? levelFor(['request'], sel, by) : undefined;
  const raw = (s: string) => `increase(k6_${trend}_seconds{${s}}[$__range])`;
  const recorded = level && ((s: string) => `sum_over_time(${recordedRunIncrement(trend)}{${s}}[$__range])`);
  return switched(recorded, raw, sel, by, `sum${byClause(by)} (${raw(sel)})`);
}

/**
 * Native histograms read through the recording rules where a rule keeps the labels a query needs (switched by
 * `source`), else raw: over time from the recorded 1m rates, over the whole run from the recorded run increments.
 */
export const recordedLatency: LatencyQueries = {
  ...nativeLatency,
  overTime: (trend, q, sel, by) => `histogram_quantile(${q.native}, ${recordedLatency.histogramRate(trend, sel, by)})`,
  overRun: (trend, q, sel, by) => `histogram_quantile(${q.native}, ${runHistogram(trend, sel, by)})`,
  extreme: (trend, which, sel, by) => `histogram_quantile(${which === 'min' ? '0' : '1'}, ${runHistogram(trend, sel, by)})`,
  histogramRate: (trend, sel, by) => {
    const level = levelFor(histogramLevels(trend), sel, by);
    return switched(
      plain(level && recordedHistogramRate(trend, level)),
      (s) => `rate(k6_${trend}_seconds{${s}}[$__rate_interval])`,
      sel,
      by,
      nativeLatency.histogramRate(trend, sel, by),
    );
  },
  rate: (metric, sel, by) => {
    const level = levelFor(counterLevels(metric), sel, by);
    return switched(
      plain(level && recordedCounterRate(metric, level)),
      (s) => `rate(${metric}{${s}}[$__rate_interval])`,
      sel,
      by,
      nativeLatency.rate(metric, sel, by),
    );
  },
  gauge: (metric, sel, by) => {
    const level = levelFor(gaugeLevels(metric), sel, by);
    return switched(plain(level && recordedGaugeSum(metric, level)), (s) => `${metric}{${s}}`, sel, by, nativeLatency.gauge(metric, sel, by));
  },
};
