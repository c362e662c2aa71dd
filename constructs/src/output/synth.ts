import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { renderHint } from '../monitoring/monitoring-stack';
import { buildPlatform, newEnvironmentApp, type PlatformCharts } from '../platform/platform';
import { CONFIG_NAMESPACE, DNS_LABEL, parseStackConfig, PlatformConfigError, stackFileEntries, type PlatformConfig } from '../config/platform-config';
import { environmentFiles } from './environment-files';
import { keptChartEnvironments } from './chart-environments';
import { platformBundle } from './helm/bundle';
import { BUNDLE_DIR, dashboardsDirOf, GENERATED_HEADER, VALUES_FILE } from './layout';

export { GENERATED_HEADER } from './layout';
/** The environment that exists with no stack file at all. */
export const DEFAULT_ENVIRONMENT = 'dev';

/** Options of {@link synthesize}. */
export interface SynthOptions {
  /** Repository root (holds Pulumi.<env>.yaml and scripts/). */
  readonly rootDir: string;
  /** Output directory: a link to the latest complete output, switched atomically on success. @default "<rootDir>/dist" */
  readonly outDir?: string;
  /** Environments to synthesize. @default - every Pulumi.<env>.yaml, plus "dev" */
  readonly environments?: readonly string[];
  /** Directory of the k6 scripts. @default "<rootDir>/scripts" */
  readonly scriptsDir?: string;
}

/** What one environment's synth produced. */
export interface EnvironmentOutput {
  readonly config: PlatformConfig;
  /** Every file written, relative to the output directory (`dev/platform/0000-namespaces.k8s.yaml`, ...), sorted. */
  readonly files: readonly string[];
  /** Number of Kubernetes objects. */
  readonly objectCount: number;
  /** Notes for the user (e.g. how to render the stack when no chart is at hand). */
  readonly notes: readonly string[];
}

/** Environments that have a stack file, sorted, plus the default one. */
export function discoverEnvironments(rootDir: string): string[] {
  const found = readdirSync(rootDir)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((e): e is string => e !== undefined);
  return [...new Set([DEFAULT_ENVIRONMENT, ...found])].sort();
}

/**
 * Whether `environment` can be read in `rootDir`: it has a stack file, or it is {@link DEFAULT_ENVIRONMENT}, which runs
 * on defaults without one.
 */
export function environmentExists(rootDir: string, environment: string): boolean {
  return environment === DEFAULT_ENVIRONMENT || existsSync(path.join(rootDir, `Pulumi.${environment}.yaml`));
}

/**
 * Reads and validates the config of an environment from `Pulumi.<env>.yaml`. Only {@link DEFAULT_ENVIRONMENT} may have
 * no stack file (it then runs on defaults); any other environment without one is an error, so that a typo such as
 * `--env stagign` never deploys defaults. Throws a {@link PlatformConfigError} naming each bad key as
 * `k6platform:<path>` (and YAML errors by file and line).
 */
export function loadEnvironmentConfig(rootDir: string, environment: string): PlatformConfig {
  const file = `Pulumi.${environment}.yaml`;
  const full = path.join(rootDir, file);
  let entries: Record<string, unknown> = {};
  if (existsSync(full)) {
    entries = stackFileEntries(readFileSync(full, 'utf8'), file);
  } else if (!environmentExists(rootDir, environment)) {
    throw new PlatformConfigError(
      [
        `environment '${environment}' has no stack file ${file} (environments here: ${discoverEnvironments(rootDir).join(', ')}); ` +
          `create ${file} with a "config:" section, or pick one of those (only '${DEFAULT_ENVIRONMENT}' runs on defaults without a file)`,
      ],
      file,
    );
  }
  return parseStackConfig(entries, environment, { description: file, keyPrefix: `${CONFIG_NAMESPACE}:` });
}

/** Builds one environment's charts into a fresh in-memory App (nothing is written). */
export function buildEnvironment(config: PlatformConfig, scriptsDir: string, outdir = '.', dashboardsDir?: string) {
  const app = newEnvironmentApp(outdir);
  const charts: PlatformCharts = buildPlatform(app, { config, scriptsDir, ...(dashboardsDir !== undefined ? { dashboardsDir } : {}) });
  return { app, charts };
}

