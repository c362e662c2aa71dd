/**
 * `npm run dashboards`: builds every dashboard of dashboards/src and writes dashboards/generated/<uid>.json
 * (committed; CI rebuilds and fails on any difference). `--check` only compares and exits 1 when a file is stale.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DASHBOARDS } from './src';

/** Where the JSON goes. */
export const GENERATED_DIR = path.join(__dirname, 'generated');

/** The exact file content of a dashboard: 2-space JSON plus a trailing newline. */
export function renderDashboard(build: () => unknown): string {
  return JSON.stringify(build(), null, 2) + '\n';
}

/** Every generated file by name (`<uid>.json`). */
export function renderAll(): Map<string, string> {
  return new Map(DASHBOARDS.map((d) => [`${d.uid}.json`, renderDashboard(d.build)]));
}

/** Writes (or with `check`, compares) the generated files; returns the names of files that differed. */
export function writeDashboards(dir = GENERATED_DIR, check = false): string[] {
  const files = renderAll();
  mkdirSync(dir, { recursive: true });
  const stale: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(dir, name);
    let current: string | undefined;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    stale.push(name);
    if (!check) writeFileSync(file, content);
  }
  // Files of dashboards that no longer exist are stale too.
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json') && !files.has(f))) {
    stale.push(name);
    if (!check) rmSync(path.join(dir, name));
  }
  return stale;
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const stale = writeDashboards(GENERATED_DIR, check);
  if (check && stale.length > 0) {
    console.error(`dashboards: stale generated files (run npm run dashboards): ${stale.join(', ')}`);
    process.exit(1);
  }
  console.log(
    check ? 'dashboards: generated files are fresh' : `dashboards: wrote ${stale.length} file(s) to ${path.relative(process.cwd(), GENERATED_DIR)}`,
  );
}
