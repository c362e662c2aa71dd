// @ts-check
// Smoke test: a few requests per VU against the service under test.
import http from 'k6/http';
import { check, sleep } from 'k6';

/** @type {import('k6/options').Options} */
export const options = { vus: 2, duration: '1m', thresholds: { http_req_failed: ['rate<0.01'] } };

export default function () {
  const res = http.get('https://test.k6.io/');
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(1);
}
