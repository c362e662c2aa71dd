/**
 * Go's number, duration and trimming rules as k6 v1.7.1 applies them to thresholds (pure: no I/O), so a threshold k6
 * accepts parses the same here.
 */

/**
 * Go's strconv.ParseFloat (which k6 uses for the threshold value and the percentile): decimal with optional exponent,
 * hexadecimal with a `p` exponent, `inf`/`infinity`/`nan` in any case, optional sign.
 */
export function parseGoFloat(s: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  let n: number | undefined;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) n = Number(s);
  const hex = /^([+-]?)0[xX]_?([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex !== null && `${hex[2]!}${hex[3] ?? ''}`.replace(/_/g, '') !== '') {
    const int = hex[2]!.replace(/_/g, '');
    const frac = (hex[3] ?? '').replace(/_/g, '');
    n = (((hex[1] === '-' ? -1 : 1) * parseInt(`${int}${frac}`, 16)) / 16 ** frac.length) * 2 ** Number(hex[4]);
  }
  // Out of float64 range is an error in Go (ErrRange), not an infinity.
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/**
 * A k6 duration in milliseconds (v1.7.1 lib/types/types.go `NullDuration.UnmarshalJSON` / `ParseExtendedDuration`):
 * a number or numeric string is milliseconds, `<int>d[<go duration>]` days, else a Go duration (`1h2m3.5s`, `250ms`).
 */
export function parseK6Duration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  const n = parseGoFloat(v);
  if (n !== undefined) return Number.isFinite(n) ? n : undefined;
  const d = v.indexOf('d');
  if (d < 0) return parseGoDuration(v);
  const days = /^[+-]?\d+$/.test(v.slice(0, d)) ? Number(v.slice(0, d)) : undefined;
  if (days === undefined) return undefined;
  const rest = d + 1 < v.length ? parseGoDuration(v.slice(d + 1)) : 0;
  if (rest === undefined || rest < 0) return undefined;
  return days * 86_400_000 + (days < 0 ? -rest : rest);
}

const GO_DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration in milliseconds. */
function parseGoDuration(s: string): number | undefined {
  const m = /^([+-]?)(.*)$/s.exec(s)!;
  if (m[2] === '0') return 0;
  if (m[2] === '') return undefined;
  let total = 0;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let pos = 0;
  for (let x = re.exec(m[2]!); x !== null; x = re.exec(m[2]!)) {
    total += Number(x[1]) * GO_DURATION_UNITS[x[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== m[2]!.length) return undefined;
  return m[1] === '-' ? -total : total;
}

/** Go's `strings.Trim(s, "\"'")`: every `"` and `'` at either end. */
export function trimQuotes(s: string): string {
  return s.replace(/^["']+|["']+$/g, '');
}
