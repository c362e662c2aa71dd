// @ts-check
// The sample test from the original write-up: ramp to 200 VUs over 30s, back to 0 over 30s, GET the target, check 200.
import http from 'k6/http';
import { check } from 'k6';
import { targetUrl } from './lib/target.js';

/** @type {import('k6/options').Options} */
export const options = {
  stages: [
    { duration: '30s', target: 200 },
    { duration: '30s', target: 0 },
  ],
};

export default function () {
  const res = http.get(targetUrl());
  check(res, { 'status is 200': (r) => r.status === 200 });
}