/** File at the top of every synth output: synth replaces an output directory only when it holds one. */
export const OUTPUT_MARKER = '.k6-platform-synth';
const OUTPUT_MARKER_TEXT = 'Written by k6-platform synth. This whole directory is replaced on every synth: do not edit or keep files here.\n';
/** Largest object the API server stores: etcd's default request size limit (`--max-request-bytes`, 1.5 MiB). */
export const MAX_OBJECT_BYTES = 1572864;
/**
 * Testing hook: when set to N, the process kills itself (SIGKILL) right after the N-th step of writing the output,
 * so tests can check that every step leaves a complete output behind.
 */
export const KILL_AFTER_STEP_ENV = 'K6_PLATFORM_SYNTH_KILL_AFTER_STEP';

/**
 * Synthesizes environments into `outDir/<env>/`: `platform/` (what `pulumi up` and `helm install` deploy) and `runs/`
 * (one run of each test, which no deployment applies), and the platform's Helm chart of those environments into
 * `outDir/chart/` (a partial build writes it for its environments only), see ./layout.ts. All configs are validated and every environment is built in memory
 * first (all problems reported together, objects checked against the API server's size limit); nothing is written
 * before all of that passes.
 *
 * `outDir` is a symbolic link to a complete, versioned sibling directory (`.<name>.v-<pid>-<time>`): the new output is
 * written next to the current one, and a new link is renamed over the old link (rename(2) is atomic), so `outDir` is
 * always the old or the new output, complete, whatever step the process is stopped at. Leftovers of a stopped run are
 * removed by the next one. With `environments`, only those folders are replaced and the others are kept as they were.
 *
 * `outDir` must not exist, be empty, or be a previous synth output (it holds {@link OUTPUT_MARKER}): synth never
 * deletes what it did not create.
 */
