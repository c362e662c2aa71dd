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
  RECORDED_HISTOGRAMS,
  RECORDED_RUN_INCREMENTS,
  recordedCounterRate,
  recordedGaugeSum,
  recordedHistogramRate,
  recordedRunIncrement,
  RULE_LEVELS,
  type RecordedLevel,
  type RuleLevel,
  type RunTotalsSource,
} from '@k6-platform/constructs/internal';
import { byClause, derivedRaw, nativeLatency, type LatencyQueries } from './queries';

/** A label no k6 or recorded series carries: matchers on it compare `$source` against the empty string. */
export const SOURCE_GUARD_LABEL = 'dashboard_source';

/** The values of the `source` variable: regexes that match the empty string (recorded) or not (raw). */
export const SOURCE_VALUES = { recorded: '.*', raw: '.+' } as const;

const RECORDED_SIDE = `${SOURCE_GUARD_LABEL}=~"$source"`;
const RAW_SIDE = `${SOURCE_GUARD_LABEL}!~"$source"`;

/** The guards as the threshold queries take them (the pass/fail row reads the run totals the same way). */
export const SOURCE_GUARDS: RunTotalsSource = { recordedGuard: RECORDED_SIDE, rawGuard: RAW_SIDE };

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
        'Prometheus without them, and for ad-hoc filters on labels the rules drop: url and proto; with every scenario and URL ' +
        'shown, also method, status and instance_id.',
    )
    .values(options.map((o) => `${o.text} : ${o.value}`).join(','))
    .options(options)
    .current({ text: 'recorded', value: SOURCE_VALUES.recorded });
}

/** Label names a selector matches on (`testid=~"$testid", name=~"$name"` gives testid and name). */
export function selectorLabels(sel: string): string[] {
  return splitSelector(sel).map(labelOf);
}

/** The label a matcher is on (`name=~"$name"` gives name). */
const labelOf = (matcher: string): string => /^\w+/.exec(matcher)![0];

/** The labels a selector matches with a whole variable, and the variable (`name=~"$name"` gives name: name). */
function variableMatchers(sel: string): Map<string, string> {
  return new Map([...sel.matchAll(/(\w+)\s*=~\s*"\$(\w+)"/g)].map((m) => [m[1]!, m[2]!]));
}

/** The levels from the fewest series a run has at each to the most (a coarser level is read first when it can be). */
const LEVEL_ORDER: readonly RuleLevel[] = ['run', 'outcome', 'scenario', 'check', 'runner', 'request', 'runner_request'];

const keeps = (level: RuleLevel, label: string): boolean => (RULE_LEVELS[level] as readonly string[]).includes(label);

/**
 * The recorded side of a switched query, reading `read(level, selector)` at one of `levels`, or undefined when none
 * keeps every label the query selects or groups by. That level (`fine`) holds the answer for any value of the
 * dashboard's variables. While the variables it filters on are at "All" (the usual view of a run), a coarser level
 * that drops those labels holds the same sums in fewer series (`outcome` for a run's requests, `runner` per runner),
 * and is read instead. The two branches are told apart the way the source is, by a matcher on
 * {@link SOURCE_GUARD_LABEL}, which every series lacks: `=~"($v1)($v2)"` holds exactly when every dropped variable
 * matches the empty string, which "All" (`.*`) does and a picked value never does (label values are never empty, and
 * Grafana sends several picked values as `(a|b)`); `!~` the other way round. Exactly one branch selects series; the
 * other costs an index lookup. The coarse branch leaves out the matchers on the labels it drops: they are "All".
 */
function recordedSide(
  levels: readonly RuleLevel[],
  read: (level: RuleLevel, sel: string) => string,
  sel: string,
  by: readonly string[] | undefined,
): string | undefined {
  const needed = [...new Set([...selectorLabels(sel), ...(by ?? [])])];
  const ordered = LEVEL_ORDER.filter((l) => levels.includes(l));
  const fine = ordered.find((lv) => needed.every((l) => keeps(lv, l)));
  if (fine === undefined) return undefined;
  const vars = variableMatchers(sel);
  const droppable = (l: string) => vars.has(l) && !(by ?? []).includes(l);
  const coarse = ordered.slice(0, ordered.indexOf(fine)).find((lv) => needed.every((l) => keeps(lv, l) || droppable(l)));
  if (coarse === undefined) return read(fine, `${sel}, ${RECORDED_SIDE}`);
  const dropped = needed.filter((l) => !keeps(coarse, l));
  const allAll = dropped.map((l) => `($${vars.get(l)!})`).join('');
  const kept = splitSelector(sel).filter((m) => !dropped.includes(labelOf(m)));
  return [
    read(coarse, [...kept, RECORDED_SIDE, `${SOURCE_GUARD_LABEL}=~"${allAll}"`].join(', ')),
    read(fine, [sel, RECORDED_SIDE, `${SOURCE_GUARD_LABEL}!~"${allAll}"`].join(', ')),
  ].join(' or ');
}

