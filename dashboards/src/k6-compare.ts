/**
 * "k6 run vs baseline": two runs (`testid` and `baseline`) on one time axis, aligned on the time since each run's
 * start, and a table of their headline numbers with the change.
 *
 * Alignment: Grafana cannot compute a query modifier from two variables, and a panel's "time shift" option is one
 * fixed duration for all its queries. So a hidden query variable `shift` asks Prometheus for the difference of the two
 * starts in milliseconds (k6 timestamps are milliseconds), and every baseline selector carries `offset ${shift}ms`: at
 * time t the baseline's series shows its value at t - shift, the same time since its own start as the run at t.
 * Prometheus 2.42 refuses `offset 0ms` (v2.42.0 promql/parser/parse.go `parseDuration`: "duration must be greater
 * than 0"; 3.x accepts it), so a zero difference (a run against itself, or a run without data) becomes 1 ms. The variable's query is
 * `query_result(scalar(...))`: Grafana interpolates `$testid` and `$baseline` in it (chained variables) and takes a
 * scalar answer's value as the option's text (grafana/grafana packages/grafana-prometheus/src/metric_find_query.ts
 * `queryResultQuery`). A negative offset (a baseline newer than the run) is standard PromQL in both supported
 * Prometheus versions (v2.42.0 cmd/prometheus/main.go sets `EnableNegativeOffset: true`; 3.x always).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  baseDashboard,
  type DashboardDefinition,
  DATASOURCE,
  finalizeDashboard,
  prometheusQuery,
  tablePanel,
  tableQuery,
  timeseriesPanel,
  UNIT,
} from './common';
import { datasourceVariable, labelValuesVariable } from './variables';

/** Fixed uid of the dashboard. */
export const K6_COMPARE_UID = 'k6-compare';

/**
 * How far from the end of the time range, either side, a run's start is searched: a baseline may be older or newer
 * than the run on screen.
 */
export const COMPARE_SEARCH_DAYS = 30;

/** One side of the comparison: its run variable, the modifier of its selectors and its legend. */
export interface ComparedRun {
  readonly variable: 'testid' | 'baseline';
  /** `` for the run, ` offset ${shift}s` for the baseline. */
  readonly offset: string;
  readonly legend: string;
}

export const RUN: ComparedRun = { variable: 'testid', offset: '', legend: 'run $testid' };
export const BASELINE: ComparedRun = { variable: 'baseline', offset: ' offset ${shift}ms', legend: 'baseline $baseline' };

const sel = (r: ComparedRun, ...extra: string[]) => `{${[`testid="$${r.variable}"`, ...extra].join(', ')}}`;
const FAILED = 'expected_response="false"';

/** PromQL that is each of a run's samples' own time while it has active VUs (k6 writes 0 VUs while a paused run waits). */
function activeSampleTimes(variable: string): string {
  const s = `{testid="$${variable}"}`;
  return `(timestamp(k6_vus${s}) and k6_vus${s} > 0)`;
}

/**
 * The first stage of a run's start (variable `<run>_start`): the end of the first whole hour, within
 * ${COMPARE_SEARCH_DAYS} days either side of the end of the time range (a negative offset looks forward), that holds an
 * iteration sample of the run; 0 when none does. A range function per hourly step sees every sample, so no run is
 * missed between steps (a selector at a step would see nothing of a short run whose series went stale before it), and
 * each sample is read once: a search at a fine step over weeks costs seconds.
 */
export function coarseStartExpression(variable: string): string {
  const d = COMPARE_SEARCH_DAYS;
  const seen = `vector(time()) and on () count(count_over_time(k6_iterations_total{testid="$${variable}"}[1h])) > 0`;
  return `scalar(min_over_time((${seen})[${2 * d}d:1h] offset -${d}d) or vector(0))`;
}

/**
 * The run's start exactly: its first sample with active VUs, as the run list and the verdict take it, searched at a 1 s
 * step in the hour before the first stage's time (`@` that time) and 5 more minutes (VUs are active a push or more
 * before their first iteration ends). `timestamp()` of a selector is the sample's own time: exact for push intervals of
 * 1 s and more.
 */
export function runStart(variable: string): string {
  return `min(min_over_time(${activeSampleTimes(variable)}[65m:1s] @ \${${variable}_start}))`;
}

