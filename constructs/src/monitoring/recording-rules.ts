/**
 * Recording rules for what the native load-test dashboard reads. Runners write one native histogram per trend, tag
 * set and runner; a dashboard panel merging them decodes every histogram sample of every runner at every step. The
 * rules pre-aggregate once per evaluation, by the labels the dashboard groups and filters by, so a panel decodes a
 * few recorded series instead.
 *
 * Names follow the Prometheus convention `level:metric:operations` (docs/practices/rules.md of prometheus/prometheus):
 * the level names the labels kept ({@link RULE_LEVELS}), the metric is k6's name without `_total` for counters under
 * `rate`, the operation is `rate1m` or `sum`.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { k6DurationSeconds } from '../config/rules';

/**
 * How often the groups are evaluated, set on each group rather than left to the stack (kube-prometheus-stack 88.5.3
 * leaves `prometheusSpec.evaluationInterval` empty): the recorded series then have a point every 15 s, the step
 * Grafana picks for an hour on a usual panel width.
 */
export const RECORDING_RULE_INTERVAL = '15s';

/**
 * Range of every `rate` the rules take: 12 pushes at k6's default remote-write push interval (5 s, k6 v1.7.1
 * internal/output/prometheusrw/remotewrite/config.go `defaultPushInterval`), and 4 evaluation steps, so consecutive
 * evaluations overlap and no sample falls between two of them.
 */
export const RECORDING_RULE_WINDOW = '1m';

/**
 * The label sets the rules keep, by level name. `request` is what the dashboard's HTTP panels select and group by
 * (run, scenario, URL name, and the method/status/expected_response splits); `runner_request` adds the runner for
 * the per-runner panels; `scenario` is for iteration and data counters, which carry no URL. `outcome` and `runner`
 * are what those panels read while no scenario and no URL is picked (the usual view of a run): the same series summed
 * over every request, one or two per run (expected or not) instead of one per request, and one per runner. `check`
 * is for checks, by name. Every level keeps `zone`,
 * the cluster of a run spread over several (`loadtest run --context a --context b`), which the dashboards select and
 * break down by; a run in one cluster has none, and the level then has none either.
 */
export const RULE_LEVELS = {
  run: ['testid', 'test', 'zone'],
  outcome: ['testid', 'test', 'zone', 'expected_response'],
  scenario: ['testid', 'test', 'zone', 'scenario'],
  request: ['testid', 'test', 'zone', 'scenario', 'name', 'method', 'status', 'expected_response'],
  runner: ['testid', 'test', 'zone', 'instance_id'],
  runner_request: ['testid', 'test', 'zone', 'scenario', 'name', 'instance_id'],
  check: ['testid', 'test', 'zone', 'scenario', 'check'],
} as const satisfies Record<string, readonly string[]>;

/** A level of {@link RULE_LEVELS}. */
export type RuleLevel = keyof typeof RULE_LEVELS;

/** The k6 HTTP timing trends the rules record (every phase the dashboard's timing panel shows). */
export const RECORDED_HTTP_TRENDS = [
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_waiting',
  'http_req_receiving',
  'http_req_duration',
] as const;

/** A recorded series: what it reads and the level it keeps. */
export interface RecordedLevel {
  /** The k6 trend (`http_req_duration`: `k6_http_req_duration_seconds`) or series name (`k6_http_reqs_total`). */
  readonly metric: string;
  /** The labels kept. */
  readonly level: RuleLevel;
  /**
   * A finer level recorded in the same group, which this one sums instead of the runners' series: rules of a group run
   * in order, each seeing the results of those before it at the same evaluation time (Prometheus v3.5.0
   * rules/group.go `Eval`: one appender committed per rule), so a coarse level costs a sum over a few recorded series.
   */
  readonly from?: RuleLevel;
}

/**
 * The native-histogram trends whose 1m rate is recorded, at each level: every HTTP timing per request and for the
 * whole run (by outcome), the request duration per runner (with and without the request), iterations per scenario.
 */
export const RECORDED_HISTOGRAMS: readonly RecordedLevel[] = [
  ...RECORDED_HTTP_TRENDS.flatMap((metric) => [
    { metric, level: 'request' as const },
    { metric, level: 'outcome' as const, from: 'request' as const },
  ]),
  { metric: 'http_req_duration', level: 'runner_request' },
  { metric: 'http_req_duration', level: 'runner', from: 'runner_request' },
  { metric: 'iteration_duration', level: 'scenario' },
];

