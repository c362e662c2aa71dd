/** The verdict thresholds both benchmarks time (npm run bench and bench:rules): one list. */
/** The thresholds whose verdict queries are timed: one of each kind the verdict supports. */
export const BENCH_THRESHOLDS: Readonly<Record<string, readonly string[]>> = {
  http_req_duration: ['p(95)<500', 'p(99)<1500', 'avg<200', 'med<150', 'max<2000'],
  'http_req_duration{scenario:default}': ['p(90)<400'],
  http_req_failed: ['rate<0.01'],
  checks: ['rate>0.99'],
  http_reqs: ['count>1000', 'rate>10'],
  iteration_duration: ['p(95)<1000'],
  vus: ['value>0'],
};