/** The matchers of a selector, each as written (`a=~"x", b="y"` gives `a=~"x"` and `b="y"`). */
function splitSelector(sel: string): string[] {
  return [...sel.matchAll(/\w+\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g)].map((m) => m[0]);
}

/**
 * `sum by (...) (<recorded> or <raw>)` with the source guards, or the raw query alone when nothing recorded keeps the
 * labels the query needs.
 */
function switched(
  levels: readonly RuleLevel[],
  recorded: (level: RuleLevel, sel: string) => string,
  raw: (sel: string) => string,
  sel: string,
  by: readonly string[] | undefined,
  rawOnly: string,
): string {
  const side = recordedSide(levels, recorded, sel, by);
  if (side === undefined) return rawOnly;
  return `sum${byClause(by)} (${side} or ${raw(`${sel}, ${RAW_SIDE}`)})`;
}

const levelsOf = (table: readonly RecordedLevel[], metric: string): RuleLevel[] => table.filter((c) => c.metric === metric).map((c) => c.level);

/**
 * The run's total over the time range, by `by`: the sum of the recorded run increments where the series has them at
 * a level keeping the labels, else `raw` over every runner's series.
 */
function runTotal(series: string, sel: string, by: readonly string[] | undefined, raw: (s: string) => string): string {
  return switched(
    levelsOf(RECORDED_RUN_INCREMENTS, series),
    (level, s) => `sum_over_time(${recordedRunIncrement(series, level)}{${s}}[$__range])`,
    raw,
    sel,
    by,
    `sum${byClause(by)} (${raw(sel)})`,
  );
}

const runHistogram = (trend: string, sel: string, by: readonly string[] | undefined): string =>
  runTotal(`k6_${trend}_seconds`, sel, by, (s) => `increase(k6_${trend}_seconds{${s}}[$__range])`);

/**
 * Native histograms read through the recording rules where a rule keeps the labels a query needs (switched by
 * `source`), else raw: over time from the recorded 1m rates, over the whole run from the recorded run increments.
 */
export const recordedLatency: LatencyQueries = {
  ...nativeLatency,
  overTime: (trend, q, sel, by) => `histogram_quantile(${q.native}, ${recordedLatency.histogramRate(trend, sel, by)})`,
  overRun: (trend, q, sel, by) => `histogram_quantile(${q.native}, ${runHistogram(trend, sel, by)})`,
  extreme: (trend, which, sel, by) => `histogram_quantile(${which === 'min' ? '0' : '1'}, ${runHistogram(trend, sel, by)})`,
  histogramRate: (trend, sel, by) =>
    switched(
      levelsOf(RECORDED_HISTOGRAMS, trend),
      (level, s) => `${recordedHistogramRate(trend, level)}{${s}}`,
      (s) => `rate(k6_${trend}_seconds{${s}}[$__rate_interval])`,
      sel,
      by,
      nativeLatency.histogramRate(trend, sel, by),
    ),
  rate: (metric, sel, by) =>
    switched(
      levelsOf(RECORDED_COUNTERS, metric),
      (level, s) => `${recordedCounterRate(metric, level)}{${s}}`,
      (s) => `rate(${metric}{${s}}[$__rate_interval])`,
      sel,
      by,
      nativeLatency.rate(metric, sel, by),
    ),
  gauge: (metric, sel, by) =>
    switched(
      levelsOf(RECORDED_GAUGES, metric),
      (level, s) => `${recordedGaugeSum(metric, level)}{${s}}`,
      (s) => `${metric}{${s}}`,
      sel,
      by,
      nativeLatency.gauge(metric, sel, by),
    ),
  total: (metric, sel, by) => runTotal(metric, sel, by, (s) => `last_over_time(${metric}{${s}}[$__range])`),
  derived: (series, sel, by, overRun) =>
    overRun
      ? runTotal(series, sel, by, (s) => derivedRaw(series, s, true))
      : switched(
          levelsOf(RECORDED_GAUGES, series),
          (level, s) => `${recordedGaugeSum(series, level)}{${s}}`,
          (s) => derivedRaw(series, s, false),
          sel,
          by,
          nativeLatency.derived(series, sel, by, false),
        ),
};