export function synthesize(options: SynthOptions): Map<string, EnvironmentOutput> {
  const rootDir = path.resolve(options.rootDir);
  const outDir = path.resolve(options.outDir ?? path.join(rootDir, 'dist'));
  const scriptsDir = options.scriptsDir ?? path.join(rootDir, 'scripts');
  const environments = options.environments ?? discoverEnvironments(rootDir);
  // Environment names become file and folder names: a name like "x/../../y" must never leave the output.
  const badNames = environments.filter((env) => !DNS_LABEL.test(env) || env.length > 63);
  if (badNames.length > 0) {
    throw new Error(
      `synth: ${badNames.map((e) => JSON.stringify(e)).join(', ')} ${badNames.length === 1 ? 'is not an environment name' : 'are not environment names'}: lower-case letters, digits and "-", at most 63 characters, such as "dev"`,
    );
  }
  const step = stepHook();

  const out = new OutputDirectory(outDir);
  out.check();

  const configs = new Map<string, PlatformConfig>();
  const problems: string[] = [];
  for (const env of environments) {
    try {
      configs.set(env, loadEnvironmentConfig(rootDir, env));
    } catch (e) {
      if (!(e instanceof PlatformConfigError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) throw new Error(problems.join('\n'));

  // Build everything in memory, every file's content included, and check it before writing anything.
  const version = out.newVersionPath();
  const built = [...configs].map(([env, config]) => {
    const { app, charts } = buildEnvironment(config, scriptsDir, '.', dashboardsDirOf(rootDir));
    const notes: string[] = [...charts.warnings];
    if (config.monitoring.enabled && config.monitoring.chart.path === undefined) notes.push(renderHint(config));
    return { env, config, notes, ...environmentFiles(config, app, charts) };
  });
  checkObjectSizes(built.flatMap(({ env, objects }) => oversizedObjects(env, objects)));

  const results = new Map<string, EnvironmentOutput>();
  out.cleanLeftovers();
  step('cleaned');
  try {
    mkdirSync(path.dirname(version), { recursive: true });
    mkdirSync(version);
    // A partial build keeps the other environments' folders of the current output as they are.
    if (options.environments !== undefined) out.copyCurrent(version, new Set([...configs.keys(), BUNDLE_DIR]));
    step('kept');
    // One Helm chart for every environment of the output (the kept ones as their folders hold them), beside them.
    const kept = keptChartEnvironments(version, new Set(configs.keys()), (env) => loadEnvironmentConfig(rootDir, env));
    const environments = [...built, ...kept.environments].sort((a, b) => a.config.environment.localeCompare(b.config.environment));
    if (built.length > 0) writeFiles(path.join(version, BUNDLE_DIR), platformBundle(environments, built[0]!.serialize).files);
    for (const { env, config, notes, files, objects } of built) {
      writeFiles(path.join(version, env), files);
      const written = [...files.keys()].sort().map((f) => `${env}/${f}`);
      results.set(env, { config, files: written, objectCount: objects.length, notes: [...notes, ...kept.notes] });
      step(`wrote ${env}`);
    }
    writeFileSync(path.join(version, OUTPUT_MARKER), OUTPUT_MARKER_TEXT);
    step('marked');
  } catch (e) {
    rmSync(version, { recursive: true, force: true });
    throw e;
  }
  out.switchTo(version, step);
  return results;
}

/** The identifying part of a Kubernetes object (for size reports). */
export interface ObjectHead {
  /** The object's kind. @default - unknown */
  readonly kind?: string;
  /** Its metadata; only the name is read. @default - unknown */
  readonly metadata?: { readonly name?: string };
}

/**
 * One line per object over {@link MAX_OBJECT_BYTES} as JSON (what the API server receives), naming `where` (the
 * environment), the object and its size.
 */
export function oversizedObjects(where: string, objects: readonly ObjectHead[]): string[] {
  return objects
    .map((o) => ({ o, bytes: Buffer.byteLength(JSON.stringify(o)) }))
    .filter(({ bytes }) => bytes > MAX_OBJECT_BYTES)
    .map(
      ({ o, bytes }) =>
        `${where}: '${o.kind ?? '?'}/${o.metadata?.name ?? '?'}' is ${bytes} bytes, over the API server's limit of ${MAX_OBJECT_BYTES} bytes (1.5 MiB, etcd's request size) for one object: split it (e.g. fewer or smaller scripts per test)`,
    );
}

/** Throws one error listing every line of {@link oversizedObjects}, if there is any. */
export function checkObjectSizes(problems: readonly string[]): void {
  if (problems.length) throw new Error(`Objects too large for the API server (${problems.length}):\n${problems.map((o) => `  - ${o}`).join('\n')}`);
}

/** Writes `files` (paths relative to `dir`, `/`-separated) under `dir`, creating folders as needed. */
function writeFiles(dir: string, files: ReadonlyMap<string, string>): void {
  for (const [rel, content] of files) {
    const full = path.join(dir, ...rel.split('/'));
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

/** The step hook of {@link KILL_AFTER_STEP_ENV}. */
function stepHook(): (name: string) => void {
  const killAfter = Number(process.env[KILL_AFTER_STEP_ENV] ?? 0);
  let n = 0;
  return () => {
    n++;
    if (killAfter > 0 && n === killAfter) process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * The output directory: a link `<dir>/<name>` to a versioned sibling `<dir>/.<name>.v-<pid>-<time>`. Temporary links
 * are `.<name>.link-<pid>-<time>`; an output from before links (a plain directory) is moved to
 * `.<name>.legacy-<pid>-<time>` while it is replaced, and put back by the next run if the process stopped right then.
 */
class OutputDirectory {
  private readonly dir: string;
  private readonly name: string;
  /** The versioned directory the link points at, when the output is a link. */
  private current?: string;
  /** The output is a plain directory (empty, or synth output from before links). */
  private plain = false;

  public constructor(private readonly outDir: string) {
    this.dir = path.dirname(outDir);
    this.name = path.basename(outDir);
  }

  /** Refuses an output that synth did not create; remembers what is there. Writes nothing (but restores a legacy output). */
  public check(): void {
    this.restoreLegacy();
    let stat;
    try {
      stat = lstatSync(this.outDir);
    } catch {
      return; // nothing there yet
    }
    const refuse = (why: string) =>
      new Error(
        `synth: refusing to replace ${this.outDir}: ${why}. Synth replaces only its own output (a directory holding ${OUTPUT_MARKER}); choose a new or empty directory with --out`,
      );
    if (stat.isSymbolicLink()) {
      // Ours only when it points straight at one of our versions beside it: a link to anything else (another link, a
      // directory elsewhere, even one that holds a marker) is the user's, and its target is never deleted.
      const target = path.resolve(this.dir, readlinkSync(this.outDir));
      const ours = path.dirname(target) === this.dir && this.isOurs(path.basename(target)) && !lstatIsLink(target);
      if (ours && (!existsSync(target) || existsSync(path.join(target, OUTPUT_MARKER)))) this.current = target;
      else throw refuse(`it is a link to ${target}, which is not a synth output version beside it`);
    } else if (stat.isDirectory()) {
      const entries = readdirSync(this.outDir);
      if (entries.length > 0 && !entries.includes(OUTPUT_MARKER) && !isLegacyOutput(this.outDir, entries)) {
        throw refuse(
          `it is a directory with ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}) and no synth marker`,
        );
      }
      this.plain = true;
    } else {
      throw refuse('it is a file');
    }
  }

  public newVersionPath(): string {
    return path.join(this.dir, `.${this.name}.v-${process.pid}-${Date.now()}`);
  }

  /** Removes versions, links and legacy copies left by stopped runs (not the current version, not live runs' files); runs after {@link check}. */
  public cleanLeftovers(): void {
    if (!existsSync(this.dir)) return;
    for (const entry of readdirSync(this.dir)) {
      const m = this.leftover(entry);
      if (m === undefined) continue;
      const full = path.join(this.dir, entry);
      if (full === this.current || isAlive(m.pid)) continue;
      rmSync(full, { recursive: true, force: true });
    }
  }

  /** Copies the current output's environment folders, except `replaced`, into `version`. */
  public copyCurrent(version: string, replaced: ReadonlySet<string>): void {
    const from = this.current ?? (this.plain ? this.outDir : undefined);
    if (from === undefined || !existsSync(from)) return;
    for (const entry of readdirSync(from)) {
      if (entry === OUTPUT_MARKER || replaced.has(entry)) continue;
      cpSync(path.join(from, entry), path.join(version, entry), { recursive: true });
    }
  }

  /** Points the output at `version`, atomically: a new link renamed over the old one. Then removes the old version. */
  public switchTo(version: string, step: (name: string) => void): void {
    mkdirSync(this.dir, { recursive: true });
    const link = path.join(this.dir, `.${this.name}.link-${process.pid}-${Date.now()}`);
    symlinkSync(path.basename(version), link, 'dir');
    step('linked');
    let legacy: string | undefined;
    if (this.plain) {
      // A plain directory cannot be renamed over: move it aside first (the next run puts it back if we stop here).
      legacy = path.join(this.dir, `.${this.name}.legacy-${process.pid}-${Date.now()}`);
      renameSync(this.outDir, legacy);
      step('moved legacy');
    }
    renameSync(link, this.outDir);
    step('switched');
    if (this.current !== undefined && this.current !== version) rmSync(this.current, { recursive: true, force: true });
    if (legacy !== undefined) rmSync(legacy, { recursive: true, force: true });
    step('removed old');
  }

  /** Puts back a plain output moved aside by a run stopped before its link replaced it. */
  private restoreLegacy(): void {
    if (!existsSync(this.dir) || lstatExists(this.outDir)) return;
    const legacy = readdirSync(this.dir)
      .filter((e) => this.leftover(e)?.kind === 'legacy')
      .sort()
      .pop();
    if (legacy !== undefined) renameSync(path.join(this.dir, legacy), this.outDir);
  }

  private isOurs(entry: string): boolean {
    return this.leftover(entry)?.kind === 'v';
  }

  private leftover(entry: string): { kind: string; pid: number } | undefined {
    const prefix = `.${this.name}.`;
    if (!entry.startsWith(prefix)) return undefined;
    const m = /^(v|link|legacy)-(\d+)-\d+$/.exec(entry.slice(prefix.length));
    return m ? { kind: m[1]!, pid: Number(m[2]) } : undefined;
  }
}

/** Whether `p` is itself a symbolic link. */
function lstatIsLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Output of a synth from before the marker: only environment folders, each with the generated values file at its top
 * (the layout of then, before platform/ and runs/).
 */
function isLegacyOutput(dir: string, entries: readonly string[]): boolean {
  return entries.every((e) => {
    const values = path.join(dir, e, VALUES_FILE);
    return existsSync(values) && readFileSync(values, 'utf8').startsWith(GENERATED_HEADER);
  });
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Whether another live process has this pid (our own pid counts as dead: synthesize is synchronous). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
