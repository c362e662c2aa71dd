/**
 * The cdk8s app's launcher (constructs/bin/synth.js): its cached bundle is rebuilt when a source changes, its V8 code
 * cache is reused as it is, and a corrupted or foreign cache is compiled afresh and rewritten; none of it changes what
 * a synth prints or exits with.
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..');
/** First line of the code cache file, up to the build it names (constructs/bin/synth.js CACHE_MAGIC). */
const CACHE_MAGIC = 'k6-platform synth code cache v1 ';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the repository's synth inputs (node_modules linked), so the launcher builds its own bundle there. */
function repoCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'k6-launcher-'));
  temps.push(dir);
  for (const item of ['cdk8s.yaml', 'package.json', 'tsconfig.json', 'constructs', 'scripts', 'dashboards']) {
    // constructs/lib (the published build) is left out: the app never loads it
    cpSync(path.join(repoRoot, item), path.join(dir, item), { recursive: true, filter: (src) => src !== path.join(repoRoot, 'constructs', 'lib') });
  }
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

describe('constructs/bin/synth.js', () => {
  let root = '';
  let cacheDir = '';
  let bundle = '';
  let cache = '';
  beforeAll(() => {
    root = repoCopy();
    cacheDir = path.join(root, '.cache', 'synth');
    bundle = path.join(cacheDir, 'app.cjs');
    cache = path.join(cacheDir, 'app.cache');
  });

  /** Runs the launcher as cdk8s.yaml does, for the dev environment only (K6_PLATFORM_ENVS). */
  const launch = (envs = 'dev') => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CDK8S_OUTDIR'));
    return spawnSync(process.execPath, ['constructs/bin/synth.js'], { cwd: root, env: { ...env, K6_PLATFORM_ENVS: envs }, encoding: 'utf8' });
  };
  /** Which file is at `p` now: a rename puts a new inode there. */
  const identity = (p: string) => {
    const st = statSync(p);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  };
  const cacheHeader = () => {
    const data = readFileSync(cache);
    return data.subarray(0, data.indexOf(10) + 1).toString('latin1');
  };
  const leftovers = () => readdirSync(cacheDir).filter((f) => f.endsWith('.tmp'));

  let firstStderr = '';

  test('the first run builds the bundle and writes a code cache for it; the next run takes both as they are', () => {
    // WHEN
    const first = launch();
    // THEN
    expect(first.stderr).toMatch(/^dev: \d+ objects -> dist\/dev\/ \(/m);
    expect(first.status).toBe(0);
    expect(cacheHeader()).toBe(`${CACHE_MAGIC}${identity(bundle)}\n`);
    expect(statSync(cache).size).toBeGreaterThan(100_000);
    expect(leftovers()).toEqual([]);
    // a bundled package that runs its own files (cdk8s's _loadurl.mjs for Yaml.load of a URL) finds them in node_modules
    const cdk8sLib = path.join(realpathSync(path.join(repoRoot, 'node_modules')), 'cdk8s', 'lib');
    expect(readFileSync(bundle, 'utf8')).toContain(`.join(${JSON.stringify(cdk8sLib)}, "_loadurl.mjs")`);
    firstStderr = first.stderr;
    const built = { bundle: identity(bundle), cache: identity(cache) };

    // WHEN run again
    const second = launch();
    // THEN nothing is rebuilt or rewritten, and the synth says the same
    expect(second.status).toBe(0);
    expect(second.stderr).toBe(firstStderr);
    expect({ bundle: identity(bundle), cache: identity(cache) }).toEqual(built);
  }, 120_000);

  test('a corrupted cache is rejected, the bundle compiled afresh, and the cache rewritten (then taken as it is)', () => {
    // GIVEN a cache naming this build, with garbage for code
    const header = cacheHeader();
    writeFileSync(cache, Buffer.concat([Buffer.from(header, 'latin1'), randomBytes(64 * 1024)]));
    const corrupted = readFileSync(cache);
    // WHEN
    const run = launch();
    // THEN the synth is unchanged and the cache holds real code again
    expect(run.stderr).toBe(firstStderr);
    expect(run.status).toBe(0);
    const rewritten = readFileSync(cache);
    expect(rewritten.equals(corrupted)).toBe(false);
    expect(cacheHeader()).toBe(header);
    expect(leftovers()).toEqual([]);
    const after = identity(cache);
    expect(launch().status).toBe(0);
    expect(identity(cache)).toBe(after);
  }, 120_000);

  test('a cache made from another build of the bundle is not used, and is rewritten for this one', () => {
    // GIVEN a cache whose first line names another bundle
    const good = readFileSync(cache);
    writeFileSync(cache, Buffer.concat([Buffer.from(`${CACHE_MAGIC}1:2:3\n`, 'latin1'), good.subarray(good.indexOf(10) + 1)]));
    // WHEN
    const run = launch();
    // THEN
    expect(run.status).toBe(0);
    expect(cacheHeader()).toBe(`${CACHE_MAGIC}${identity(bundle)}\n`);
  }, 120_000);

  test('a changed source makes the bundle stale: it is rebuilt, and the cache rewritten for the new build', () => {
    // GIVEN an edit to the app after the bundle was built
    const before = { bundle: identity(bundle), cache: identity(cache) };
    appendFileSync(path.join(root, 'constructs', 'main.ts'), "\nconsole.error('launcher test: rebuilt');\n");
    // WHEN
    const run = launch();
    // THEN the edit runs, from a new bundle with a cache of its own
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('launcher test: rebuilt');
    expect(identity(bundle)).not.toBe(before.bundle);
    expect(identity(cache)).not.toBe(before.cache);
    expect(cacheHeader()).toBe(`${CACHE_MAGIC}${identity(bundle)}\n`);
    expect(leftovers()).toEqual([]);
  }, 120_000);

  test('a failing synth keeps its message and exit code, and writes no cache', () => {
    // GIVEN a broken stack file and no cache
    writeFileSync(path.join(root, 'Pulumi.qa.yaml'), 'config:\n  k6platform:environmnet: qa\n');
    rmSync(cache);
    // WHEN
    const run = launch('qa');
    // THEN
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "synth failed; dist/ left as it was.\nInvalid Pulumi.qa.yaml (1 problem):\n  - 'k6platform:environmnet' is not a known setting",
    );
    expect(existsSync(cache)).toBe(false);
  }, 120_000);
});
