/**
 * Builds and packs @k6-platform/constructs the way it is published, and installs the tarball into projects outside the
 * repository. Used by test/package.test.ts (pack, install, synth; API report and docs freshness; the `loadtest init`
 * scaffold).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const constructsDir = path.join(repoRoot, 'constructs');

/** Runs a command; throws with its output when it fails. */
export function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) could not start: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Like {@link run}, without blocking: for slow independent steps (npm install, typedoc) that can overlap. */
export function runAsync(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) could not start: ${e.message}`)));
    child.on('close', (status) =>
      status === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${status}:\n${stdout}\n${stderr}`)),
    );
  });
}

/** What {@link buildPackage} produced. */
export interface BuiltPackage {
  /** The package directory as published (package.json, README.md, crds/, lib/), node_modules linked to the repo's. */
  readonly dir: string;
  /** The `npm pack` tarball. */
  readonly tarball: string;
  /** Paths inside the tarball. */
  readonly files: readonly string[];
}

/**
 * Compiles constructs/src with constructs/tsconfig.build.json into `<workDir>/package/lib` (never touching
 * constructs/lib), copies what `files` publishes, and packs it with `npm pack`.
 */
export function buildPackage(workDir: string): BuiltPackage {
  const dir = path.join(workDir, 'package');
  mkdirSync(dir, { recursive: true });
  // The package's own build (constructs/bin/build.js, its prepack), into the copy's lib/.
  run(process.execPath, [path.join(constructsDir, 'bin', 'build.js'), path.join(dir, 'lib')], repoRoot);
  for (const item of ['package.json', 'README.md', 'crds', 'tsconfig.build.json', 'api-extractor.json']) {
    cpSync(path.join(constructsDir, item), path.join(dir, item), { recursive: true });
  }
  // For API Extractor only (it resolves cdk8s & co. from here); npm pack never includes node_modules.
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return pack(dir, workDir);
}

/** `npm pack` of a built package directory (its prepack already ran as the build) into `workDir`. */
function pack(dir: string, workDir: string): BuiltPackage {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', workDir], dir)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const first = packed[0]!;
  return { dir, tarball: path.join(workDir, first.filename), files: first.files.map((f) => f.path).sort() };
}

/** The exact versions of a dependency the repository uses (root package.json). */
export function rootVersion(name: string): string {
  const root = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const v = root.dependencies[name] ?? root.devDependencies[name];
  if (v === undefined) throw new Error(`${name} is not a dependency of the root package.json`);
  return v;
}

/** The library's peer dependencies (constructs/package.json). */
export function peerNames(): string[] {
  return Object.keys(
    (JSON.parse(readFileSync(path.join(constructsDir, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies,
  );
}

/** The peer dependencies at the repository's versions, as `npm install` arguments. */
export function peerInstallArgs(): string[] {
  return peerNames().map((p) => `${p}@${rootVersion(p)}`);
}

/** Bytes of the files under `dir` (links not followed). */
export function bytesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(path.join(e.parentPath, e.name)).size, 0);
}

/**
 * The package directories an install of `names` into `project` consists of: each package and, recursively, its
 * `dependencies`, `optionalDependencies` and `peerDependencies` (npm installs those too), resolved as Node does (the
 * nearest node_modules up from the package that depends on it).
 */
export function installedClosure(project: string, names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    for (let dir = from; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) {
        if (seen.has(candidate)) return;
        seen.add(candidate);
        const manifest = JSON.parse(readFileSync(path.join(candidate, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
        for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
          for (const dep of Object.keys(manifest[field] ?? {})) visit(dep, candidate);
        }
        return;
      }
      if (dir === project || path.dirname(dir) === dir) return; // an optional dependency that is not installed
    }
  };
  for (const name of names) visit(name, project);
  return seen;
}

/** `npm install` from the warm cache (the registry is only asked for what the cache lacks), in the background. */
export function npmInstall(dir: string, specs: readonly string[]): Promise<string> {
  return runAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs], dir);
}

/** A fresh consumer project outside the repository. */
export function consumerProject(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true }, null, 2)}\n`);
  return dir;
}

export const cliDir = path.join(repoRoot, 'cli');

/**
 * Builds @k6-platform/cli the way it is published (cli/bin/build.js, its prepack) into `<workDir>/cli-package`, never
 * touching cli/lib, and packs it with `npm pack`.
 */
export function buildCliPackage(workDir: string): BuiltPackage {
  const dir = path.join(workDir, 'cli-package');
  mkdirSync(dir, { recursive: true });
  run(process.execPath, [path.join(cliDir, 'bin', 'build.js'), path.join(dir, 'lib')], repoRoot);
  for (const item of ['package.json', 'README.md']) cpSync(path.join(cliDir, item), path.join(dir, item));
  return pack(dir, workDir);
}
