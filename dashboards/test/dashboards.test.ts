import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PROMETHEUS_DATASOURCE_UID } from '../../constructs/src/monitoring/monitoring-stack';
import { classicTrendStats, thresholdQueries } from '../../constructs/src/k6/thresholds';
import { GENERATED_DIR, renderAll } from '../build';
import {
  allPanels,
  DASHBOARDS,
  K6_LOAD_TEST_CLASSIC_UID,
  K6_LOAD_TEST_UID,
  K6_RUNS_UID,
  K6_COMPARE_UID,
  k6LoadTestDashboard,
  MAX_UID_LENGTH,
  baseDashboard,
  SOURCE_GUARDS,
} from '../src';

const built = DASHBOARDS.map((d) => d.build());

interface Target {
  readonly expr: string;
  readonly refId: string;
  readonly legendFormat?: string;
  readonly datasource?: { readonly uid?: string; readonly type?: string };
}
const targetsOf = (p: dashboard.Panel): Target[] => (p.targets ?? []) as unknown as Target[];
const contentPanels = (d: dashboard.Dashboard): dashboard.Panel[] => allPanels(d).filter((p): p is dashboard.Panel => p.type !== 'row');

describe('generated JSON', () => {
  test('the committed files are exactly what a fresh build writes', () => {
    // GIVEN a fresh build of every dashboard
    const fresh = renderAll();
    // WHEN the committed files are read
    const committed = readdirSync(GENERATED_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    // THEN the same files exist, byte for byte (run `npm run dashboards` after editing dashboards/src)
    expect(committed).toEqual([...fresh.keys()].sort());
    for (const [name, content] of fresh) {
      expect({ name, content: readFileSync(path.join(GENERATED_DIR, name), 'utf8') }).toEqual({ name, content });
    }
  });

  test('the dashboards have fixed uids, titles, tags, time and refresh', () => {
    // GIVEN / WHEN the built dashboards
    const summary = built.map((d) => ({ uid: d.uid, title: d.title, tags: d.tags, time: d.time, refresh: d.refresh, editable: d.editable }));
    // THEN
    expect(summary).toEqual([
      {
        uid: K6_LOAD_TEST_UID,
        title: 'k6 load test',
        tags: ['k6', 'generated'],
        time: { from: 'now-30m', to: 'now' },
        refresh: '10s',
        editable: true,
      },
      {
        uid: K6_LOAD_TEST_CLASSIC_UID,
        title: 'k6 load test (classic trend stats)',
        tags: ['k6', 'generated'],
        time: { from: 'now-30m', to: 'now' },
        refresh: '10s',
        editable: true,
      },
      { uid: K6_RUNS_UID, title: 'k6 runs', tags: ['k6', 'generated'], time: { from: 'now-7d', to: 'now' }, refresh: '1m', editable: true },
      {
        uid: K6_COMPARE_UID,
        title: 'k6 run vs baseline',
        tags: ['k6', 'generated'],
        time: { from: 'now-1h', to: 'now' },
        refresh: '1m',
        editable: true,
      },
    ]);
    for (const d of built) expect(d.uid!.length).toBeLessThanOrEqual(MAX_UID_LENGTH);
  });

  test('a uid longer than 40 characters is an error', () => {
    // GIVEN / WHEN / THEN
    expect(() => baseDashboard({ uid: 'x'.repeat(41), title: 't', description: 'd' })).toThrow(
      `Dashboard: 'uid' must be at most 40 characters, got 41 (${'x'.repeat(41)})`,
    );
  });
});

describe.each(built.map((d) => [d.uid!, d] as const))('invariants of %s', (_uid, d) => {
  const panels = contentPanels(d);

  test('every panel has a target, a unit, the datasource variable, a description and color thresholds', () => {
    // GIVEN the panels of the dashboard
    expect(panels.length).toBeGreaterThan(0);
    for (const p of panels) {
      // THEN each one is complete (the title makes a failure readable)
      expect({ title: p.title, targets: targetsOf(p).length > 0 }).toEqual({ title: p.title, targets: true });
      expect({ title: p.title, unit: typeof p.fieldConfig?.defaults?.unit }).toEqual({ title: p.title, unit: 'string' });
      expect({ title: p.title, unitEmpty: p.fieldConfig?.defaults?.unit === '' }).toEqual({ title: p.title, unitEmpty: false });
      expect({ title: p.title, datasource: p.datasource }).toEqual({ title: p.title, datasource: { type: 'prometheus', uid: '${datasource}' } });
      expect({ title: p.title, described: (p.description ?? '').length > 20 }).toEqual({ title: p.title, described: true });
      expect({ title: p.title, thresholdSteps: (p.fieldConfig?.defaults?.thresholds?.steps?.length ?? 0) > 0 }).toEqual({
        title: p.title,
        thresholdSteps: true,
      });
      for (const t of targetsOf(p)) {
        expect({ title: p.title, refId: t.refId, ds: t.datasource }).toEqual({
          title: p.title,
          refId: t.refId,
          ds: { type: 'prometheus', uid: '${datasource}' },
        });
        expect(t.expr.length).toBeGreaterThan(0);
      }
      expect(new Set(targetsOf(p).map((t) => t.refId)).size).toBe(targetsOf(p).length);
    }
  });

  test('titles and panel ids are unique', () => {
    const all = allPanels(d);
    const titles = all.map((p) => p.title);
    expect(titles.filter((t, i) => titles.indexOf(t) !== i)).toEqual([]);
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
  });

  test('panels stay inside the 24-column grid and do not overlap', () => {
    const cells = new Set<string>();
    for (const p of allPanels(d)) {
      const g = p.gridPos!;
      expect({ title: p.title, fits: g.x >= 0 && g.w >= 1 && g.x + g.w <= 24 }).toEqual({ title: p.title, fits: true });
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const cell = `${x},${y}`;
          expect({ title: p.title, overlaps: cells.has(cell) }).toEqual({ title: p.title, overlaps: false });
          cells.add(cell);
        }
      }
    }
  });

  test('a legend naming a k6 trend queries that trend (the upstream native dashboard showed waiting as duration)', () => {
    // GIVEN every target whose legend names a trend
    const named = panels.flatMap((p) =>
      targetsOf(p).map((t) => {
        const legend = t.legendFormat ?? '';
        const trend =
          /^(?:duration )?(http_req_\w+|iteration_duration)\b/.exec(legend)?.[1] ??
          (legend.startsWith('duration ') ? 'http_req_duration' : undefined);
        return { title: p.title, legend, trend, expr: t.expr };
      }),
    );
    const checked = named.filter((n) => n.trend !== undefined);
    // THEN it queries that trend's metric, and a duration legend never sits on a waiting query
    // (the runs list and the comparison name runs in their legends, not trends)
    expect(checked.length).toBeGreaterThan(d.uid === K6_RUNS_UID || d.uid === K6_COMPARE_UID ? -1 : 5);
    expect(checked.filter((n) => !n.expr.includes(`k6_${n.trend}_`))).toEqual([]);
    expect(checked.filter((n) => n.trend === 'http_req_duration' && n.expr.includes('waiting'))).toEqual([]);
  });

  test('the datasource variable defaults to the uid the monitoring stack provisions', () => {
    const ds = d.templating?.list?.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: PROMETHEUS_DATASOURCE_UID } });
    expect(PROMETHEUS_DATASOURCE_UID).toBe('prometheus');
  });

  test('testid is a multi-select with All over the runs k6 tagged (the comparison: one run)', () => {
    const v = d.templating?.list?.find((x) => x.name === 'testid');
    const one = d.uid === K6_COMPARE_UID;
    expect(v).toMatchObject({
      type: 'query',
      multi: !one,
      includeAll: !one,
      allValue: '.+',
      refresh: 2,
      query: { query: 'label_values(k6_http_reqs_total, testid)' },
      datasource: { type: 'prometheus', uid: '${datasource}' },
    });
  });
});