/** The query of the `shift` variable: run start - baseline start in milliseconds; 1 when that is 0 or either run has no data. */
export function shiftQuery(): string {
  return `query_result(${shiftExpression()})`;
}

/** The PromQL of {@link shiftQuery}: a scalar, so Grafana's option text is its value. */
export function shiftExpression(): string {
  return `scalar((round((${runStart('testid')} - ${runStart('baseline')}) * 1000) != 0) or vector(1))`;
}

/** The curves, as PromQL of one side. */
export const COMPARE_CURVES = {
  'Request rate': (r: ComparedRun) => `sum(rate(k6_http_reqs_total${sel(r)}[$__rate_interval]${r.offset}))`,
  'Error ratio': (r: ComparedRun) => {
    const total = `sum(rate(k6_http_reqs_total${sel(r)}[$__rate_interval]${r.offset}))`;
    return `(sum(rate(k6_http_reqs_total${sel(r, FAILED)}[$__rate_interval]${r.offset})) or ${total} * 0) / ${total}`;
  },
  'Request duration p95': (r: ComparedRun) => latencyCurve(r, 0.95),
  'Request duration p99': (r: ComparedRun) => latencyCurve(r, 0.99),
  'Virtual users': (r: ComparedRun) => `sum(k6_vus${sel(r)}${r.offset})`,
  'Checks success ratio': (r: ComparedRun) => checksCurve(r),
} as const;

/** A native-histogram quantile, or for a classic run its worst series' gauge (an upper bound). */
function latencyCurve(r: ComparedRun, q: number): string {
  const stat = `p${Math.round(q * 100)}`;
  return (
    `histogram_quantile(${q}, sum(rate(k6_http_req_duration_seconds${sel(r)}[$__rate_interval]${r.offset}))) ` +
    `or max(k6_http_req_duration_${stat}${sel(r)}${r.offset})`
  );
}

/** Each runner's cumulative check ratio weighted by its iterations of the scenario (load-test-panels.ts `checksRatio`). */
function checksCurve(r: ComparedRun, last = (m: string) => `${m}${sel(r)}${r.offset}`): string {
  const iterations = `sum by (instance_id, scenario) (${last('k6_iterations_total')})`;
  const on = 'on (instance_id, scenario) group_left';
  return `sum(${last('k6_checks_rate')} * ${on} ${iterations}) / sum((${last('k6_checks_rate')} * 0 + 1) * ${on} ${iterations})`;
}

/** The stats table's rows: over the time range for the run, the same span shifted for the baseline. */
export const COMPARE_STATS = {
  requests: (r: ComparedRun) => `sum(last_over_time(k6_http_reqs_total${sel(r)}[$__range]${r.offset}))`,
  'error ratio %': (r: ComparedRun) => {
    const total = `sum(last_over_time(k6_http_reqs_total${sel(r)}[$__range]${r.offset}))`;
    return `(sum(last_over_time(k6_http_reqs_total${sel(r, FAILED)}[$__range]${r.offset})) or ${total} * 0) / ${total} * 100`;
  },
  'p95 ms': (r: ComparedRun) => latencyStat(r, 0.95),
  'p99 ms': (r: ComparedRun) => latencyStat(r, 0.99),
  'checks success %': (r: ComparedRun) => `${checksCurve(r, (m) => `last_over_time(${m}${sel(r)}[$__range]${r.offset})`)} * 100`,
  'peak VUs': (r: ComparedRun) => `max_over_time(sum(k6_vus${sel(r)})[$__range:$__interval]${r.offset})`,
} as const;

function latencyStat(r: ComparedRun, q: number): string {
  const stat = `p${Math.round(q * 100)}`;
  return (
    `histogram_quantile(${q}, sum(increase(k6_http_req_duration_seconds${sel(r)}[$__range]${r.offset}))) * 1000 ` +
    `or max(last_over_time(k6_http_req_duration_${stat}${sel(r)}[$__range]${r.offset})) * 1000`
  );
}

/** One side's stats as rows: each labelled `stat`. */
export function statsColumn(r: ComparedRun): string {
  return Object.entries(COMPARE_STATS)
    .map(([name, expr]) => `label_replace(${expr(r)}, "stat", "${name}", "", "")`)
    .join(' or ');
}

