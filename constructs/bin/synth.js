#!/usr/bin/env node
/**
 * Launcher of the cdk8s app (cdk8s.yaml `app:`): runs constructs/main.ts from a cached esbuild bundle
 * (.cache/synth/app.cjs) instead of compiling TypeScript on every `cdk8s synth`. The bundle is rebuilt only when a file
 * it depends on is newer than it: any source under constructs/ (not its tests or the published lib/), the generated
 * dashboards, tsconfig.json or package-lock.json (a dependency upgrade). node_modules stay external, so the bundle holds
 * only this repository's code and resolves packages exactly as tsx would.
 *
 * Files read at run time next to their module (`__dirname`) resolve against the bundle's directory instead, so the
 * ones the app reads are copied there (RUNTIME_FILES).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const rootDir = path.resolve(__dirname, '..', '..');
const cacheDir = path.join(rootDir, '.cache', 'synth');
const bundle = path.join(cacheDir, 'app.cjs');

/** Inputs whose change makes the bundle stale: directories are walked, missing entries are skipped. */
const INPUTS = ['constructs', 'dashboards/generated', 'tsconfig.json', 'package-lock.json'];
/** Directories under the inputs that the app never loads. */
const SKIP_DIRS = new Set(['node_modules', 'lib', 'test', 'etc', 'bin']);
/** Files read by `readFileSync(path.join(__dirname, ...))` in a bundled module: source path -> name beside the bundle. */
const RUNTIME_FILES = { 'constructs/src/k6/starter.sh': 'starter.sh' };

/** Newest modification time (ms) under `p`, or 0 when it does not exist. */
function newestMtime(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted or renamed file changes its directory's mtime
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    if (e.isDirectory() && SKIP_DIRS.has(e.name)) continue;
    newest = Math.max(newest, newestMtime(path.join(p, e.name)));
  }
  return newest;
}

function bundleIsFresh() {
  let built;
  try {
    built = fs.statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  return INPUTS.every((input) => newestMtime(path.join(rootDir, input)) < built);
}

function build() {
  // Required only here: a fresh bundle runs without loading esbuild at all.
  const esbuild = require('esbuild');
  fs.mkdirSync(cacheDir, { recursive: true });
  // Written under a temporary name and renamed, so a synth stopped mid-build never leaves a truncated bundle.
  const tmp = `${bundle}.${process.pid}.tmp`;
  esbuild.buildSync({
    entryPoints: [path.join(rootDir, 'constructs', 'main.ts')],
    outfile: tmp,
    absWorkingDir: rootDir,
    tsconfig: path.join(rootDir, 'tsconfig.json'),
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    bundle: true,
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  for (const [from, to] of Object.entries(RUNTIME_FILES)) fs.copyFileSync(path.join(rootDir, from), path.join(cacheDir, to));
  fs.renameSync(tmp, bundle);
}

if (!bundleIsFresh()) build();
require(bundle);
