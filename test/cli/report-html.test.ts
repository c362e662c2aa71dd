/**
 * index.html of `loadtest report` opened in headless Chromium (Debian's `chromium`, driven by playwright-core): the
 * page loads nothing, logs no error, shows the verdict and the comparison, draws every chart from the run's data
 * with axis ranges that match it, and escapes every text. The data is a synthetic run with known truth in a real
 * Prometheus; the comparison is hand-built (its type is cli/compare/types.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunComparison } from '../../cli/compare/types';
import { prometheusClient } from '../../cli/prometheus/client';
import { buildReport, writeReport, type RunReport } from '../../cli/report/report';
import { niceCeil, tickText } from '../../cli/report/svg';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus';

/** Debian's chromium (.ci/setup installs it). */
const CHROMIUM = '/usr/bin/chromium';
/** Names with every character HTML must escape. */
const ODD_TEST = 'web&<"x">';
const ODD_NAME = 'a&b<c>';
const CHART_IDS = ['vus', 'request-rate', 'latency', 'error-ratio', 'runner-request-rate'];

let prom: PrometheusHandle;
let dir: string;
let truth: K6RunTruth;
let report: RunReport;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const requests: string[] = [];

const comparison: RunComparison = {
  status: 'regressed',
  exitCode: 98,
  testid: 'web-20261125-110000',
  test: ODD_TEST,
  baseline: { testid: 'web-20261124-110000', source: 'last-pass' },
  groups: [
    {
      scenario: '',
      name: '',
      stats: [
        { stat: 'p95', run: 180, baseline: 150, absolute: 30, relative: 0.2, noise: 13.6, noiseSource: 'bucket-error', significance: 'worse' },
        {
          stat: 'error_ratio',
          run: 0.05,
          baseline: 0.05,
          absolute: 0,
          relative: 0,
          noise: 0.01,
          noiseSource: 'baseline-spread',
          significance: 'no-significant-change',
        },
      ],
    },
    {
      scenario: 'default',
      name: ODD_NAME,
      stats: [{ stat: 'p50', run: 90, baseline: 100, absolute: -10, relative: -0.1, noise: 2, noiseSource: 'bucket-error', significance: 'better' }],
    },
  ],
  regressions: [{ metric: 'http_req_duration', rule: 'p(95) < +10%', run: 180, baseline: 150, limit: 165, pass: false }],
  notes: [`baseline: the last passing run of ${ODD_TEST}`],
};

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  // GIVEN a 3-runner run, 10 req/s per runner, 10 % failures on one of two URLs (5 % overall), in Prometheus
  truth = await pushK6Run(prom.writeUrl, {
    testid: 'web-20261125-110000',
    test: ODD_TEST,
    runners: 3,
    vus: 7,
    durationSeconds: 120,
    endTime: Date.now() - 30_000,
    urls: [{ url: 'http://target.local/a' }, { url: 'http://target.local/b', name: ODD_NAME, failureFraction: 0.1 }],
  });
  // WHEN the report is made (one failing threshold) with the comparison, and its page opened in Chromium
  report = await buildReport({
    prometheus: prometheusClient(prom.url),
    testid: truth.testid,
    test: ODD_TEST,
    thresholds: { http_reqs: ['count>0'], [`http_req_failed{name:${ODD_NAME}}`]: ['rate<0.05'] },
    trends: 'native',
    comparison,
    now: new Date(),
  });
  dir = mkdtempSync(path.join(tmpdir(), 'loadtest-report-html-'));
  writeReport(dir, report);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const url = pathToFileURL(path.join(dir, 'index.html')).href;
  await watch(page, url, requests, consoleErrors);
  await page.goto(url, { waitUntil: 'load' });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await prom?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Records console errors and every request but `allowed` into the lists; such requests are refused. */
async function watch(p: Page, allowed: string, seen: string[], errors: string[]): Promise<void> {
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.route('**', async (route) => {
    const url = route.request().url();
    if (url === allowed) return route.continue();
    if (!seen.includes(url)) seen.push(url);
    return route.abort();
  });
  p.on('request', (r) => {
    if (r.url() !== allowed && !seen.includes(r.url())) seen.push(r.url());
  });
}

