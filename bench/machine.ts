import * as os from 'node:os';

/** The machine the figures come from. */
export function machine(): { readonly cpu: string; readonly cores: number; readonly memoryGiB: number; readonly node: string; readonly os: string } {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

/** Milliseconds taken by `fn` (wall clock, high resolution). */
export async function timeMs(fn: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Formats milliseconds with one decimal. */
export function ms(n: number): string {
  return `${n.toFixed(1)} ms`;
}
