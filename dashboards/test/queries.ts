/**
 * Test helpers: every PromQL query of the generated dashboards (panel targets and query variables), and the Grafana
 * variable substitution Grafana itself would do before sending a query to Prometheus.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { parser } from '@prometheus-io/lezer-promql';
import { allPanels } from '../src/common';
import { SOURCE_VALUES } from '../src/recorded-queries';

/** One query of a dashboard, with where it comes from. */
export interface DashboardQuery {
  /** Dashboard uid. */
  readonly uid: string;
  /** Panel title, or `variable <name>`. */
  readonly source: string;
  /** Panel type (`timeseries`, `stat`, ...) or `variable`. */
  readonly panelType: string;
  /** Target refId (`A`, `B`, ...). */
  readonly refId: string;
  /** The PromQL with Grafana variables still in it. */
  readonly expr: string;
  /** Instant query (stats, tables) rather than a range query. */
  readonly instant: boolean;
}

interface PromTarget {
  readonly expr?: string;
  readonly refId?: string;
  readonly instant?: boolean;
}

/**
 * The PromQL of a variable query Prometheus can run: the selector inside `label_values(<selector>, label)`, or the
 * expression inside `query_result(<expr>)`.
 */
export function labelValuesSelector(query: string): string {
  const result = /^query_result\((.+)\)$/.exec(query.trim());
  if (result !== null) return result[1]!;
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim());
  if (m === null) throw new Error(`unexpected variable query: ${query}`);
  return m[1]!;
}

/** Every query of a dashboard: each panel target and each query variable (label_values -> its selector). */
export function dashboardQueries(d: dashboard.Dashboard): DashboardQuery[] {
  const uid = d.uid ?? '';
  const out: DashboardQuery[] = [];
  for (const p of allPanels(d)) {
    if (p.type === 'row') continue;
    const panel = p as dashboard.Panel;
    for (const t of (panel.targets ?? []) as PromTarget[]) {
      out.push({ uid, source: panel.title ?? '', panelType: panel.type, refId: t.refId ?? '', expr: t.expr ?? '', instant: t.instant === true });
    }
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = v.query as { query?: string } | string | undefined;
    const text = typeof q === 'string' ? q : (q?.query ?? '');
    out.push({ uid, source: `variable ${v.name}`, panelType: 'variable', refId: 'var', expr: labelValuesSelector(text), instant: true });
  }
  return out;
}

/** Values of dashboard variables and Grafana's built-in interval variables, as Grafana would interpolate them. */
export type VariableValues = Readonly<Record<string, string>>;

/** Defaults for syntax and type checks: one run, All elsewhere, the dashboards' defaults. */
export const CHECK_VALUES: VariableValues = {
  datasource: 'prometheus',
  testid: 'run-1',
  zone: '.*',
  scenario: '.*',
  name: '.*',
  quantile: '0.99',
  quantile_stat: 'p99',
  // the default of the native dashboard's `source` variable: recorded series
  source: '.*',
  runner_namespace: 'k6',
  baseline: 'run-0',
  shift: '3600000',
  testid_start: '1796293777.123',
  baseline_start: '1796290160',
  __rate_interval: '1m',
  __range: '600s',
  __range_s: '600',
  __interval: '15s',
};

/**
 * The variables as a user picks them to look at one run: every scenario and URL, p95 as the quantile, the runners in
 * namespace `k6`, and the raw series (a test Prometheus without recording rules; recording-rules.prometheus.test.ts
 * covers the recorded ones). `more` sets or adds others.
 */
export function oneRunValues(testid: string, more: VariableValues = {}): VariableValues {
  return {
    datasource: 'prometheus',
    testid,
    scenario: '.*',
    name: '.*',
    quantile: '0.95',
    quantile_stat: 'p95',
    source: SOURCE_VALUES.raw,
    runner_namespace: 'k6',
    ...more,
  };
}

/**
 * Variables whose default every test may take without naming it: `zone` is "All" (`.*`) unless a test of a run spread
 * over several clusters picks one, as Grafana opens the dashboards.
 */
const DEFAULTED: VariableValues = { zone: '.*' };

/**
 * Replaces `$var` and `${var}` / `${var:format}` by their values. Throws on a variable without a value, so a new
 * variable cannot slip past the checks unsubstituted.
 */
export function substituteVariables(expr: string, values: VariableValues): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = values[name] ?? DEFAULTED[name];
    if (value === undefined) throw new Error(`no value for Grafana variable '${name}' in: ${expr}`);
    return value;
  });
}

/** Error nodes of a lezer-promql parse, with their position. */
export function syntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`error at ${n.from}: ...${expr.slice(Math.max(0, n.from - 20), n.to + 20)}...`);
    },
  });
  return errors;
}
