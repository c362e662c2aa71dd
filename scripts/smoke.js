// @ts-check
// Smoke test: one VU for a few iterations, to prove the target and the pipeline work before a real load test.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { targetUrl } from './lib/target.js';

/** @type {import('k6/options').Options} */
export const options = {
  vus: 1,
  iterations: 10,
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
};

export default function () {
  const res = http.get(targetUrl());
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(1);
}
