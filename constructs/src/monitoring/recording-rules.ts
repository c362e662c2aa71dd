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
 * the per-runner request rate; `scenario` is for iteration and data counters, which carry no URL.
 */
export const RULE_LEVELS = {
  run: ['testid', 'test'],
  scenario: ['testid', 'test', 'scenario'],
  request: ['testid', 'test', 'scenario', 'name', 'method', 'status', 'expected_response'],
  runner: ['testid', 'test', 'instance_id'],
  runner_request: ['testid', 'test', 'scenario', 'name', 'instance_id'],
} as const satisfies Record<string, readonly string[]>;

/** A level of {@link RULE_LEVELS}. */
export type RuleLevel = keyof typeof RULE_LEVELS;

/** The k6 HTTP timing trends recorded at the `request` level (every phase the dashboard's timing panel shows). */
export const RECORDED_HTTP_TRENDS = [
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_waiting',
  'http_req_receiving',
  'http_req_duration',
] as const;

/** The k6 counters recorded as rates, with the level each is kept at. */
export const RECORDED_COUNTERS = [
  { metric: 'k6_http_reqs_total', level: 'request' },
  { metric: 'k6_http_reqs_total', level: 'runner_request' },
  { metric: 'k6_iterations_total', level: 'scenario' },
  { metric: 'k6_dropped_iterations_total', level: 'scenario' },
  { metric: 'k6_data_sent_total', level: 'scenario' },
  { metric: 'k6_data_received_total', level: 'scenario' },
] as const satisfies readonly { metric: string; level: RuleLevel }[];

/** The k6 gauges recorded as sums, with their level. */
export const RECORDED_GAUGES = [
  { metric: 'k6_vus', level: 'run' },
  { metric: 'k6_vus_max', level: 'run' },
  { metric: 'k6_vus', level: 'runner' },
] as const satisfies readonly { metric: string; level: RuleLevel }[];

/** Name of the recorded rate of a native-histogram trend (`k6_<trend>_seconds`) at a level. */
export function recordedHistogramRate(trend: string, level: RuleLevel): string {
  return `${level}:k6_${trend}_seconds:rate${RECORDING_RULE_WINDOW}`;
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
  /** Rules of the group. */
  readonly rules: readonly RecordingRule[];
}

const by = (level: RuleLevel): string => `sum by (${RULE_LEVELS[level].join(', ')})`;

/**
 * The platform's rule groups. Latency histograms have a group of their own: Prometheus appends each group's results
 * in one transaction, and a backend that cannot store the histogram results (see docs/dashboards.md) still records
 * the float group.
 */
export function recordingRuleGroups(): RecordingRuleGroup[] {
  const w = RECORDING_RULE_WINDOW;
  const latency: RecordingRule[] = [
    ...RECORDED_HTTP_TRENDS.map((t) => ({ record: recordedHistogramRate(t, 'request'), expr: `${by('request')} (rate(k6_${t}_seconds[${w}]))` })),
    { record: recordedHistogramRate('iteration_duration', 'scenario'), expr: `${by('scenario')} (rate(k6_iteration_duration_seconds[${w}]))` },
  ];
  const load: RecordingRule[] = [
    ...RECORDED_COUNTERS.map((c) => ({ record: recordedCounterRate(c.metric, c.level), expr: `${by(c.level)} (rate(${c.metric}[${w}]))` })),
    ...RECORDED_GAUGES.map((g) => ({ record: recordedGaugeSum(g.metric, g.level), expr: `${by(g.level)} (${g.metric})` })),
  ];
  return [
    { name: 'k6-latency', interval: RECORDING_RULE_INTERVAL, rules: latency },
    { name: 'k6-load', interval: RECORDING_RULE_INTERVAL, rules: load },
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
    this.groups = recordingRuleGroups();
    const rules = new Map<string, ApiObject>();
    for (const g of this.groups) {
      rules.set(
        g.name,
        new ApiObject(this, g.name, {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PrometheusRule',
          metadata: { name: `${g.name}-rules`, namespace: props.namespace, labels: { release: props.releaseName } },
          spec: { groups: [{ name: g.name, interval: g.interval, rules: g.rules.map((r) => ({ record: r.record, expr: r.expr })) }] },
        }),
      );
    }
    this.rules = rules;
  }
}