/** An element as the page's function sees it (the tests' tsconfig has no DOM types). */
type Attributed = { readonly attributes: ArrayLike<{ readonly name: string; readonly value: string }> };

/** The attributes of every element matching `selector`. */
const attrsOf = (selector: string): Promise<Record<string, string>[]> =>
  page.$$eval(selector, (els) =>
    els.map((e) => Object.fromEntries(Array.from((e as unknown as Attributed).attributes).map((a) => [a.name, a.value] as const))),
  );

test('the page loads nothing and logs no error', () => {
  expect(requests).toEqual([]);
  expect(consoleErrors).toEqual([]);
  const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
  expect(html).not.toMatch(/<script|<link|src=|href=|url\(/i);
});

test('the watch sees a request and a console error when a page makes them', async () => {
  const other = await browser.newPage();
  const [seen, errors]: [string[], string[]] = [[], []];
  await watch(other, 'about:blank', seen, errors);
  await other.setContent('<img src="http://192.0.2.1/x.png"><script>console.error("boom")</script>');
  await other.close();
  expect(seen).toEqual(['http://192.0.2.1/x.png']);
  expect(errors).toContain('boom');
});

test('the verdict: FAIL, its reason, the thresholds with observed values', async () => {
  expect(await page.textContent('#verdict .verdict-word')).toBe('FAIL');
  expect(await page.getAttribute('#verdict', 'data-status')).toBe('fail');
  const reasons = await page.$$eval('#verdict .reasons li', (els) => els.map((e) => e.textContent));
  expect(reasons).toHaveLength(1);
  expect(reasons[0]).toMatch(
    new RegExp(`^http_req_failed\\{name:${ODD_NAME.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\} rate<0\\.05: observed 0\\.1\\d*, limit rate < 0\\.05$`),
  );
  const rows = await attrsOf('#thresholds tr.threshold');
  expect(rows.map((r) => [r['data-threshold'], r.class])).toEqual([
    ['http_reqs count>0', 'threshold pass'],
    [`http_req_failed{name:${ODD_NAME}} rate<0.05`, 'threshold fail'],
  ]);
  expect(Number(rows[0]!['data-observed'])).toBe(truth.totals.requests);
  expect(await page.textContent('#test-name')).toBe(ODD_TEST);
  expect(await page.title()).toBe(`FAIL · ${truth.testid}`);
});

test('the comparison: status, the regression rule, every stat with its significance, names escaped', async () => {
  expect(await page.getAttribute('#comparison', 'data-status')).toBe('regressed');
  expect(await page.textContent('#comparison .comparison-status')).toBe('regressed: baseline web-20261124-110000 (last-pass)');
  const deltas = await attrsOf('#comparison tr.delta');
  expect(deltas.map((d) => [d['data-group'], d['data-stat'], d.class])).toEqual([
    ['whole run', 'p95', 'delta significance-worse'],
    ['whole run', 'error_ratio', 'delta significance-no-significant-change'],
    [`default / ${ODD_NAME}`, 'p50', 'delta significance-better'],
  ]);
  const cells = await page.$$eval('#comparison tr.delta:first-child td', (els) => els.map((e) => e.textContent));
  expect(cells).toEqual(['whole run', 'p95', '150', '180', '+20.0%', '±13.6 (bucket-error)', 'worse']);
  expect(await page.$$eval('#comparison tr.regression td', (els) => els.map((e) => e.textContent))).toEqual([
    'http_req_duration',
    'p(95) < +10%',
    '150',
    '180',
    '165',
    'FAIL',
    '',
  ]);
  expect(await page.textContent('#comparison .notes li')).toBe(`baseline: the last passing run of ${ODD_TEST}`);
});

test('every chart is drawn from the data, its x axis the run window, its y axis a nice bound over the data', async () => {
  const charts = await attrsOf('svg.chart');
  expect(charts.map((c) => c['data-chart'])).toEqual(CHART_IDS);
  const w = report.verdict.window!;
  for (const c of charts) {
    expect([Number(c['data-x-min']), Number(c['data-x-max'])]).toEqual([w.start, w.end]);
    const paths = await attrsOf(`svg.chart[data-chart="${c['data-chart']}"] path.series`);
    expect(paths.length).toBeGreaterThan(0);
    const dataMax = Math.max(...paths.map((p) => Number(p['data-max'])));
    for (const p of paths) {
      // one path command per point: 120 s at a 5 s step gives about 24 points
      const n = Number(p['data-points']);
      expect(n).toBeGreaterThanOrEqual(15);
      expect((p.d!.match(/[ML]/g) ?? []).length).toBe(n);
    }
    const yMax = Number(c['data-y-max']);
    expect(yMax).toBe(c['data-chart'] === 'error-ratio' && dataMax > 0.5 ? 1 : niceCeil(dataMax));
    // the top tick label says the bound
    const ticks = await page.$$eval(`svg.chart[data-chart="${c['data-chart']}"] text.tick-y`, (els) =>
      els.map((e) => [Number(e.getAttribute('data-value')), e.textContent] as const),
    );
    expect(ticks[ticks.length - 1]).toEqual([yMax, tickText(yMax)]);
    expect(ticks[0]).toEqual([0, '0']);
  }
});

test('the charts show the truth: 21 VUs, 30 req/s, 10 req/s per runner, 5 % errors, ordered percentiles', async () => {
  const series = async (id: string) =>
    Object.fromEntries((await attrsOf(`svg.chart[data-chart="${id}"] path.series`)).map((p) => [p['data-series'], Number(p['data-max'])]));
  expect(await series('vus')).toEqual({ vus: 21, vus_max: 21 });
  expect((await series('request-rate')).requests).toBeCloseTo(30, 0);
  const perRunner = await series('runner-request-rate');
  expect(Object.keys(perRunner)).toEqual(['runner 0', 'runner 1', 'runner 2']);
  for (const v of Object.values(perRunner)) expect(v).toBeCloseTo(10, 0);
  const errors = (await attrsOf('svg.chart[data-chart="error-ratio"] path.series'))[0]!;
  expect(Number(errors['data-max'])).toBeGreaterThan(0.03);
  expect(Number(errors['data-max'])).toBeLessThan(0.08);
  expect(Number(errors['data-min'])).toBeGreaterThan(0.02);
  const latency = await series('latency');
  expect(Object.keys(latency)).toEqual(['p50', 'p95', 'p99']);
  expect(latency.p50!).toBeLessThan(latency.p95!);
  expect(latency.p95!).toBeLessThanOrEqual(latency.p99!);
});

test('a screenshot: every section and chart has a non-empty box inside the page', async () => {
  const png = await page.screenshot({
    fullPage: true,
    ...(process.env.REPORT_SCREENSHOT !== undefined ? { path: process.env.REPORT_SCREENSHOT } : {}),
  });
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  const pageWidth = png.readUInt32BE(16);
  expect(pageWidth).toBe(1600);
  for (const selector of [
    'header',
    '#verdict',
    '#thresholds table',
    '#comparison table.deltas',
    '#summary table.metrics',
    ...CHART_IDS.map((id) => `svg[data-chart="${id}"]`),
  ]) {
    const box = await page.locator(selector).boundingBox();
    expect({ selector, visible: box !== null && box.width > 0 && box.height > 0 }).toEqual({ selector, visible: true });
    expect(box!.x + box!.width).toBeLessThanOrEqual(pageWidth);
  }
  // the charts do not overlap
  const boxes = await Promise.all(CHART_IDS.map((id) => page.locator(`svg[data-chart="${id}"]`).boundingBox()));
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]!, boxes[j]!];
      const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      expect({ pair: [CHART_IDS[i], CHART_IDS[j]], overlap }).toEqual({ pair: [CHART_IDS[i], CHART_IDS[j]], overlap: false });
    }
});
