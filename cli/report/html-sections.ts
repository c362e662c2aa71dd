/** The sections of index.html: the verdict, its thresholds, the comparison with the baseline, the summary table. */
import type { ComparisonGroup, RunComparison, StatDelta } from '../compare/types';
import { failureMessage } from '../verdict/junit';
import { formatObserved, type Verdict } from '../verdict/verdict';
import type { RunSummaryData } from './summary';
import { htmlEscape as e } from './svg';

/** The verdict's one word, as the CLI prints it. */
export function verdictWord(v: Verdict): string {
  return v.status === 'no-data' ? 'NO DATA' : v.status.toUpperCase();
}

/** Why the verdict is what it is: failed thresholds, validity reasons, the no-data/unreachable message, the notes. */
export function verdictReasons(v: Verdict, notes: readonly string[]): string[] {
  const reasons: string[] = [];
  if (v.message !== undefined) reasons.push(v.message);
  for (const r of v.rows) if (!r.pass) reasons.push(`${r.threshold}: ${failureMessage(r)}`);
  for (const r of v.validity?.reasons ?? []) reasons.push(`${r.check}: ${r.message}`);
  return [...reasons, ...notes];
}

/** The banner: PASS / FAIL / INCONCLUSIVE (or NO DATA, UNREACHABLE) and its reasons. */
export function verdictSection(v: Verdict, notes: readonly string[]): string {
  const reasons = verdictReasons(v, notes);
  const summary =
    v.rows.length > 0 ? `${v.rows.filter((r) => r.pass).length} of ${v.rows.length} thresholds held over all runners` : 'no thresholds judged';
  return [
    `<section id="verdict" class="verdict status-${e(v.status)}" data-status="${e(v.status)}" data-exit-code="${v.exitCode}">`,
    `<h2>Verdict: <span class="verdict-word">${e(verdictWord(v))}</span></h2>`,
    `<p class="verdict-summary">${e(summary)} (exit code ${v.exitCode})</p>`,
    reasons.length > 0 ? `<ul class="reasons">${reasons.map((r) => `<li>${e(r)}</li>`).join('')}</ul>` : '',
    '</section>',
  ].join('');
}

/** The thresholds with their observed values and the limit each was compared with. */
export function thresholdsSection(v: Verdict): string {
  if (v.rows.length === 0) return '';
  const rows = v.rows.map((r) => {
    const t = r.query.threshold;
    const limit = `${t.aggregationName} ${t.operator} ${t.value}${t.metricInfo.isTime ? ' ms' : ''}`;
    return (
      `<tr class="threshold ${r.pass ? 'pass' : 'fail'}" data-threshold="${e(r.threshold)}" data-observed="${r.observed === null ? '' : String(r.observed)}">` +
      `<td>${e(t.key)}</td><td>${e(r.query.expression)}</td><td class="num">${e(formatObserved(r))}</td><td>${e(limit)}</td>` +
      `<td class="result">${r.pass ? 'pass' : 'FAIL'}</td><td class="note">${e(r.note ?? r.query.aggregation)}</td></tr>`
    );
  });
  return [
    '<section id="thresholds"><h2>Thresholds</h2><table class="thresholds">',
    '<thead><tr><th>metric</th><th>threshold</th><th>observed</th><th>limit</th><th>result</th><th>how</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table></section>`,
  ].join('');
}

const pct = (v: number | null) => (v === null ? '–' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
const num = (v: number | null) => (v === null ? '–' : String(Number(v.toPrecision(4))));

function deltaRow(g: ComparisonGroup, d: StatDelta): string {
  const group = g.scenario === '' && g.name === '' ? 'whole run' : [g.scenario, g.name].filter((x) => x !== '').join(' / ');
  return (
    `<tr class="delta significance-${e(d.significance)}" data-group="${e(group)}" data-stat="${e(d.stat)}">` +
    `<td>${e(group)}</td><td>${e(d.stat)}</td><td class="num">${e(num(d.baseline))}</td><td class="num">${e(num(d.run))}</td>` +
    `<td class="num">${e(pct(d.relative))}</td><td class="num">±${e(num(d.noise))} (${e(d.noiseSource)})</td><td>${e(d.significance)}</td></tr>`
  );
}

/** The run next to its baseline: status, regression rules, every compared stat, the notes. */
export function comparisonSection(c: RunComparison | undefined): string {
  if (c === undefined) return '';
  const baseline = c.baseline !== undefined ? `baseline ${c.baseline.testid} (${c.baseline.source})` : 'no baseline';
  const rules = c.regressions.map(
    (r) =>
      `<tr class="regression ${r.pass ? 'pass' : 'fail'}"><td>${e(r.metric)}</td><td>${e(r.rule)}</td><td class="num">${e(num(r.baseline))}</td>` +
      `<td class="num">${e(num(r.run))}</td><td class="num">${e(num(r.limit))}</td><td class="result">${r.pass ? 'pass' : 'FAIL'}</td><td>${e(r.note ?? '')}</td></tr>`,
  );
  return [
    `<section id="comparison" data-status="${e(c.status)}"><h2>Compared with the baseline</h2>`,
    `<p class="comparison-status">${e(c.status)}: ${e(baseline)}</p>`,
    rules.length > 0
      ? `<table class="regressions"><thead><tr><th>metric</th><th>rule</th><th>baseline</th><th>run</th><th>limit</th><th>result</th><th>note</th></tr></thead><tbody>${rules.join('')}</tbody></table>`
      : '',
    c.groups.length > 0
      ? `<table class="deltas"><thead><tr><th>group</th><th>stat</th><th>baseline</th><th>run</th><th>change</th><th>noise</th><th>significance</th></tr></thead><tbody>${c.groups
          .flatMap((g) => g.stats.map((d) => deltaRow(g, d)))
          .join('')}</tbody></table>`
      : '',
    c.notes.length > 0 ? `<ul class="notes">${c.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : '',
    '</section>',
  ].join('');
}

/** Every metric of summary.json as one table row (values in k6's units; approximate ones marked `≈`). */
export function summarySection(s: RunSummaryData | undefined): string {
  if (s === undefined || Object.keys(s.metrics).length === 0) return '';
  const rows = Object.entries(s.metrics).map(([key, m]) => {
    const unit = m.contains === 'time' ? ' ms' : m.contains === 'data' ? ' B' : '';
    const values = Object.entries(m.values)
      .map(([stat, v]) => {
        const approx = m.approximate?.[stat] !== undefined ? `<abbr title="${e(m.approximate[stat]!)}">≈</abbr>` : '';
        const text = v === null ? '–' : `${num(v)}${stat === 'count' || stat === 'passes' || stat === 'fails' || stat === 'rate' ? '' : unit}`;
        return `<span class="stat">${e(stat)}=${approx}${e(text)}</span>`;
      })
      .join(' ');
    return `<tr data-metric="${e(key)}"><td>${e(key)}</td><td>${e(m.type)}</td><td>${values}</td></tr>`;
  });
  const checks = s.checks.map((c) => `<tr><td>${e(c.path)}</td><td class="num">${c.passes}</td><td class="num">${c.fails}</td></tr>`);
  return [
    '<section id="summary"><h2>Metrics over all runners</h2>',
    `<table class="metrics"><thead><tr><th>metric</th><th>type</th><th>values</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    checks.length > 0
      ? `<h3>Checks</h3><table class="checks"><thead><tr><th>check</th><th>passes</th><th>fails</th></tr></thead><tbody>${checks.join('')}</tbody></table>`
      : '',
    '<p class="hint">≈: not exact from Prometheus data (hover for why; docs/report.md)</p></section>',
  ].join('');
}
