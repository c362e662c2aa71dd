// @ts-check
// The checkout team's load test: browse the catalogue, then put an item in the cart.
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE_URL = __ENV.BASE_URL ?? 'https://checkout.staging.example.com';

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    browse: {
      executor: 'ramping-vus',
      stages: [
        { duration: '1m', target: 50 },
        { duration: '3m', target: 50 },
        { duration: '1m', target: 0 },
      ],
    },
  },
};

export default function () {
  const list = http.get(`${BASE_URL}/api/products`);
  check(list, { 'products listed': (r) => r.status === 200 });
  const add = http.post(`${BASE_URL}/api/cart`, JSON.stringify({ sku: 'sku-1', qty: 1 }), { headers: { 'Content-Type': 'application/json' } });
  check(add, { 'added to cart': (r) => r.status === 201 });
  sleep(1);
}
