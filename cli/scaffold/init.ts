/**
 * `loadtest init <dir>`: writes a ready load-test repository for a service team, built on the published construct
 * library `@k6-platform/constructs` and this CLI (a devDependency, whose `loadtest synth` is its synth): one typed
 * example test, one environment, a README with the two commands and a CI workflow that synthesizes and judges runs.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DNS_LABEL } from '@k6-platform/constructs/internal';
import { CLI_PACKAGE_NAME } from '../version';

/** Options of {@link initProject}. */
export interface InitOptions {
  /**
   * npm package name of the new repository.
   * @default - the directory's base name
   */
  readonly name?: string;
  /**
   * The one environment the config declares (`Pulumi.<environment>.yaml`).
   * @default "dev"
   */
  readonly environment?: string;
  /**
   * Version range of `@k6-platform/constructs` the repository depends on.
   * @default - "^" + the version of the constructs package released with this CLI
   */
  readonly libraryVersion?: string;
  /**
   * Version range of `@k6-platform/cli`, a devDependency of the repository: its README and CI workflow run this
   * `loadtest` (`npx loadtest`), at the version its lockfile pins.
   * @default - "^" + this CLI's version
   */
  readonly cliVersion?: string;
}

/** What {@link initProject} wrote. */
export interface InitResult {
  /** The repository directory (absolute). */
  readonly dir: string;
  /** Files written, relative to `dir`, sorted. */
  readonly files: readonly string[];
}

/** Thrown for a directory that cannot be initialized or a bad option. */
export class InitError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'InitError';
  }
}

/** Thrown for a bad option value (`name`, `environment`): a usage error of `loadtest init`. */
export class InitOptionError extends InitError {
  public constructor(message: string) {
    super(message);
    this.name = 'InitOptionError';
  }
}

/** Name of the example test (and of its script, `scripts/<name>.ts`). */
export const EXAMPLE_TEST = 'example';
/** npm package names: lower case, optional scope, URL-safe characters. */
const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** What the scaffold depends on (cli/bin/scaffold-versions.js). */
interface ScaffoldVersions {
  readonly library: string;
  readonly peers: Readonly<Record<string, string>>;
  readonly cli: string;
  readonly devTools: Readonly<Record<string, string>>;
  readonly engines: string;
}

/**
 * The versions the scaffold depends on: written beside the bundle at pack time (lib/scaffold.json), or computed from
 * this repository's manifests when the CLI runs from its sources; the rule is cli/bin/scaffold-versions.js either way.
 */
function scaffoldVersions(): ScaffoldVersions {
  const built = path.join(__dirname, 'scaffold.json');
  if (existsSync(built)) return JSON.parse(readFileSync(built, 'utf8')) as ScaffoldVersions;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the build's own CommonJS module, shared with it
  const rule = require('../bin/scaffold-versions.js') as { scaffoldVersions: (repoRoot: string) => ScaffoldVersions };
  return rule.scaffoldVersions(path.resolve(__dirname, '..', '..'));
}

/**
 * Writes a new load-test repository into `dir` (created when missing). Refuses a directory that exists and is not
 * empty, so nothing is ever overwritten.
 */
export function initProject(dir: string, options: InitOptions = {}): InitResult {
  const root = path.resolve(dir);
  if (existsSync(root)) {
    if (!statSync(root).isDirectory()) throw new InitError(`loadtest init: ${root} exists and is not a directory; choose a new or empty directory`);
    const entries = readdirSync(root).sort();
    if (entries.length > 0) {
      const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, ... (${entries.length} entries)` : '');
      throw new InitError(`loadtest init: directory ${root} is not empty (found: ${shown}); choose a new or empty directory, nothing was written`);
    }
  }
  const name = options.name ?? path.basename(root).toLowerCase();
  if (!NPM_NAME.test(name) || name.length > 214) {
    throw new InitOptionError(
      `loadtest init: 'name' must be an npm package name (lower-case letters, digits, "-", "." or "_"), got ${JSON.stringify(name)}`,
    );
  }
  const environment = options.environment ?? 'dev';
  if (environment.length > 30 || !DNS_LABEL.test(environment)) {
    throw new InitOptionError(
      `loadtest init: 'environment' must be a DNS label of at most 30 characters such as "dev", got ${JSON.stringify(environment)}`,
    );
  }
  const versions = scaffoldVersions();
  const files = projectFiles({
    name,
    environment,
    libraryVersion: options.libraryVersion ?? versions.library,
    peers: versions.peers,
    devVersions: { ...versions.devTools, [CLI_PACKAGE_NAME]: options.cliVersion ?? versions.cli },
    engines: versions.engines,
  });
  for (const [rel, content] of files) {
    const full = path.join(root, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return { dir: root, files: [...files.keys()].sort() };
}

interface Inputs {
  readonly name: string;
  readonly environment: string;
  readonly libraryVersion: string;
  readonly peers: Readonly<Record<string, string>>;
  readonly devVersions: Readonly<Record<string, string>>;
  readonly engines: string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
/** A dependency map in npm's own order (it sorts them when it rewrites package.json). */
const sortedKeys = (deps: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(deps).sort(([a], [b]) => (a < b ? -1 : 1)));

/** The folder of the generated repository's files besides package.json; names and contents may hold `{{key}}`. */
export const TEMPLATES_DIR = path.join(__dirname, 'templates');
const TEMPLATE_SUFFIX = '.tmpl';

/** Replaces each `{{key}}` by its value; an unknown key is a broken template, not a value to leave in place. */
function fill(text: string, values: Readonly<Record<string, string>>, where: string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`loadtest init: template ${where} names {{${key}}}; known: ${Object.keys(values).join(', ')}`);
    return value;
  });
}

/** Paths of the template files under `dir`, relative to {@link TEMPLATES_DIR}, sorted. */
function templateFiles(dir = TEMPLATES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? templateFiles(path.join(dir, e.name)) : e.name.endsWith(TEMPLATE_SUFFIX) ? [path.join(dir, e.name)] : []))
    .map((f) => path.relative(TEMPLATES_DIR, path.resolve(TEMPLATES_DIR, f)))
    .sort();
}

/** The generated repository: relative path -> content. */
function projectFiles(i: Inputs): Map<string, string> {
  const files = new Map<string, string>();
  files.set(
    'package.json',
    json({
      name: i.name,
      version: '0.1.0',
      private: true,
      description: 'Load tests of this service, run on Kubernetes by the k6 platform (@k6-platform/constructs)',
      engines: { node: i.engines },
      scripts: {
        // the platform's own synth (every Pulumi.<env>.yaml into dist/<env>/, atomically), as `loadtest synth`
        synth: 'loadtest synth',
        typecheck: 'tsc -p scripts/tsconfig.json',
        test: 'npm run typecheck && npm run synth',
      },
      dependencies: {
        '@k6-platform/constructs': i.libraryVersion,
        ...sortedKeys(i.peers),
      },
      devDependencies: sortedKeys(i.devVersions),
    }),
  );
  const values = { name: i.name, environment: i.environment, exampleTest: EXAMPLE_TEST };
  for (const rel of templateFiles()) {
    const target = fill(rel.slice(0, -TEMPLATE_SUFFIX.length).split(path.sep).join('/'), values, rel);
    files.set(target, fill(readFileSync(path.join(TEMPLATES_DIR, rel), 'utf8'), values, rel));
  }
  return files;
}
