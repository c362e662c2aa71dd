/**
 * The reference native dashboard (grafana.com 18030) as Grafana runs it: every panel query of
 * dashboards/reference-queries.json (copied as written from grafana/xk6-output-prometheus-remote v0.5.1), with its
 * variables resolved to the values that file records for a 1 h view of one run, each a range query over the hour at
 * the step Grafana picks (15 s). Stat and table panels are range queries there too: the file says which.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { PrometheusHandle } from '../test/support/prometheus';
import { median, timeMs } from './machine';

interface ReferenceQuery {
  readonly panel: string;
  readonly refId: string;
  readonly kind: 'range' | 'instant';
  readonly expr: string;
}

interface ReferenceFile {
  readonly variables: { readonly values: Readonly<Record<string, string>> };
  readonly queries: readonly ReferenceQuery[];
}

/** Step of a 1 h panel (reference-queries.json `variables.about`). */
const STEP_SECONDS = 15;

/** Every query of the reference dashboard with the variables resolved for run `testid`. */
export function referenceDashboardQueries(rootDir: string, testid: string): { panel: string; kind: 'range' | 'instant'; expr: string }[] {
  const file = JSON.parse(readFileSync(path.join(rootDir, 'dashboards', 'reference-queries.json'), 'utf8')) as ReferenceFile;
  const values: Record<string, string> = { ...file.variables.values, testid };
  // Longest names first: $__rate_interval before $__range and $__interval.
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  return file.queries.map((q) => {
    let expr = q.expr;
    for (const n of names) expr = expr.replaceAll(`$${n}`, values[n]!);
    if (expr.includes('$')) throw new Error(`reference query of panel "${q.panel}" ${q.refId} keeps an unresolved variable: ${expr}`);
    return { panel: q.panel, kind: q.kind, expr };
  });
}

/** Times every reference query (median of `repeats` after a warm-up) over [from, to]; returns each and the total. */
export async function timeReferenceDashboard(
  p: PrometheusHandle,
  rootDir: string,
  testid: string,
  from: number,
  to: number,
  repeats: number,
): Promise<{ totalMs: number; queries: number; slowest: { panel: string; ms: number } }> {
  let totalMs = 0;
  let slowest = { panel: '', ms: 0 };
  const queries = referenceDashboardQueries(rootDir, testid);
  for (const q of queries) {
    const run = () => (q.kind === 'instant' ? p.query(q.expr, to) : p.queryRange(q.expr, from, to, STEP_SECONDS));
    await run();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await timeMs(run));
    const t = median(times);
    totalMs += t;
    if (t > slowest.ms) slowest = { panel: q.panel, ms: t };
  }
  return { totalMs, queries: queries.length, slowest };
}