describe('load-test variables', () => {
  const names = (d: dashboard.Dashboard): (string | undefined)[] => (d.templating?.list ?? []).map((v) => `${v.type}:${v.name}`);

  test('native: datasource, testid, zone, scenario, name, quantile (default 0.99), source, ad-hoc filters, runner namespace', () => {
    const d = built[0]!;
    expect(names(d)).toEqual([
      'datasource:datasource',
      'query:testid',
      'query:zone',
      'query:scenario',
      'query:name',
      'custom:quantile',
      'custom:source',
      'adhoc:filters',
      'textbox:runner_namespace',
    ]);
    // the clusters of a run spread over several; All is `.*`, which a run in one cluster (no zone label) matches too
    expect(d.templating?.list?.find((v) => v.name === 'zone')).toMatchObject({
      multi: true,
      includeAll: true,
      allValue: '.*',
      query: { query: 'label_values(k6_http_reqs_total{testid=~"$testid"}, zone)' },
    });
    expect(built[1]!.templating?.list?.map((v) => v.name)).toContain('zone');
    expect(d.templating?.list?.find((v) => v.name === 'quantile')).toMatchObject({
      query: '0.5,0.75,0.9,0.95,0.99,0.999',
      current: { value: '0.99' },
    });
    // `label : value` pairs, as @grafana/scenes CustomVariable parses its query; recorded series by default
    expect(d.templating?.list?.find((v) => v.name === 'source')).toMatchObject({
      query: 'recorded : .*,raw : .+',
      current: { text: 'recorded', value: '.*' },
      options: [
        { text: 'recorded', value: '.*', selected: true },
        { text: 'raw', value: '.+', selected: false },
      ],
    });
  });

  test('classic: the quantile variable picks a trend stat gauge', () => {
    const d = built[1]!;
    expect(names(d)).toContain('custom:quantile_stat');
    expect(d.templating?.list?.find((v) => v.name === 'quantile_stat')).toMatchObject({ query: 'p99,p95,p90,med', current: { value: 'p99' } });
  });

  test('every classic stat gauge the classic dashboard reads is in the stats the runners are asked for', () => {
    // GIVEN the k6_<trend>_<stat> names in the classic dashboard's queries, and the quantile_stat variable's values
    const d = built[1]!;
    const exprs = contentPanels(d).flatMap((p) => targetsOf(p).map((t) => t.expr));
    const variable = String(d.templating?.list?.find((v) => v.name === 'quantile_stat')?.query ?? '').split(',');
    const read = new Set([
      ...exprs.flatMap((e) => [...e.matchAll(/k6_[a-z_]+?_(p\d+|med|min|max|avg|count|sum)\{/g)].map((m) => m[1]!)),
      ...variable,
    ]);
    // WHEN (a test without thresholds)
    const requested = classicTrendStats({}).map((s) => (s.startsWith('p(') ? `p${s.slice(2, -1).replace(/\./g, '')}` : s));
    // THEN
    expect([...read].sort()).toEqual(['max', 'med', 'min', 'p90', 'p95', 'p99']);
    expect([...read].filter((stat) => !requested.includes(stat))).toEqual([]);
  });

  test('the runner namespace default follows the option', () => {
    const d = k6LoadTestDashboard({ runnerNamespace: 'loadtests' });
    expect(d.templating?.list?.find((v) => v.name === 'runner_namespace')).toMatchObject({ query: 'loadtests', current: { value: 'loadtests' } });
  });
});

describe('panels beyond the reference dashboards', () => {
  const titles = (d: dashboard.Dashboard): string[] => contentPanels(d).map((p) => p.title ?? '');

  test('native has the heatmap from the native histogram; classic has no heatmap', () => {
    const heat = contentPanels(built[0]!).find((p) => p.type === 'heatmap')!;
    expect(targetsOf(heat)[0]).toMatchObject({
      format: 'heatmap',
      // the whole run's recorded rate while no scenario or URL is picked, else the requests', else the raw series
      expr: expect.stringMatching(
        /^sum \(outcome:k6_http_req_duration_seconds:rate1m\{.* or request:k6_http_req_duration_seconds:rate1m\{.* or rate\(k6_http_req_duration_seconds\{/,
      ),
    });
    expect(heat.options).toMatchObject({ calculate: false });
    expect(contentPanels(built[1]!).filter((p) => p.type === 'heatmap')).toEqual([]);
  });

  test.each([0, 1])('dashboard %i has percentiles, errors by status, runner views, runner CPU/memory and the pass/fail row', (i) => {
    const worst = i === 1 ? ' (worst series)' : '';
    expect(titles(built[i]!)).toEqual(
      expect.arrayContaining([
        `Request duration percentiles${worst}`,
        'Errors by status code',
        'VUs per runner',
        'Request rate per runner',
        'Runner CPU',
        'Runner memory',
        'Dropped iterations',
        'http_req_failed rate<0.01',
        'checks rate>0.99',
      ]),
    );
  });

  test('classic: every panel taking max() over percentile gauges says "worst series" in its title, legends and description', () => {
    // GIVEN the classic panels whose queries aggregate percentile gauges with max
    const maxOfPercentiles = /max(?: by \([^)]*\))? \((?:last_over_time\()?k6_[a-z_]+_(p\d+|med|\$quantile_stat)\{/;
    const panels = contentPanels(built[1]!).filter((p) => targetsOf(p).some((t) => maxOfPercentiles.test(t.expr)));
    expect(panels.map((p) => p.title)).toEqual([
      'Request duration at selected quantile (worst series)',
      'Request duration p95 (run) (worst series)',
      'Iterations',
      'HTTP latency timings (worst series)',
      'Request duration percentiles (worst series)',
      'Request duration by expected_response (worst series)',
      'Requests by URL',
      'Request duration per runner (worst series)',
      'Request duration per zone (worst series)',
    ]);
    for (const p of panels) {
      expect({ title: p.title, upperBound: p.description?.includes('an upper bound of the true percentile') }).toEqual({
        title: p.title,
        upperBound: true,
      });
      expect({ title: p.title, native: p.description?.includes('"k6 load test" dashboard') }).toEqual({ title: p.title, native: true });
      // the legend of every percentile target (a time series' legend, or a table's column) says it too
      const legends = targetsOf(p)
        .filter((t) => maxOfPercentiles.test(t.expr))
        .map((t) => (t as { legendFormat?: string }).legendFormat)
        .filter((x) => x !== undefined && x !== '__auto');
      for (const legend of legends) expect(legend).toMatch(/ \(worst series\)$/);
    }
    // the table's percentile columns (its legends are the column names)
    const table = panels.find((p) => p.title === 'Requests by URL')!;
    expect(JSON.stringify(table)).toContain('"p95 (worst series)"');
    expect(JSON.stringify(table)).toContain('"p99 (worst series)"');
    // AND the native dashboard claims none of it
    expect(JSON.stringify(built[0]!)).not.toContain('worst series');
  });

  test('the pass/fail row runs the verdict queries of each trend mode', () => {
    const passFail = (d: dashboard.Dashboard) =>
      contentPanels(d).filter((p) => p.type === 'stat' && /^(http_req_failed|http_req_duration|checks) /.test(p.title ?? ''));
    expect(passFail(built[0]!).map((p) => p.title)).toEqual([
      'http_req_failed rate<0.01',
      'http_req_failed rate<0.01 (observed)',
      'http_req_duration p(95)<500',
      'http_req_duration p(95)<500 (observed)',
      'http_req_duration p(99)<1500',
      'http_req_duration p(99)<1500 (observed)',
      'checks rate>0.99',
      'checks rate>0.99 (observed)',
    ]);
    // the classic dashboard judges trends as `loadtest verdict` does for classic runners: the worst series' gauge
    expect(passFail(built[1]!).map((p) => p.title)).toEqual(passFail(built[0]!).map((p) => p.title));
    const classicP95 = contentPanels(built[1]!).find((p) => p.title === 'http_req_duration p(95)<500 (observed)')!;
    expect(targetsOf(classicP95)[0]!.expr).toBe(
      thresholdQueries(
        { http_req_duration: ['p(95)<500'] },
        { testid: '$testid', testidMatch: '=~', window: '$__range', durationSeconds: '$__range_s', trends: 'classic' },
      )[0]!.promql,
    );
    const p95 = contentPanels(built[0]!).find((p) => p.title === 'http_req_duration p(95)<500')!;
    // the native dashboard reads the run histogram from the recorded run totals or the raw series, by `source`
    const scope = { testid: '$testid', testidMatch: '=~', window: '$__range', durationSeconds: '$__range_s' } as const;
    const verdict = thresholdQueries({ http_req_duration: ['p(95)<500'] }, { ...scope, runTotals: SOURCE_GUARDS })[0]!;
    // a value that is not finite fails, as in the verdict
    expect(targetsOf(p95)[0]!.expr).toBe(`((${verdict.promql}) < Inf > -Inf) < bool 500`);
    // each side is the verdict's own query of that source, behind its guard
    const raw = thresholdQueries({ http_req_duration: ['p(95)<500'] }, scope)[0]!.promql;
    const recorded = thresholdQueries({ http_req_duration: ['p(95)<500'] }, { ...scope, runTotals: 'recorded' })[0]!.promql;
    expect(verdict.promql).toBe(
      'histogram_quantile(0.95, sum(sum_over_time(outcome:k6_http_req_duration_seconds:increase{testid=~"$testid",dashboard_source=~"$source"}[$__range]) ' +
        'or increase(k6_http_req_duration_seconds{testid=~"$testid",dashboard_source!~"$source"}[$__range]))) * 1000',
    );
    expect(raw).toBe('histogram_quantile(0.95, sum(increase(k6_http_req_duration_seconds{testid=~"$testid"}[$__range]))) * 1000');
    expect(recorded).toBe(
      // no filters: the coarsest level, a run's one or two series (expected or not)
      'histogram_quantile(0.95, sum(sum_over_time(outcome:k6_http_req_duration_seconds:increase{testid=~"$testid"}[$__range]))) * 1000',
    );
    expect(p95.fieldConfig?.defaults?.mappings).toEqual([
      { type: 'value', options: { '0': { text: 'FAIL', color: 'red', index: 0 }, '1': { text: 'PASS', color: 'green', index: 1 } } },
    ]);
  });

  test('dropped iterations turn red from the first one', () => {
    const p = contentPanels(built[0]!).find((x) => x.title === 'Dropped iterations')!;
    expect(p.fieldConfig?.defaults?.thresholds?.steps).toEqual([
      { value: null, color: 'green' },
      { value: 1, color: 'red' },
    ]);
  });

  test('runner CPU matches runner pods by namespace and pod names starting with the testid', () => {
    const p = contentPanels(built[0]!).find((x) => x.title === 'Runner CPU')!;
    expect(targetsOf(p)[0]!.expr).toBe(
      'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="$runner_namespace", pod=~"$testid-.*", pod!~"$testid-(starter|initializer|stop)-.*", container!="", container!="POD"}[$__rate_interval]))',
    );
  });

  test('the runs table links each testid to the load-test dashboards and the comparison with the testid set', () => {
    const p = contentPanels(built[2]!)[0]!;
    const override = p.fieldConfig?.overrides?.find((o) => o.matcher.options === 'testid');
    expect(override?.properties).toEqual([
      {
        id: 'links',
        value: [
          { title: 'Open in k6 load test', url: '/d/k6-load-test/?var-testid=${__value.raw}&${__url_time_range}' },
          { title: 'Open in k6 load test (classic trend stats)', url: '/d/k6-load-test-classic/?var-testid=${__value.raw}&${__url_time_range}' },
          { title: 'Compare with a baseline', url: '/d/k6-compare/?var-testid=${__value.raw}&${__url_time_range}' },
        ],
      },
    ]);
    expect(p.transformations?.[1]?.options).toMatchObject({
      renameByName: {
        'Value #A': 'start',
        'Value #B': 'duration',
        'Value #C': 'requests',
        'Value #D': 'error ratio',
        'Value #E': 'p95',
        'Value #F': 'checks pass',
      },
    });
  });
});
