/**
 * The one Prometheus HTTP API client of the CLI (progress line, `runs`, the verdict): POST /api/v1/query with plain
 * fetch. Every request is bounded by a timeout that covers the whole exchange (connect, headers AND body), and may also
 * be bound to a deadline shared by several requests (the verdict's `--timeout`). Outcomes are kept apart:
 * - {@link PrometheusUnreachableError}: no complete answer (connection refused, DNS, reset, a server that sends
 *   headers and then hangs or trickles the body past the timeout);
 * - {@link PrometheusQueryError}: Prometheus answered, with an error or with something that is not the expected
 *   answer (not JSON, wrong result type, malformed samples).
 */
import {
  authorizationHeader,
  PROMETHEUS_PASSWORD_ENV,
  PROMETHEUS_TOKEN_ENV,
  PROMETHEUS_USER_ENV,
  splitCredentials,
  type PrometheusAuth,
} from './auth';

/** One sample of an instant-vector answer. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  /** The value; NaN and ±Infinity when Prometheus answered `NaN`, `+Inf`, `-Inf`. */
  readonly value: number;
}

/** A Prometheus query result (`data` of the HTTP API answer). */
export interface PromData {
  /** `vector`, `matrix`, `scalar` or `string`. */
  readonly resultType: string;
  /** The series, or a `[time, value]` pair for scalars. */
  readonly result: unknown;
}

/** Runs instant queries (the seam tests and the CLI share). */
export interface PromQuerier {
  /** Evaluates `expr` at `time` (Unix seconds; default now) and returns the vector's samples. */
  query(expr: string, time?: number): Promise<readonly PromSample[]>;
}

/** The full client: instant vectors, and any answer's raw `data` (range vectors, scalars) for the verdict. */
export interface PrometheusClient extends PromQuerier {
  /** Base URL without a trailing slash (for messages). */
  readonly url: string;
  /** Evaluates `expr` at `time` (Unix seconds; default now) and returns the answer's `data` as is. */
  data(expr: string, time?: number): Promise<PromData>;
}

/** Thrown when Prometheus gives no complete answer (connection refused, DNS, reset, timeout). */
export class PrometheusUnreachableError extends Error {
  public constructor(
    public readonly url: string,
    cause: unknown,
  ) {
    super(`Prometheus at ${url} is unreachable: ${typeof cause === 'string' ? cause : rootMessage(cause)}`);
    this.name = 'PrometheusUnreachableError';
  }
}

/** The innermost `cause` message (fetch wraps ECONNREFUSED in "fetch failed"); duck-typed, errors may come from another realm. */
function rootMessage(e: unknown): string {
  let cur = e as { message?: unknown; cause?: unknown; code?: unknown } | undefined;
  while (cur !== null && typeof cur === 'object' && cur.cause !== null && typeof cur.cause === 'object') cur = cur.cause as typeof cur;
  if (cur !== null && typeof cur === 'object') {
    if (typeof cur.message === 'string' && cur.message !== '') return cur.message;
    if (typeof cur.code === 'string') return cur.code;
  }
  return String(e);
}

/** Thrown when Prometheus answers with an error, or with an answer that is not what the query must return. */
export class PrometheusQueryError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'PrometheusQueryError';
  }
}