/**
 * The series whose increments over a whole run are recorded ({@link runIncrementExpr}), per request and by outcome:
 * the request duration's histogram, the request count, and the two counts of k6's `http_req_failed` rate
 * ({@link DERIVED_SERIES}), and the checks' two sums by check. What the dashboard's run stats, URL table and pass/fail row, and the verdict, read over a
 * whole run.
 */
export const RECORDED_RUN_INCREMENTS: readonly RecordedLevel[] = [
  ...['k6_http_req_duration_seconds', 'k6_http_reqs_total', 'k6_http_req_failed_nonzero', 'k6_http_req_failed_samples'].flatMap((metric) => [
    { metric, level: 'request' as const },
    { metric, level: 'outcome' as const, from: 'request' as const },
  ]),
  { metric: 'k6_checks_weighted', level: 'check' },
  { metric: 'k6_checks_weight', level: 'check' },
];

// `group_left ()`: as Prometheus prints it back (/api/v1/rules), so a loaded rule reads as written
const CHECKS_JOIN = 'on (testid, instance_id, scenario) group_left ()';
const iterationsOf = (read: (series: string) => string) => `sum by (testid, instance_id, scenario) (${read('k6_iterations_total')})`;

/**
 * Series the rules derive from k6's own, by the name they are recorded under, as PromQL over `read(series)`: how a k6
 * series is read (the bare selector at an evaluation, `last_over_time(<series>[5m] offset ...)` for a run increment,
 * or with a dashboard's selector). k6 writes a rate as the ratio since the runner's start (`k6_<rate>_rate`), which
 * does not add up over runners, so each is recorded as two sums that do:
 * - `http_req_failed` has one sample per HTTP request, with the tags of that request's `k6_http_reqs_total` series
 *   (k6 v1.7.1 lib/netext/httpext/transport.go `measureAndEmitMetrics`, whenever a response callback is set): the
 *   ratio times that count is the series' failed requests (`_nonzero`, its non-zero samples), and the count where a
 *   ratio exists is its samples (`_samples`).
 * - `checks` has no per-check count, only each runner's ratio per check: weighted by that runner's iterations of the
 *   same scenario (the number of evaluations when a check runs once per iteration, the usual script shape, as the
 *   verdict weighs them), `_weighted` is the ratio times those iterations and `_weight` the iterations.
 * Each is cumulative per series, so its run increments telescope like a counter's.
 */
export const DERIVED_SERIES: Readonly<Record<string, (read: (series: string) => string) => string>> = {
  k6_http_req_failed_nonzero: (r) => `${r('k6_http_req_failed_rate')} * ${r('k6_http_reqs_total')}`,
  k6_http_req_failed_samples: (r) => `${r('k6_http_reqs_total')} and ${r('k6_http_req_failed_rate')}`,
  k6_checks_weighted: (r) => `${r('k6_checks_rate')} * ${CHECKS_JOIN} ${iterationsOf(r)}`,
  k6_checks_weight: (r) => `(${r('k6_checks_rate')} * 0 + 1) * ${CHECKS_JOIN} ${iterationsOf(r)}`,
};

/** The trends whose whole-run histogram is recorded (see {@link RECORDED_RUN_INCREMENTS}). */
export const RECORDED_RUN_TRENDS = ['http_req_duration'] as const;

/** The k6 counters recorded as rates, with the level each is kept at. */
export const RECORDED_COUNTERS: readonly RecordedLevel[] = [
  { metric: 'k6_http_reqs_total', level: 'request' },
  { metric: 'k6_http_reqs_total', level: 'outcome', from: 'request' },
  { metric: 'k6_http_reqs_total', level: 'runner_request' },
  { metric: 'k6_http_reqs_total', level: 'runner', from: 'runner_request' },
  { metric: 'k6_iterations_total', level: 'scenario' },
  { metric: 'k6_dropped_iterations_total', level: 'scenario' },
  { metric: 'k6_data_sent_total', level: 'scenario' },
  { metric: 'k6_data_received_total', level: 'scenario' },
];

/** The k6 gauges recorded as sums, with their level, and the checks' two sums ({@link DERIVED_SERIES}) at an evaluation. */
export const RECORDED_GAUGES: readonly RecordedLevel[] = [
  { metric: 'k6_vus', level: 'run' },
  { metric: 'k6_vus_max', level: 'run' },
  { metric: 'k6_vus', level: 'runner' },
  { metric: 'k6_checks_weighted', level: 'check' },
  { metric: 'k6_checks_weight', level: 'check' },
];

/** Name of the recorded rate of a native-histogram trend (`k6_<trend>_seconds`) at a level. */
export function recordedHistogramRate(trend: string, level: RuleLevel): string {
  return `${level}:k6_${trend}_seconds:rate${RECORDING_RULE_WINDOW}`;
}

