/**
 * k6 thresholds judged over ALL runners of a run, from the Prometheus data the runners write (pure: no I/O).
 *
 * A test declares thresholds in k6's own syntax (`{ 'http_req_duration{scenario:api}': ['p(95)<500'] }`); this module
 * parses them (errors name the config field), and turns each into one PromQL expression whose value is in k6's unit
 * (milliseconds for time trends, although Prometheus stores seconds). The CLI verdict, the dashboards' pass/fail row and
 * LoadTest share these queries. See docs/verdict.md for why each aggregation is written the way it is.
 *
 * The grammar lives in threshold-grammar.ts, the PromQL in threshold-queries.ts, k6's metric table in k6-metrics.ts;
 * this module is their one entry.
 */
export * from './k6-metrics';
export * from './threshold-grammar';
export * from './threshold-queries';
export { parseK6Duration } from './go-values';
export * from './regression-grammar';
