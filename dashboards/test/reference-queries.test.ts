/**
 * dashboards/reference-queries.json: every panel query of the reference native-histogram dashboard (grafana.com 18030,
 * grafana/xk6-output-prometheus-remote v0.5.1 grafana/dashboards/k6-prometheus-native-histogram.json), which the
 * benchmark times against ours. The strings are committed (no network when the benchmark runs); these checks keep
 * them runnable PromQL once Grafana's variables are substituted.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { substituteVariables, syntaxErrors } from './queries';

interface ReferenceFile {
  readonly source: { readonly repository: string; readonly tag: string; readonly commit: string; readonly path: string };
  readonly variables: { readonly values: Readonly<Record<string, string>> };
  readonly queries: readonly { panel: string; panelType: string; refId: string; kind: 'range' | 'instant'; expr: string }[];
  readonly pairs: readonly { what: string; ours: string; reference: string }[];
}

const file = JSON.parse(readFileSync(path.join(__dirname, '..', 'reference-queries.json'), 'utf8')) as ReferenceFile;
const values = { ...file.variables.values, testid: 'run-1' };

describe('reference-queries.json', () => {
  test('holds every target of the 18030 dashboard file, with where it came from', () => {
    expect(file.source).toMatchObject({
      repository: 'grafana/xk6-output-prometheus-remote',
      tag: 'v0.5.1',
      commit: 'c40885f519cf0857f08fdaf0309a0a249514caca',
      path: 'grafana/dashboards/k6-prometheus-native-histogram.json',
    });
    // 32 targets over 13 panels in that file; all run by Grafana as range queries (`"range": true`, stats included)
    expect(file.queries).toHaveLength(32);
    expect(new Set(file.queries.map((q) => q.panel)).size).toBe(13);
    expect(file.queries.every((q) => q.kind === 'range')).toBe(true);
    expect(file.queries.filter((q) => q.expr.includes('histogram_quantile')).length).toBe(16);
    // each selects the run viewed
    expect(file.queries.filter((q) => !q.expr.includes('testid=~"$testid"'))).toEqual([]);
  });

  test('every variable a query names has the value Grafana gives it for a 1 h view', () => {
    expect(file.variables.values).toMatchObject({ quantile: '0.99', __interval: '15s', __rate_interval: '1m0s', __range: '3600s' });
    const named = new Set(file.queries.flatMap((q) => [...q.expr.matchAll(/\$(\w+)/g)].map((m) => m[1]!)));
    expect([...named].sort()).toEqual(['__rate_interval', 'quantile', 'testid']);
  });

  test('every reference query and every compared pair parses as PromQL once substituted', () => {
    const all = [
      ...file.queries.map((q) => ({ at: `${q.panel} / ${q.refId}`, expr: q.expr })),
      ...file.pairs.flatMap((p) => [
        { at: `pair ${p.what} (ours)`, expr: p.ours },
        { at: `pair ${p.what} (reference)`, expr: p.reference },
      ]),
    ];
    const failures = all.map((q) => ({ at: q.at, errors: syntaxErrors(substituteVariables(q.expr, values)) })).filter((f) => f.errors.length > 0);
    expect(failures).toEqual([]);
    // a broken string would be caught: the check is not vacuous
    expect(syntaxErrors(substituteVariables(file.queries[1]!.expr.slice(0, -1), values))).not.toEqual([]);
  });
});
