/**
 * The Browser row of the load-test dashboards: what k6's browser module measures (k6 v1.7.1
 * internal/js/modules/k6/browser/k6ext/metrics.go, in constructs/src/k6/k6-metrics.ts `K6_BROWSER_METRICS`): the web
 * vitals at their 75th percentile, as Google reports them, rated with the limits of the web-vitals script k6 embeds,
 * the browser's request durations, and its failed requests. Collapsed: most runs have no browser.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { K6_BROWSER_METRICS, prometheusMetricName } from '@k6-platform/constructs/internal';
import { COLOR, instantQuery, prometheusQuery, row, SELECTOR, statPanel, thresholds, timeseriesPanel, UNIT } from './common';

/**
 * The web vitals k6 reports (k6 v1.7.1 common/js/web_vital_init.js calls onCLS, onFID, onLCP, onFCP, onINP, onTTFB)
 * with the limits of "good" and "poor" of the web-vitals script k6 embeds (common/js/web_vital_iife.js: LCP
 * [2500, 4000] ms, INP [200, 500], FCP [1800, 3000], TTFB [800, 1800], FID [100, 300], CLS [0.1, 0.25]), the same
 * limits that set the `rating` tag of each sample. Times in seconds, as Prometheus stores them.
 */
export const WEB_VITALS = [
  { metric: 'browser_web_vital_lcp', label: 'LCP', name: 'largest contentful paint', good: 2.5, poor: 4 },
  { metric: 'browser_web_vital_inp', label: 'INP', name: 'interaction to next paint', good: 0.2, poor: 0.5 },
  { metric: 'browser_web_vital_cls', label: 'CLS', name: 'cumulative layout shift (a score)', good: 0.1, poor: 0.25 },
  { metric: 'browser_web_vital_fcp', label: 'FCP', name: 'first contentful paint', good: 1.8, poor: 3 },
  { metric: 'browser_web_vital_ttfb', label: 'TTFB', name: 'time to first byte', good: 0.8, poor: 1.8 },
  { metric: 'browser_web_vital_fid', label: 'FID', name: 'first input delay', good: 0.1, poor: 0.3 },
] as const;

/** The quantile Google reports web vitals at. */
export const WEB_VITAL_QUANTILE = 0.75;

/**
 * Browser trend queries in one trend mode: native histograms (`k6_<trend>_seconds`, or no unit for CLS), or for
 * classic runs the worst series' stat gauge (an upper bound; classic percentiles cannot be merged).
 */
export interface BrowserQueries {
  readonly mode: 'native' | 'classic';
  /** Quantile `q` of a trend over the run. */
  overRun(metric: string, q: number, sel: string): string;
  /** Quantile `q` of a trend at each step. */
  overTime(metric: string, q: number, sel: string): string;
  /** Observations per second of a trend by `by` at each step. */
  countRate(metric: string, sel: string, by: string): string;
  /** The stat gauge a classic quantile reads (`p90`), or undefined for native. */
  readonly classicStat?: (q: number) => string;
}

const nativeName = (metric: string) => prometheusMetricName(metric, K6_BROWSER_METRICS[metric]!);

/** Native histograms: true quantiles of all samples over all runners (within the bucket error). */
export const nativeBrowser: BrowserQueries = {
  mode: 'native',
  overRun: (m, q, sel) => `histogram_quantile(${q}, sum(increase(${nativeName(m)}{${sel}}[$__range])))`,
  overTime: (m, q, sel) => `histogram_quantile(${q}, sum(rate(${nativeName(m)}{${sel}}[$__rate_interval])))`,
  countRate: (m, sel, by) => `sum by (${by}) (histogram_count(rate(${nativeName(m)}{${sel}}[$__rate_interval])))`,
};

/**
 * Classic trend stats: the runners write no p(75) unless a threshold asks for it (constructs/src/k6/threshold-queries.ts
 * `classicTrendStats`), so classic panels read p90, which they always write, as the worst series' value.
 */
export const classicBrowser: BrowserQueries = {
  mode: 'classic',
  classicStat: (q) => (q === WEB_VITAL_QUANTILE ? 'p90' : q === 0.5 ? 'med' : `p${Math.round(q * 100)}`),
  overRun: (m, q, sel) => `max(last_over_time(k6_${m}_${classicBrowser.classicStat!(q)}{${sel}}[$__range]))`,
  overTime: (m, q, sel) => `max(k6_${m}_${classicBrowser.classicStat!(q)}{${sel}})`,
  countRate: () => {
    throw new Error('classic runners write no _count stat by default: the classic Browser row reads browser_http_req_failed');
  },
};

const quantileName = (b: BrowserQueries, q: number) => (b.mode === 'native' ? `p${Math.round(q * 100)}` : `${b.classicStat!(q)} (worst series)`);

/**
 * A browser request k6 counts as failed: status outside 200-399 (k6 v1.7.1 common/network_manager.go
 * `emitResponseMetrics`), from the `status` tag of browser_http_req_duration.
 */