const CURVE_UNITS: Record<keyof typeof COMPARE_CURVES, string> = {
  'Request rate': UNIT.requestsPerSecond,
  'Error ratio': UNIT.percent,
  'Request duration p95': UNIT.seconds,
  'Request duration p99': UNIT.seconds,
  'Virtual users': UNIT.vus,
  'Checks success ratio': UNIT.percent,
};

const ALIGNMENT =
  ' The baseline is drawn shifted onto the run: at each time, its value at the same time since its own start (first sample with active VUs; the hidden variable shift holds the difference in milliseconds).';

/** A variable offering the runs, one at a time. */
function runVariable(name: 'testid' | 'baseline', label: string, description: string): dashboard.QueryVariableBuilder {
  return labelValuesVariable({
    name,
    label,
    description,
    query: 'label_values(k6_http_reqs_total, testid)',
    allValue: '.+',
    sort: dashboard.VariableSort.AlphabeticalDesc,
  })
    .multi(false)
    .includeAll(false)
    .current({ text: '', value: '' });
}

/** A hidden `query_result` variable (qryType 3: grafana-prometheus PromVariableQueryType.VarQueryResult, `varQuery`). */
function resultVariable(name: string, label: string, description: string, expr: string): dashboard.QueryVariableBuilder {
  const query = `query_result(${expr})`;
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource(DATASOURCE)
    .query({ qryType: 3, query, varQuery: expr, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .hide(dashboard.VariableHide.HideVariable);
}

/** The hidden variables of the alignment: each run's start (first stage), then the shift. */
function alignmentVariables(): dashboard.QueryVariableBuilder[] {
  return [
    ...(['testid', 'baseline'] as const).map((v) =>
      resultVariable(
        `${v}_start`,
        `Start of ${v}`,
        `The end of the first hour holding an iteration of $${v} (unix seconds): where the start of the run is searched.`,
        coarseStartExpression(v),
      ),
    ),
    resultVariable('shift', 'Shift (ms)', 'Run start - baseline start in milliseconds: the offset of every baseline query.', shiftExpression()),
  ];
}

/** Builds the comparison dashboard. */
export function k6CompareDashboard(): dashboard.Dashboard {
  let b = baseDashboard({
    uid: K6_COMPARE_UID,
    title: 'k6 run vs baseline',
    description:
      'Two k6 runs on one time axis, aligned on the time since each run started, and their headline numbers side by side. Set the time range to the run (testid); the baseline is shifted onto it.',
    from: 'now-1h',
    refresh: '1m',
  }).variables([
    datasourceVariable(),
    runVariable('testid', 'Run', 'The run to judge (time range: this run).'),
    runVariable(
      'baseline',
      'Baseline',
      `The run to compare with; it must have started within ${COMPARE_SEARCH_DAYS} days of the end of the time range.`,
    ),
    ...alignmentVariables(),
  ]);
  for (const [title, expr] of Object.entries(COMPARE_CURVES) as [keyof typeof COMPARE_CURVES, (r: ComparedRun) => string][]) {
    b = b.withPanel(
      timeseriesPanel({
        title,
        description: `${title} of the run and of the baseline, over all runners.${ALIGNMENT}`,
        unit: CURVE_UNITS[title],
        span: 8,
        targets: [prometheusQuery(expr(RUN), RUN.legend), prometheusQuery(expr(BASELINE), BASELINE.legend)],
      }),
    );
  }
  const table = tablePanel({
    title: 'Run vs baseline',
    description:
      'Headline numbers of the run over the time range and of the baseline over the same span since its start, over all runners; change = run / baseline - 1. p95/p99 from native histograms (classic runs: the worst series, an upper bound).',
    unit: UNIT.count,
    span: 24,
    targets: [tableQuery(statsColumn(RUN)), tableQuery(statsColumn(BASELINE)), tableQuery(`(${statsColumn(RUN)}) / (${statsColumn(BASELINE)}) - 1`)],
    columns: { 'Value #A': 'run', 'Value #B': 'baseline', 'Value #C': 'change' },
    columnUnits: { change: UNIT.percent },
  }).sortBy([new common.TableSortByFieldStateBuilder().displayName('stat')]);
  return finalizeDashboard(b.withPanel(table).build());
}

/** Registry entry. */
export const k6Compare: DashboardDefinition = { uid: K6_COMPARE_UID, build: k6CompareDashboard };