/**
 * Name of the recorded increase of a series since the previous evaluation, at a level: summed over a whole run, it is
 * the run's total (see {@link runIncrementExpr}). A trend name is the trend's histogram (`http_req_duration`:
 * `k6_http_req_duration_seconds`); a counter loses `_total`.
 */
export function recordedRunIncrement(metric: string, level: RuleLevel = 'request'): string {
  const name = metric.startsWith('k6_') ? metric.replace(/_total$/, '') : `k6_${metric}_seconds`;
  return `${level}:${name}:increase`;
}

/** Name of the recorded rate of a k6 counter at a level (`_total` dropped, as the convention asks under `rate`). */
export function recordedCounterRate(metric: string, level: RuleLevel): string {
  return `${level}:${metric.replace(/_total$/, '')}:rate${RECORDING_RULE_WINDOW}`;
}

/** Name of the recorded sum of a k6 gauge at a level. */
export function recordedGaugeSum(metric: string, level: RuleLevel): string {
  return `${level}:${metric}:sum`;
}

/** One recording rule, as Prometheus and the PrometheusRule CRD spell it. */
export interface RecordingRule {
  /** Name of the recorded series. */
  readonly record: string;
  /** The PromQL evaluated at each step. */
  readonly expr: string;
}

/** One rule group: rules Prometheus evaluates in order, once per interval. */
export interface RecordingRuleGroup {
  /** Group name (unique in the Prometheus). */
  readonly name: string;
  /** Evaluation interval. */
  readonly interval: string;
  /**
   * How far in the past each evaluation queries (Prometheus >= 2.53 rule files, prometheus-operator `query_offset` of a
   * PrometheusRule group: pkg/apis/monitoring/v1/prometheusrule_types.go at v0.93.0). Named as both spell it.
   */
  readonly query_offset?: string; // eslint-disable-line @typescript-eslint/naming-convention -- the rule-file field name
  /** Rules of the group. */
  readonly rules: readonly RecordingRule[];
}

const by = (level: RuleLevel): string => `sum by (${RULE_LEVELS[level].join(', ')})`;

/**
 * The increase of each runner's series (a `k6_<trend>_seconds` histogram, or a counter) between this evaluation and
 * the previous one (one interval earlier: evaluations of a group are exactly one interval apart, Prometheus v3.5.0
 * rules/group.go `EvalTimestamp`), summed at a level. k6 histograms and counters are cumulative from the runner's
 * start, so the increments telescope: their sum over every evaluation of a run is each runner's final value, exactly,
 * with no extrapolation (unlike `increase`). Where a series has no sample one interval earlier (its first push), the
 * increment is its whole value. `last_over_time(...[5m])` rather than the bare selector: k6 ends each series with a
 * stale marker (K6_PROMETHEUS_RW_STALE_MARKERS, set by the platform; k6 v1.7.1
 * internal/output/prometheusrw/remotewrite/remotewrite.go `staleMarkers`, 1 ms after the last flush), which would hide
 * the last push from the evaluation after it; a range selector skips stale markers. A series with no push for over 5
 * minutes (k6 writes a series only when it has new samples: a rare error status) restarts as new and is counted twice:
 * the duration count then disagrees with `k6_http_reqs_total`, which is how the verdict tells a complete record from
 * one to ignore. `trend` is a trend name (`http_req_duration`), a series name (`k6_http_reqs_total`) or a name of
 * {@link DERIVED_SERIES}.
 */
export function runIncrementExpr(trend: string, interval: string = RECORDING_RULE_INTERVAL, level: RuleLevel = 'request'): string {
  const series = trend.startsWith('k6_') ? trend : `k6_${trend}_seconds`;
  const derived = DERIVED_SERIES[series];
  const last = (offset: string) =>
    derived !== undefined ? `(${derived((m) => `last_over_time(${m}[5m]${offset})`)})` : `last_over_time(${series}[5m]${offset})`;
  return `${by(level)} ((${last('')} - ${last(` offset ${interval}`)}) or ${last('')})`;
}

/**
 * The query offset of the run-totals group: k6 stamps a push's samples with the time of their newest observation
 * (remotewrite.go `convertToPbSeries`, `swm.Latest`), so a sample arrives up to one push interval after its timestamp;
 * an evaluation that ran before it arrived would lose its increment. Two push intervals leave room for the request.
 */
export function runTotalsQueryOffset(pushInterval: string): string {
  return `${2 * k6DurationSeconds(pushInterval)}s`;
}

