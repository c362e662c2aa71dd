/**
 * index.html: one self-contained page (inline CSS and SVG, no script, nothing fetched at view time) with the verdict,
 * the thresholds, the comparison with the baseline when there is one, the charts and every metric of the summary.
 * Every text from the run (test names, tags, messages) is escaped.
 */
import type { RunComparison } from '../compare/types';
import type { Verdict } from '../verdict/verdict';
import { comparisonSection, summarySection, thresholdsSection, verdictSection, verdictWord } from './html-sections';
import type { ChartData } from './series';
import type { RunSummaryData } from './summary';
import { htmlEscape as e, legendHtml, lineChartSvg } from './svg';

/** What the page shows. */
export interface ReportPage {
  readonly testid: string;
  readonly test?: string;
  /** When the report was made. */
  readonly generatedAt: Date;
  /** The Prometheus the data came from (no credentials). */
  readonly prometheus: string;
  readonly verdict: Verdict;
  /** Notes of the verdict (how the run was tied to its test, a vacuous pass). */
  readonly notes: readonly string[];
  readonly summary?: RunSummaryData;
  readonly charts: readonly ChartData[];
  /** The run compared with its baseline (cli/compare/types.ts), when there is one. */
  readonly comparison?: RunComparison;
}

const CSS = `
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#fff}
body{margin:0 auto;max-width:1520px;padding:16px 24px}
h1{font-size:1.4rem;margin:0 0 4px}h2{font-size:1.15rem;margin:24px 0 8px}
.meta{color:#555;margin:0 0 12px}
.verdict{border-radius:6px;padding:8px 16px;border:2px solid}
.status-pass{background:#e8f5e9;border-color:#2e7d32}.status-fail{background:#ffebee;border-color:#c62828}
.status-inconclusive,.status-no-data,.status-unreachable{background:#fff8e1;border-color:#f9a825}
.verdict h2{margin:4px 0}
table{border-collapse:collapse;font-size:.85rem;margin:4px 0 12px}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fail td.result{color:#c62828;font-weight:600}tr.pass td.result{color:#2e7d32}
.significance-worse td{background:#ffebee}.significance-better td{background:#e8f5e9}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure.chart-box{margin:0;border:1px solid #ddd;border-radius:6px;padding:8px}
figure.chart-box figcaption{font-weight:600}figure.chart-box .note{font-size:.8rem;color:#555;margin:2px 0}
svg.chart{display:block;max-width:100%;height:auto}
svg.chart .grid{stroke:#eee}svg.chart .axis{stroke:#888}
svg.chart .tick,svg.chart .unit,svg.chart .no-data{font-size:11px;fill:#555}
svg.chart path.series{fill:none;stroke-width:1.6}
ul.legend{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:12px;font-size:.8rem}
.swatch{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
.stat{margin-right:10px;white-space:nowrap}.hint{font-size:.8rem;color:#555}
`;

/** One chart with its caption and legend. */
function chartFigure(c: ChartData): string {
  return [
    `<figure class="chart-box" id="chart-${e(c.id)}">`,
    `<figcaption>${e(c.title)}${c.unit !== '' ? ` (${e(c.unit)})` : ''}</figcaption>`,
    `<p class="note">${e(c.note)}</p>`,
    lineChartSvg(c),
    legendHtml(c),
    '</figure>',
  ].join('');
}

/** The whole page as HTML text. */
export function renderReportHtml(p: ReportPage): string {
  const w = p.verdict.window;
  const window =
    w !== undefined
      ? `${new Date(w.start).toISOString()} – ${new Date(w.end).toISOString()} (${Math.round((w.end - w.start) / 1000)} s)`
      : 'no run window';
  const title = `${verdictWord(p.verdict)} · ${p.testid}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Nothing may load from anywhere: the page is its own file (a CSP makes a stray reference fail, not leak).
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(title)}</title><style>${CSS}</style></head><body>`,
    `<header><h1>Load test report: ${e(p.testid)}</h1>`,
    `<p class="meta">test <span id="test-name">${e(p.test ?? '(none)')}</span> · window ${e(window)} · Prometheus ${e(p.prometheus)} · generated ${e(p.generatedAt.toISOString())}</p></header>`,
    verdictSection(p.verdict, p.notes),
    thresholdsSection(p.verdict),
    comparisonSection(p.comparison),
    p.charts.length > 0 ? `<section id="charts"><h2>Over time</h2><div class="charts">${p.charts.map(chartFigure).join('')}</div></section>` : '',
    summarySection(p.summary),
    '</body></html>',
    '',
  ].join('\n');
}
