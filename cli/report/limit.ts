/** A bound on how many Prometheus queries of the report run at once, over everything the report asks. */
import type { PromData, PrometheusClient } from '../prometheus/client';

/** Default bound: enough to overlap round trips, few enough not to crowd a shared Prometheus. */
export const DEFAULT_CONCURRENCY = 6;

/** The Prometheus API the report needs. */
export type ReportApi = Pick<PrometheusClient, 'url' | 'data'>;

/** A limiter: `run(fn)` starts `fn` once fewer than `limit` started ones are still running. */
export function limiter(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= Math.max(1, limit)) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await fn();
    } finally {
      release();
    }
  };
}

/** The API with at most `limit` queries in flight, however many callers ask at once. */
export function boundedApi(api: ReportApi, limit = DEFAULT_CONCURRENCY): ReportApi {
  const run = limiter(limit);
  return { url: api.url, data: (expr: string, time?: number): Promise<PromData> => run(() => api.data(expr, time)) };
}
