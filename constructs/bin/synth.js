#!/usr/bin/env node
/**
 * Launcher of the cdk8s app (cdk8s.yaml `app:`): runs constructs/main.ts from a cached esbuild bundle
 * (.cache/synth/app.cjs) instead of compiling TypeScript on every `cdk8s synth`. The bundle is rebuilt only when a file
 * it depends on is newer than it: any source under constructs/ (not its tests or the published lib/), the generated
 * dashboards, tsconfig.json or package-lock.json (a dependency upgrade).
 *
 * The bundle holds node_modules too, so that one V8 code cache (.cache/synth/app.cache) covers everything the app
 * runs: loading and compiling cdk8s, cdk8s-plus-27, zod, yaml and the parser module by module was most of a synth's
 * start-up. The cache is written after a successful run (then it also holds the functions compiled while running),
 * and again whenever V8 rejects it (another Node version or V8 flags) or it belongs to another build of the bundle.
 *
 * Files read at run time next to their module (`__dirname`) resolve against the bundle's directory instead, so the
 * ones the app reads are copied there (RUNTIME_FILES).
 *
 * Every file is written under a temporary name and renamed, so a synth stopped at any point never leaves a truncated
 * bundle or cache behind.
 */
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const rootDir = path.resolve(__dirname, '..', '..');
const cacheDir = path.join(rootDir, '.cache', 'synth');
const bundle = path.join(cacheDir, 'app.cjs');
const codeCache = path.join(cacheDir, 'app.cache');

/** Inputs whose change makes the bundle stale (this launcher too: it holds the build options); directories are walked, missing entries are skipped. */
const INPUTS = ['constructs', 'constructs/bin/synth.js', 'dashboards/generated', 'tsconfig.json', 'package-lock.json'];
/** Directories under the inputs that the app never loads. */
const SKIP_DIRS = new Set(['node_modules', 'lib', 'test', 'etc', 'bin']);
/** Files read by `readFileSync(path.join(__dirname, ...))` in a bundled module: source path -> name beside the bundle. */
const RUNTIME_FILES = { 'constructs/src/k6/starter.sh': 'starter.sh' };
/** First line of the code cache file; the rest of the line names the bundle build it was made from. */
const CACHE_MAGIC = 'k6-platform synth code cache v1';

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

/** Writes `data` to `file` under a temporary name, then renames it into place. */
function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * Packages that find their own files through `__dirname` (cdk8s runs lib/_loadurl.mjs beside it to fetch a URL
 * synchronously) keep finding them: in a bundled package, `__dirname` is its directory in node_modules, not the
 * bundle's.
 */
const packageDirname = {
  name: 'package __dirname',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, (args) => {
      const text = fs.readFileSync(args.path, 'utf8');
      if (!text.includes('__dirname')) return undefined;
      return { contents: text.replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))), loader: 'js' };
    });
  },
};

async function build() {
  // Required only here: a fresh bundle runs without loading esbuild at all.
  const esbuild = require('esbuild');
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${bundle}.${process.pid}.tmp`;
  // build, not buildSync: plugins need the asynchronous API.
  await esbuild.build({
    entryPoints: [path.join(rootDir, 'constructs', 'main.ts')],
    outfile: tmp,
    absWorkingDir: rootDir,
    tsconfig: path.join(rootDir, 'tsconfig.json'),
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    bundle: true,
    // Class and function names stay as written (error messages name them, `There is already a Construct with name
    // 'x' in Chart`): bundling renames clashing names otherwise.
    keepNames: true,
    plugins: [packageDirname],
    logLevel: 'warning',
  });
  for (const [from, to] of Object.entries(RUNTIME_FILES)) fs.copyFileSync(path.join(rootDir, from), path.join(cacheDir, to));
  fs.renameSync(tmp, bundle);
}

/** The bundle's source and the identity of this build of it (a rebuilt bundle is a new file: a new inode). */
function readBundle() {
  const fd = fs.openSync(bundle, 'r');
  try {
    const st = fs.fstatSync(fd);
    return { source: fs.readFileSync(fd, 'utf8'), build: `${st.ino}:${st.size}:${st.mtimeMs}` };
  } finally {
    fs.closeSync(fd);
  }
}

/** The cached code for this build of the bundle, or undefined when there is none. */
function readCodeCache(build) {
  let data;
  try {
    data = fs.readFileSync(codeCache);
  } catch {
    return undefined;
  }
  const header = `${CACHE_MAGIC} ${build}\n`;
  return data.subarray(0, header.length).toString('latin1') === header ? data.subarray(header.length) : undefined;
}

/**
 * Runs the bundle as Node runs a CommonJS module (same wrapper, `require` and `module`), compiled through `vm.Script`
 * so that V8's code cache can be given and taken.
 */
function runBundle() {
  const { source, build } = readBundle();
  const cachedData = readCodeCache(build);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, {
    filename: bundle,
    ...(cachedData !== undefined ? { cachedData } : {}),
  });
  if (cachedData === undefined || script.cachedDataRejected === true) {
    // Taken at exit, so that it holds the functions compiled while synthesizing too; a failed synth leaves it unwritten.
    process.once('exit', (code) => {
      if (code !== 0) return;
      try {
        writeAtomically(codeCache, Buffer.concat([Buffer.from(`${CACHE_MAGIC} ${build}\n`, 'latin1'), script.createCachedData()]));
      } catch {
        // A cache that cannot be written only costs the next synth its compile time.
      }
    });
  }
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(cacheDir);
  script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, cacheDir);
}

// Node 22 and later: what still loads from node_modules (esbuild, when the bundle is rebuilt) uses Node's own
// compile cache; Node 20 has none, which is why the bundle carries its own.
if (typeof Module.enableCompileCache === 'function') Module.enableCompileCache(path.join(cacheDir, 'node'));
if (bundleIsFresh()) runBundle();
else {
  // Both continue outside the promise, so that an error is an uncaught exception exactly as without a rebuild.
  build().then(
    () => process.nextTick(runBundle),
    (e) =>
      process.nextTick(() => {
        throw e;
      }),
  );
}
