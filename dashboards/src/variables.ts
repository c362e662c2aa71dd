/** The template variables of the dashboards: data source, run (testid), scenario, names, ad-hoc filters, text and custom values. */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PROMETHEUS_DATASOURCE_UID } from '@k6-platform/constructs/internal';
import { DATASOURCE, DATASOURCE_VARIABLE } from './common';

/** The datasource selector, defaulting to the Prometheus datasource kube-prometheus-stack provisions. */
export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(DATASOURCE_VARIABLE)
    .label('Data source')
    .description('Prometheus datasource holding the k6 remote-write metrics.')
    .type('prometheus')
    .current({ text: PROMETHEUS_DATASOURCE_UID, value: PROMETHEUS_DATASOURCE_UID });
}

/** A label-values query variable over k6 metrics, multi-select with "All". */
export function labelValuesVariable(cfg: {
  /** Variable name (used as `$name` in queries). */
  readonly name: string;
  /** Label shown above the selector. */
  readonly label: string;
  /** Tooltip. */
  readonly description: string;
  /** The label_values() query. */
  readonly query: string;
  /** What "All" expands to (a regex). */
  readonly allValue: string;
  /** Sort of the options. */
  readonly sort?: dashboard.VariableSort;
}): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(cfg.name)
    .label(cfg.label)
    .description(cfg.description)
    .datasource(DATASOURCE)
    .query({ qryType: 1, query: cfg.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(cfg.query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(cfg.sort ?? dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(cfg.allValue)
    .current({ text: 'All', value: '$__all' });
}

/** The run selector: k6 runs tagged `testid` (the platform always tags). "All" matches every tagged run. */
export function testidVariable(): dashboard.QueryVariableBuilder {
  return labelValuesVariable({
    name: 'testid',
    label: 'Test run',
    description: 'k6 runs (the testid tag every platform run carries); newest first when run ids sort by time.',
    query: 'label_values(k6_http_reqs_total, testid)',
    allValue: '.+',
    sort: dashboard.VariableSort.AlphabeticalDesc,
  });
}

/** The scenario selector. "All" also matches series without a scenario label. */
export function scenarioVariable(): dashboard.QueryVariableBuilder {
  return labelValuesVariable({
    name: 'scenario',
    label: 'Scenario',
    description: 'k6 scenarios of the selected runs.',
    query: 'label_values(k6_http_reqs_total{testid=~"$testid"}, scenario)',
    allValue: '.*',
  });
}

/**
 * The zones of the selected runs: the clusters a run was spread over (`loadtest run --context a --context b`; the
 * runners' `zone` tag). A run in one cluster has none; "All" (`.*`) matches it too.
 */
export function zoneVariable(): dashboard.QueryVariableBuilder {
  return labelValuesVariable({
    name: 'zone',
    label: 'Zone',
    description: 'Clusters of a run spread over several (the runners’ zone tag). Runs in one cluster have none: keep All.',
    query: 'label_values(k6_http_reqs_total{testid=~"$testid"}, zone)',
    allValue: '.*',
  });
}

/** The URL selector (k6's `name` tag: the URL unless the script names the request). */
export function nameVariable(): dashboard.QueryVariableBuilder {
  return labelValuesVariable({
    name: 'name',
    label: 'URL / name',
    description: "Requests by k6's name tag (the URL unless the script sets `tags: { name }` to group dynamic URLs).",
    query: 'label_values(k6_http_reqs_total{testid=~"$testid", scenario=~"$scenario"}, name)',
    allValue: '.*',
  });
}

/** Ad-hoc filters: any label matcher, applied by Grafana to every query of the dashboard. */
export function adhocVariable(): dashboard.AdHocVariableBuilder {
  return new dashboard.AdHocVariableBuilder('filters')
    .label('Filters')
    .description('Extra label matchers (method, status, instance_id, ...) applied to every query.')
    .datasource(DATASOURCE);
}

/** A free-text variable with a default. */
export function textVariable(name: string, label: string, description: string, value: string): dashboard.TextBoxVariableBuilder {
  return new dashboard.TextBoxVariableBuilder(name).label(label).description(description).defaultValue(value).current({ text: value, value });
}

/** A custom (fixed list) variable; the first value is the default unless `current` names another. */
export function customVariable(cfg: {
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly values: readonly string[];
  readonly current: string;
}): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder(cfg.name)
    .label(cfg.label)
    .description(cfg.description)
    .values(cfg.values.join(','))
    .options(cfg.values.map((v) => ({ text: v, value: v, selected: v === cfg.current })))
    .current({ text: cfg.current, value: cfg.current });
}
