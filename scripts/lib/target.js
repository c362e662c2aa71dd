// @ts-check
/** Shared helpers for the platform's k6 scripts. Bundled into each test's ConfigMap by the TestScripts construct. */

/** The URL under test: `TARGET_URL` from the test's env (set per test in the platform config), else k6's test site. */
export function targetUrl() {
  return __ENV.TARGET_URL || 'https://test.k6.io/';
}
