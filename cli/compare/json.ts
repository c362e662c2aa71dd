/**
 * `loadtest compare --json`: the {@link RunComparison} itself (cli/compare/types.ts) with the document fields every
 * `--json` of the CLI carries (schemaVersion, prometheus), and ISO times beside the unix-ms windows. All of stdout.
 */
import { JSON_SCHEMA_VERSION } from '../verdict/json';
import type { RunComparison } from './types';

/** The `compare --json` document. */
export type CompareJson = RunComparison & {
  readonly schemaVersion: typeof JSON_SCHEMA_VERSION;
  /** The Prometheus base URL, without credentials. */
  readonly prometheus: string;
  /** The windows as ISO 8601 (UTC); null when the run or the baseline has none. */
  readonly runWindowIso: { readonly start: string; readonly end: string } | null;
  readonly baselineWindowIso: { readonly start: string; readonly end: string } | null;
};

const iso = (w: { start: number; end: number } | undefined) =>
  w === undefined ? null : { start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() };

/** The document of a comparison. */
export function compareJson(r: RunComparison, prometheus: string): CompareJson {
  return { schemaVersion: JSON_SCHEMA_VERSION, prometheus, ...r, runWindowIso: iso(r.runWindow), baselineWindowIso: iso(r.baselineWindow) };
}

/** As printed: pretty JSON and one newline. */
export function compareJsonText(r: RunComparison, prometheus: string): string {
  return `${JSON.stringify(compareJson(r, prometheus), null, 2)}\n`;
}