/** Options of {@link prometheusClient}. */
export interface PrometheusClientOptions {
  /**
   * Milliseconds one request may take from connect to the last byte of the body.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /**
   * A deadline shared by every request of this client (aborted = no more time): e.g. the verdict's `--timeout`.
   * @default - none
   */
  readonly deadline?: AbortSignal;
  /**
   * How the deadline is named in the message when it expires.
   * @default "the deadline"
   */
  readonly deadlineName?: string;
  /**
   * Credentials (cli/prometheus/auth.ts), sent as the `Authorization` header and never printed.
   * @default - the URL's `user:pass@` as basic auth, else none
   */
  readonly auth?: PrometheusAuth;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))}s`;

/** A client over Prometheus' HTTP API (`POST /api/v1/query`). */
export function prometheusClient(baseUrl: string, options: PrometheusClientOptions = {}): PrometheusClient {
  // Credentials never travel in the URL: fetch refuses them there, and the URL appears in messages.
  const split = splitCredentials(baseUrl.replace(/\/+$/, ''));
  const url = split.url;
  const credentials = options.auth?.bearerToken !== undefined || options.auth?.basic !== undefined ? options.auth : undefined;
  const authorization = authorizationHeader(credentials ?? (split.basic !== undefined ? { basic: split.basic } : undefined));
  const headers: Record<string, string> = { ...options.auth?.headers, 'Content-Type': 'application/x-www-form-urlencoded' };
  if (authorization !== undefined) headers.Authorization = authorization;
  const timeoutMs = options.timeoutMs ?? 10_000;
  async function data(expr: string, time?: number): Promise<PromData> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', time.toFixed(3));
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.deadline !== undefined ? AbortSignal.any([timeout, options.deadline]) : timeout;
    const why = () =>
      options.deadline?.aborted === true && !timeout.aborted
        ? `no complete answer within ${options.deadlineName ?? 'the deadline'}`
        : `no complete answer within ${seconds(timeoutMs)}`;
    if (signal.aborted) throw new PrometheusUnreachableError(url, why());
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        headers,
        body: params.toString(),
        signal,
      });
      status = res.status;
      // The body is read under the same signal: a server that sends headers and then hangs or trickles is a timeout.
      text = await res.text();
    } catch (e) {
      throw new PrometheusUnreachableError(url, signal.aborted ? why() : e);
    }
    if (status === 401 || status === 403) throw new PrometheusQueryError(refusedMessage(url, status, authorization !== undefined));
    let body: { status?: unknown; data?: PromData; error?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (body?.status !== 'success' || body.data === undefined || typeof body.data !== 'object' || body.data === null) {
      const detail = typeof body?.error === 'string' ? body.error : `not a Prometheus API answer: ${JSON.stringify(text.slice(0, 200))}`;
      throw new PrometheusQueryError(`Prometheus query failed (HTTP ${status}): ${detail}\n  query: ${expr}`);
    }
    return body.data;
  }
  return {
    url,
    data,
    async query(expr, time) {
      const d = await data(expr, time);
      if (d.resultType !== 'vector') throw new PrometheusQueryError(`expected an instant vector, got ${String(d.resultType)}\n  query: ${expr}`);
      return vectorSamples(d, expr);
    },
  };
}

/** Why Prometheus (or the proxy before it) refused the request, and what to set; never the credentials themselves. */
function refusedMessage(url: string, status: number, sentCredentials: boolean): string {
  const what = status === 401 ? 'HTTP 401 Unauthorized' : 'HTTP 403 Forbidden';
  if (sentCredentials) return `Prometheus at ${url} refused the credentials given (${what}); check them`;
  return (
    `Prometheus at ${url} requires authentication (${what}): set $${PROMETHEUS_TOKEN_ENV} or --prometheus-token-file (bearer token), ` +
    `or $${PROMETHEUS_USER_ENV} and $${PROMETHEUS_PASSWORD_ENV} (basic auth)`
  );
}

/** The samples of a `vector` answer; throws {@link PrometheusQueryError} on a malformed one. */
export function vectorSamples(d: PromData, expr: string): PromSample[] {
  if (!Array.isArray(d.result)) throw new PrometheusQueryError(`malformed vector answer: result is not a list\n  query: ${expr}`);
  return (d.result as unknown[]).map((r) => {
    const s = r as { metric?: unknown; value?: unknown };
    if (typeof s.metric !== 'object' || s.metric === null || !Array.isArray(s.value) || typeof s.value[1] !== 'string') {
      throw new PrometheusQueryError(`malformed vector sample ${JSON.stringify(r).slice(0, 200)}\n  query: ${expr}`);
    }
    return { metric: s.metric as Record<string, string>, value: promValue(s.value[1] as string, expr) };
  });
}

/** A sample value as Prometheus writes it (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`); throws on anything else. */
export function promValue(raw: string, expr: string): number {
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (Number.isNaN(n)) throw new PrometheusQueryError(`malformed sample value ${JSON.stringify(raw)}\n  query: ${expr}`);
  return n;
}

/** The single value of a query that sums to one sample; undefined when the vector is empty. */
export async function scalarOf(q: PromQuerier, expr: string, time?: number): Promise<number | undefined> {
  const r = await q.query(expr, time);
  return r[0]?.value;
}
