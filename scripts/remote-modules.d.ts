/**
 * Remote modules (`import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'`) for the scripts type-check.
 *
 * k6 fetches them when the test starts (they are not bundled into the test's ConfigMap, so runners need egress to
 * their host); here they are typed `any`. For real types, declare the module you use in a file of your own, e.g.
 * `declare module 'https://jslib.k6.io/k6-utils/1.4.0/index.js' { export function uuidv4(): string; }`.
 */
declare module 'https://*';
