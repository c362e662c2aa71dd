/**
 * The cdk8s app behind `cdk8s synth` (cdk8s.yaml `app:`). Synthesizes every environment (Pulumi.<env>.yaml, plus `dev`
 * from defaults) into dist/<env>/ (platform/: what is deployed; runs/: one run of each test), atomically: see
 * constructs/src/output/synth.ts and layout.ts.
 *
 * cdk8s-cli empties its own output directory before running the app, so cdk8s.yaml points it at `.cdk8s.out` (a
 * scratch directory) and this app replaces dist/ itself only once everything has been built. `.cdk8s.out` is then
 * made a link to dist/ so the CLI lists the manifests it produced.
 */
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { BUNDLE_DIR } from './src/output/layout';
import { synthesize } from './src/output/synth';

/**
 * The repository root: the nearest directory above this module holding cdk8s.yaml. Found by walking up because this
 * module runs both from source (constructs/main.ts) and from the launcher's bundle (.cache/synth/app.cjs, see
 * constructs/bin/synth.js), which sit at different depths.
 */
function findRootDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'cdk8s.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no cdk8s.yaml in ${from} or any directory above it`);
  }
}

/**
 * The files of one environment by folder, the bundle as one entry: `platform/: 0000-namespaces.k8s.yaml, ...,
 * chart/; runs/: sample.k8s.yaml`.
 */
function summary(env: string, files: readonly string[]): string {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const [dir = '', entry = '', ...rest] = f.slice(env.length + 1).split('/');
    const names = byDir.get(dir) ?? new Set<string>();
    byDir.set(dir, names.add(rest.length > 0 ? `${entry}/` : entry));
  }
  return [...byDir].map(([dir, names]) => `${dir}/: ${[...names].join(', ')}`).join('; ');
}

const rootDir = findRootDir(__dirname);
const outDir = path.join(rootDir, 'dist');
const only = process.env.K6_PLATFORM_ENVS?.split(',').filter(Boolean);

try {
  const results = synthesize({ rootDir, outDir, ...(only ? { environments: only } : {}) });
  for (const [env, r] of results) {
    console.error(`${env}: ${r.objectCount} objects -> ${path.relative(process.cwd(), path.join(outDir, env))}/ (${summary(env, r.files)})`);
    for (const note of r.notes) console.error(`  note: ${note}`);
  }
  console.error(`chart: ${path.relative(process.cwd(), path.join(outDir, BUNDLE_DIR))}/ (one Helm chart, values-<env>.yaml for each environment)`);
  // cdk8s-cli's scratch directory (.cdk8s.out) becomes a link to dist/. It is removed only when it is a link or a
  // directory apart from dist/: an output directory that holds dist/ (cdk8s synth -o .) is left alone.
  const cliOut = process.env.CDK8S_OUTDIR;
  const scratch = cliOut !== undefined && cliOut !== '' ? path.resolve(cliOut) : undefined;
  if (scratch !== undefined && scratch !== outDir && !`${outDir}${path.sep}`.startsWith(`${scratch}${path.sep}`)) {
    rmSync(scratch, { recursive: true, force: true });
    if (!existsSync(scratch)) symlinkSync(path.relative(path.dirname(scratch), outDir), scratch, 'dir');
  }
} catch (e) {
  console.error(`synth failed; dist/ left as it was.\n${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
