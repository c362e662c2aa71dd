import pc from 'picocolors';

/** The color functions the CLI uses (picocolors' shape). */
export type Colors = ReturnType<typeof pc.createColors>;

/** Where the CLI writes; a TTY flag decides colors and the live progress line. */
export interface Output {
  /** Writes text as is (no newline added). */
  write(text: string): void;
  /** Writes to the error stream (no newline added). */
  writeErr(text: string): void;
  /** True when stdout is a terminal (progress redrawn in place; colors on unless NO_COLOR, see {@link colorsEnabled}). */
  readonly isTTY: boolean;
  readonly colors: Colors;
}

/**
 * Whether to color the output, as Node's own tools decide (nodejs.org/api/cli.html FORCE_COLOR, no-color.org,
 * force-color.org): `FORCE_COLOR` set to anything but `0`/`false` turns colors on even without a terminal (CI logs)
 * and wins over `NO_COLOR`; `FORCE_COLOR=0` or `false` turns them off; else `NO_COLOR` set to a non-empty value turns
 * them off; else colors follow the terminal. `FORCE_COLOR=` (empty) counts as unset.
 */
export function colorsEnabled(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR ?? '';
  if (force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if ((env.NO_COLOR ?? '') !== '') return false;
  return isTTY;
}

/** The process's own stdout/stderr. */
export function processOutput(env: NodeJS.ProcessEnv = process.env): Output {
  const isTTY = process.stdout.isTTY === true;
  return {
    write: (t) => void process.stdout.write(t),
    writeErr: (t) => void process.stderr.write(t),
    isTTY,
    colors: pc.createColors(colorsEnabled(isTTY, env)),
  };
}

/** Collects everything written (tests, and commands that want the text). */
export function bufferOutput(isTTY = false): Output & { readonly out: string[]; readonly err: string[]; text(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    write: (t) => void out.push(t),
    writeErr: (t) => void err.push(t),
    isTTY,
    colors: pc.createColors(false),
    text: () => out.join(''),
  };
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** Visible width of a string (ANSI color codes excluded). */
export function visibleLength(s: string): number {
  return s.replace(ANSI, '').length;
}

/** Renders rows as a left-aligned text table with a header and a rule; cells may hold color codes. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** Formats a duration in seconds as `1h02m03s`, `4m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** Formats a number with at most `digits` fraction digits, trailing zeros removed. */
export function formatNumber(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return String(n);
  return String(Number(n.toFixed(digits)));
}
