/** What the platform relies on about Prometheus: its port and how a label value is written in PromQL. */

/** Prometheus' web port (queries and the remote-write receiver `/api/v1/write`). */
export const PROMETHEUS_PORT = 9090;

/** Where `loadtest` looks for Prometheus by default: the port-forward the deploy docs print. */
export const DEFAULT_PROMETHEUS_URL = `http://localhost:${PROMETHEUS_PORT}`;

/**
 * A label value as a double-quoted PromQL string. PromQL string literals take Go's escapes, so a JSON string literal
 * (backslash, quote, control characters escaped) is one; the only escaper used for PromQL in the platform.
 */
export function promqlString(value: string): string {
  return JSON.stringify(value);
}
