/** One sample of an instant-vector answer. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  /** The value; NaN when Prometheus answered NaN. */
  readonly value: number;
}

/** Runs instant queries (the seam tests and the CLI share). */
export interface PromQuerier {
  /** Evaluates `expr` at `time` (Unix seconds; default now) and returns the vector's samples. */
  query(expr: string, time?: number): Promise<readonly PromSample[]>;
}

/** Thrown when Prometheus cannot be reached at all (connection refused, DNS, timeout). */
export class PrometheusUnreachableError extends Error {
  public constructor(
    public readonly url: string,
    cause: unknown,
  ) {
    super(`Prometheus at ${url} is unreachable: ${rootMessage(cause)}`);
    this.name = 'PrometheusUnreachableError';
  }
}

/** The innermost `cause` message (fetch wraps ECONNREFUSED in "fetch failed"); duck-typed, errors may come from another realm. */
function rootMessage(e: unknown): string {
  let cur = e as { message?: unknown; cause?: unknown } | undefined;
  while (cur !== null && typeof cur === 'object' && cur.cause !== null && typeof cur.cause === 'object') cur = cur.cause as typeof cur;
  return cur !== null && typeof cur === 'object' && typeof cur.message === 'string' ? cur.message : String(e);
}

/** Thrown when Prometheus answers with an error (bad query, server error). */
export class PrometheusQueryError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'PrometheusQueryError';
  }
}

/** An instant-query client over Prometheus' HTTP API (`GET /api/v1/query`), with a per-request timeout. */
export function prometheusClient(baseUrl: string, timeoutMs = 10_000): PromQuerier {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async query(expr, time) {
      const params = new URLSearchParams({ query: expr });
      if (time !== undefined) params.set('time', String(time));
      const url = `${base}/api/v1/query?${params.toString()}`;
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        throw new PrometheusUnreachableError(base, e);
      }
      const body = (await res.json().catch(() => undefined)) as
        | { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } }
        | undefined;
      if (!res.ok || body?.status !== 'success' || body.data === undefined) {
        throw new PrometheusQueryError(`Prometheus query failed (HTTP ${res.status}): ${body?.error ?? 'unexpected answer'}\n  query: ${expr}`);
      }
      if (body.data.resultType !== 'vector')
        throw new PrometheusQueryError(`expected an instant vector, got ${body.data.resultType}\n  query: ${expr}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}

/** The single value of a query that sums to one sample; undefined when the vector is empty. */
export async function scalarOf(q: PromQuerier, expr: string, time?: number): Promise<number | undefined> {
  const r = await q.query(expr, time);
  return r[0]?.value;
}

/** Escapes a string for use inside a PromQL double-quoted label matcher. */
export function promString(s: string): string {
  return JSON.stringify(s);
}