/** Options of {@link recordingRuleGroups}. */
export interface RecordingRuleOptions {
  /**
   * Evaluation interval of every group (tests shorten it; the run increments follow it).
   * @default RECORDING_RULE_INTERVAL
   */
  readonly interval?: string;
  /**
   * The runners' push interval (`runner.pushInterval`), which sets the run-totals group's query offset.
   * @default "5s"
   */
  readonly pushInterval?: string;
}

/**
 * The platform's rule groups. Latency histograms have a group of their own: Prometheus appends each group's results
 * in one transaction, and a backend that cannot store the histogram results (see docs/dashboards.md) still records
 * the float group. The run totals have theirs for the query offset, which only they need (the other groups stay
 * current for live panels), and which Prometheus before 2.53 cannot load.
 */
export function recordingRuleGroups(options: RecordingRuleOptions = {}): RecordingRuleGroup[] {
  const w = RECORDING_RULE_WINDOW;
  const interval = options.interval ?? RECORDING_RULE_INTERVAL;
  // a level summed from a finer one recorded before it in the same group, else from the runners' series
  const rule = (record: (l: RuleLevel) => string, c: RecordedLevel, fromRunners: string): RecordingRule => ({
    record: record(c.level),
    expr: c.from !== undefined ? `${by(c.level)} (${record(c.from)})` : fromRunners,
  });
  const latency = RECORDED_HISTOGRAMS.map((c) =>
    rule((l) => recordedHistogramRate(c.metric, l), c, `${by(c.level)} (rate(k6_${c.metric}_seconds[${w}]))`),
  );
  const load: RecordingRule[] = [
    ...RECORDED_COUNTERS.map((c) => rule((l) => recordedCounterRate(c.metric, l), c, `${by(c.level)} (rate(${c.metric}[${w}]))`)),
    ...RECORDED_GAUGES.map((g) => ({
      record: recordedGaugeSum(g.metric, g.level),
      expr: `${by(g.level)} (${DERIVED_SERIES[g.metric]?.((m) => m) ?? g.metric})`,
    })),
  ];
  const totals = RECORDED_RUN_INCREMENTS.map((c) => rule((l) => recordedRunIncrement(c.metric, l), c, runIncrementExpr(c.metric, interval, c.level)));
  return [
    { name: 'k6-latency', interval, rules: latency },
    { name: 'k6-load', interval, rules: load },
    { name: 'k6-run-totals', interval, query_offset: runTotalsQueryOffset(options.pushInterval ?? '5s'), rules: totals },
  ];
}

/** Props of {@link RecordingRules}. */
export interface RecordingRulesProps {
  /** Namespace of the PrometheusRule objects (the monitoring namespace: the stack's Prometheus selects every namespace). */
  readonly namespace: string;
  /**
   * Helm release of kube-prometheus-stack: set as the `release` label, which the chart's Prometheus selects by when a
   * stack keeps `ruleSelectorNilUsesHelmValues: true` (the platform's own stack selects every rule).
   */
  readonly releaseName: string;
  /**
   * The runners' push interval (`runner.pushInterval`): sets the query offset of the run totals.
   * @default "5s"
   */
  readonly pushInterval?: string;
}

/**
 * One `monitoring.coreos.com/v1` PrometheusRule per group of {@link recordingRuleGroups}. prometheus-operator turns
 * them into rule files of the Prometheus whose `ruleSelector` and `ruleNamespaceSelector` match: the platform's stack
 * sets `ruleSelectorNilUsesHelmValues: false`, so kube-prometheus-stack 88.5.3
 * (charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml) renders `ruleSelector: {}` (every rule) and,
 * with the default empty `ruleNamespaceSelector`, `ruleNamespaceSelector: {}` (every namespace).
 */
export class RecordingRules extends Construct {
  /** The PrometheusRule objects, by group name. */
  public readonly rules: ReadonlyMap<string, ApiObject>;
  /** The groups they carry. */
  public readonly groups: readonly RecordingRuleGroup[];

  public constructor(scope: Construct, id: string, props: RecordingRulesProps) {
    super(scope, id);
    this.groups = recordingRuleGroups(props.pushInterval !== undefined ? { pushInterval: props.pushInterval } : {});
    const rules = new Map<string, ApiObject>();
    for (const g of this.groups) {
      rules.set(
        g.name,
        new ApiObject(this, g.name, {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PrometheusRule',
          metadata: { name: `${g.name}-rules`, namespace: props.namespace, labels: { release: props.releaseName } },
          spec: {
            groups: [
              {
                name: g.name,
                interval: g.interval,
                ...(g.query_offset !== undefined ? { query_offset: g.query_offset } : {}),
                rules: g.rules.map((r) => ({ record: r.record, expr: r.expr })),
              },
            ],
          },
        }),
      );
    }
    this.rules = rules;
  }
}
