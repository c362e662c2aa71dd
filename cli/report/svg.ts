/**
 * Line charts as inline SVG, generated here (no chart library: a few axes and paths, and the page stays one file with
 * nothing to load). Each chart carries its axis ranges and each line its point count as data attributes, so the page
 * can be checked without reading pixels.
 */
import type { ChartData } from './series';

/** Escapes text for HTML/SVG element content and attribute values. */
export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Line colours (colour-blind safe, Okabe-Ito), cycled. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'] as const;

const WIDTH = 720;
const HEIGHT = 260;
const M = { left: 64, right: 16, top: 12, bottom: 36 };
const PLOT_W = WIDTH - M.left - M.right;
const PLOT_H = HEIGHT - M.top - M.bottom;
const Y_TICKS = 5;

/** The smallest "nice" number (1, 2, 2.5, 5 x 10^n) at or above `v`; 1 for 0 or less. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const exp = Math.floor(Math.log10(v));
  const base = 10 ** exp;
  for (const m of [1, 2, 2.5, 5, 10]) if (m * base >= v * (1 - 1e-12)) return m * base;
  return 10 * base;
}

/** A tick value as text: up to 4 significant digits, no float noise. */
export function tickText(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 10_000) return `${Number((v / 1000).toPrecision(4))}k`;
  return String(Number(v.toPrecision(4)));
}

/** Seconds as `45s`, `12m`, `1h30m`. */
export function elapsedText(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 > 0 ? `${m % 60}m` : ''}`;
}

/** The y-axis maximum of a chart: a nice number at or above every value (1 for a chart without data). */
export function yMaxOf(chart: ChartData): number {
  let max = 0;
  for (const s of chart.series) for (const [, v] of s.points) max = Math.max(max, v);
  return chart.unit === 'ratio' && max <= 1 && max > 0.5 ? 1 : niceCeil(max);
}

/** The SVG path of one series; a gap longer than 3 steps starts a new segment. */
function pathOf(points: readonly (readonly [number, number])[], x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let prev: number | undefined;
  const gap = points.length > 1 ? 3 * Math.min(...points.slice(1).map(([t], i) => t - points[i]![0])) : Infinity;
  for (const [t, v] of points) {
    d += `${prev === undefined || t - prev > gap ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    prev = t;
  }
  return d;
}

/** One chart as an `<svg>` element with axes, ticks, one path per series and a legend. */
export function lineChartSvg(chart: ChartData): string {
  const span = Math.max(1, chart.end - chart.start);
  const yMax = yMaxOf(chart);
  const x = (t: number) => M.left + ((t - chart.start) / span) * PLOT_W;
  const y = (v: number) => M.top + PLOT_H - (v / yMax) * PLOT_H;
  const parts: string[] = [];
  for (let i = 0; i <= Y_TICKS; i++) {
    const v = (yMax * i) / Y_TICKS;
    parts.push(
      `<line class="grid" x1="${M.left}" x2="${WIDTH - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`,
      `<text class="tick tick-y" data-value="${v}" x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${htmlEscape(tickText(v))}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const t = chart.start + (span * i) / 4;
    parts.push(
      `<text class="tick tick-x" data-value="${Math.round(t)}" x="${x(t).toFixed(1)}" y="${HEIGHT - M.bottom + 16}" text-anchor="middle">${htmlEscape(elapsedText((t - chart.start) / 1000))}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PLOT_H}"/>`,
    `<line class="axis" x1="${M.left}" x2="${WIDTH - M.right}" y1="${M.top + PLOT_H}" y2="${M.top + PLOT_H}"/>`,
  );
  if (chart.unit !== '')
    parts.push(
      `<text class="unit" x="12" y="${M.top + PLOT_H / 2}" transform="rotate(-90 12 ${M.top + PLOT_H / 2})" text-anchor="middle">${htmlEscape(chart.unit)}</text>`,
    );
  chart.series.forEach((s, i) => {
    const values = s.points.map(([, v]) => v);
    parts.push(
      `<path class="series" data-series="${htmlEscape(s.label)}" data-points="${s.points.length}" data-min="${values.length > 0 ? Math.min(...values) : ''}" data-max="${values.length > 0 ? Math.max(...values) : ''}" stroke="${PALETTE[i % PALETTE.length]}" d="${pathOf(s.points, x, y)}"/>`,
    );
  });
  if (chart.series.length === 0)
    parts.push(`<text class="no-data" x="${M.left + PLOT_W / 2}" y="${M.top + PLOT_H / 2}" text-anchor="middle">no data</text>`);
  const attrs = [
    `class="chart" data-chart="${htmlEscape(chart.id)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}"`,
    `data-x-min="${chart.start}" data-x-max="${chart.end}" data-y-min="0" data-y-max="${yMax}" role="img" aria-label="${htmlEscape(chart.title)}"`,
  ].join(' ');
  return `<svg ${attrs}>${parts.join('')}</svg>`;
}

/** The legend of a chart: one swatch per series, in path order. */
export function legendHtml(chart: ChartData): string {
  return `<ul class="legend">${chart.series
    .map((s, i) => `<li><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${htmlEscape(s.label)}</li>`)
    .join('')}</ul>`;
}