export const BROWSER_FAILED = 'status!~"[23][0-9][0-9]"';

/** One stat per web vital: its 75th percentile over the run, colored good / needs improvement / poor. */
function webVitalStats(b: BrowserQueries): cog.Builder<dashboard.Panel>[] {
  return WEB_VITALS.map((v) => {
    const isTime = K6_BROWSER_METRICS[v.metric]!.isTime;
    return statPanel({
      title: `Browser ${v.label} ${quantileName(b, WEB_VITAL_QUANTILE)}`,
      description:
        `${v.label} (${v.name}, k6 ${v.metric}) at the 75th percentile of all page loads over the run, over all runners, as Google reports web vitals. ` +
        `Green up to ${v.good}${isTime ? ' s' : ''} (good), red from ${v.poor}${isTime ? ' s' : ''} (poor): the limits of the web-vitals script k6 embeds.` +
        (b.mode === 'classic' ? ' Classic trend stats: the worst series p90 (runners write p75 only for a threshold on it).' : ''),
      unit: isTime ? UNIT.seconds : UNIT.count,
      thresholds: thresholds(COLOR.ok, [COLOR.warn, v.good], [COLOR.bad, v.poor]),
      targets: [instantQuery(b.overRun(v.metric, WEB_VITAL_QUANTILE, SELECTOR.scenario))],
    });
  });
}

/**
 * Failed browser requests. Native: per second by status, counted from browser_http_req_duration's histograms. Classic
 * runners write no `_count` stat unless a threshold asks for it, so the classic panel shows k6's own cumulative
 * browser_http_req_failed ratio, the worst series per URL.
 */
function failedPanel(b: BrowserQueries): cog.Builder<dashboard.Panel> {
  if (b.mode === 'classic') {
    return timeseriesPanel({
      title: 'Browser failed request ratio by URL (worst series)',
      description:
        "k6's browser_http_req_failed (status outside 200-399) from the start of the run, the highest ratio of any series of each URL; the native dashboard counts failed requests per second.",
      unit: UNIT.percent,
      span: 12,
      thresholds: thresholds(COLOR.ok, [COLOR.bad, 0.01]),
      targets: [prometheusQuery(`max by (url) (k6_browser_http_req_failed_rate{${SELECTOR.scenario}})`, '{{url}}')],
    });
  }
  return timeseriesPanel({
    title: 'Browser failed requests',
    description:
      'Browser requests per second that k6 counts as failed (status outside 200-399, k6 browser_http_req_failed), by status; status 0: no response.',
    unit: UNIT.requestsPerSecond,
    span: 12,
    thresholds: thresholds(COLOR.bad),
    targets: [prometheusQuery(b.countRate('browser_http_req_duration', `${SELECTOR.scenario}, ${BROWSER_FAILED}`, 'status'), 'status {{status}}')],
  });
}

/** The Browser row (collapsed), for a trend mode. */
export function browserRow(b: BrowserQueries): dashboard.RowBuilder {
  const sel = SELECTOR.scenario;
  const times = WEB_VITALS.filter((v) => K6_BROWSER_METRICS[v.metric]!.isTime);
  const p75 = quantileName(b, WEB_VITAL_QUANTILE);
  const panels: cog.Builder<dashboard.Panel>[] = [
    ...webVitalStats(b),
    timeseriesPanel({
      title: `Browser web vitals ${p75} over time`,
      description: `The time web vitals (${times.map((v) => v.label).join(', ')}) at the 75th percentile of the page loads in each interval, over all runners.`,
      unit: UNIT.seconds,
      span: 12,
      targets: times.map((v) => prometheusQuery(b.overTime(v.metric, WEB_VITAL_QUANTILE, sel), v.label)),
    }),
    timeseriesPanel({
      title: `Browser CLS ${p75} over time`,
      description: 'Cumulative layout shift (a score, no unit) at the 75th percentile of the page loads in each interval, over all runners.',
      unit: UNIT.count,
      span: 12,
      thresholds: thresholds(COLOR.ok, [COLOR.warn, 0.1], [COLOR.bad, 0.25]),
      targets: [prometheusQuery(b.overTime('browser_web_vital_cls', WEB_VITAL_QUANTILE, sel), 'CLS')],
    }),
    timeseriesPanel({
      title: `Browser request duration${b.mode === 'classic' ? ' (worst series)' : ''}`,
      description:
        'browser_http_req_duration: every request the browser made (documents, scripts, images, XHR), from request to response, at the median, p95 and p99, over all runners.',
      unit: UNIT.seconds,
      span: 12,
      targets: [0.5, 0.95, 0.99].map((q) => prometheusQuery(b.overTime('browser_http_req_duration', q, sel), quantileName(b, q))),
    }),
    failedPanel(b),
  ];
  return panels.reduce((r, p) => r.withPanel(p), row('Browser (runs that import k6/browser)').collapsed(true));
}
