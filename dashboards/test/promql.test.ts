import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DASHBOARDS } from '../src';
import { CHECK_VALUES, dashboardQueries, substituteVariables, syntaxErrors } from './queries';

const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';
const queries = DASHBOARDS.flatMap((d) => dashboardQueries(d.build()));

describe('dashboard PromQL', () => {
  test('there are queries of every kind to check', () => {
    expect(queries.length).toBeGreaterThan(80);
    expect(new Set(queries.map((q) => q.uid))).toEqual(new Set(['k6-load-test', 'k6-load-test-classic', 'k6-runs', 'k6-compare']));
    // testid, zone, scenario and name of both load-test dashboards, and those of the run list and the comparison
    expect(queries.filter((q) => q.panelType === 'variable').length).toBe(14);
  });

  test('every query parses with lezer-promql after variable substitution', () => {
    // GIVEN every panel and variable query with Grafana's variables substituted
    const failures = queries
      .map((q) => ({ at: `${q.uid} / ${q.source} / ${q.refId}`, errors: syntaxErrors(substituteVariables(q.expr, CHECK_VALUES)) }))
      .filter((f) => f.errors.length > 0);
    // THEN none has an error node
    expect(failures).toEqual([]);
  });

  test('the parse check catches a broken query', () => {
    expect(syntaxErrors('sum(rate(k6_http_reqs_total{testid=~"x"}[1m])')).not.toEqual([]);
    expect(syntaxErrors('sum(rate(k6_http_reqs_total{testid=~"x"}[1m]))')).toEqual([]);
  });

  test('a variable without a value is an error, not a silent pass', () => {
    expect(() => substituteVariables('k6_vus{testid=~"$unknown"}', CHECK_VALUES)).toThrow(
      `no value for Grafana variable 'unknown' in: k6_vus{testid=~"$unknown"}`,
    );
  });

  test('every query type-checks with promtool check rules', () => {
    // GIVEN a rules file with one recording rule per query (variables substituted)
    expect(existsSync(PROMTOOL)).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-dash-rules-'));
    try {
      const rules = queries.map(
        (q, i) => `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(substituteVariables(q.expr, CHECK_VALUES))}`,
      );
      const file = path.join(dir, 'dashboards.rules.yaml');
      writeFileSync(file, `groups:\n  - name: dashboards\n    rules:\n${rules.join('\n')}\n`);
      // WHEN promtool checks it
      const res = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
      // THEN it finds every rule valid
      expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
      expect(res.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('promtool rejects a query with a type error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-dash-rules-'));
    try {
      const file = path.join(dir, 'bad.rules.yaml');
      writeFileSync(file, 'groups:\n  - name: bad\n    rules:\n      - record: bad\n        expr: "rate(sum(k6_http_reqs_total))"\n');
      const res = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
      expect(res.status).not.toBe(0);
      expect(res.stderr + res.stdout).toContain('expected type range vector');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
