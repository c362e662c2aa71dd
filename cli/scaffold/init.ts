/**
 * `loadtest init <dir>`: writes a ready load-test repository for a service team, built on the published construct
 * library `@k6-platform/constructs`: one typed example test, one environment, a cdk8s app, a README with the two
 * commands and a CI workflow that synthesizes and judges runs.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DNS_LABEL } from '@k6-platform/constructs';

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
   * @default - "^" + the version in constructs/package.json
   */
  readonly libraryVersion?: string;
  /**
   * npm package that provides the `loadtest` command the CI workflow runs (`npx --package <cliPackage> loadtest`).
   * @default "@k6-platform/cli"
   */
  readonly cliPackage?: string;
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

interface PackageJson {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const repoRoot = path.resolve(__dirname, '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

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
  const library = readJson(path.join(repoRoot, 'constructs', 'package.json'));
  const rootPkg = readJson(path.join(repoRoot, 'package.json'));
  const caret = (pkg: string) => {
    const v = rootPkg.devDependencies?.[pkg] ?? rootPkg.dependencies?.[pkg];
    if (v === undefined) throw new Error(`loadtest init: ${pkg} is not a dependency of ${path.join(repoRoot, 'package.json')}`);
    return `^${v}`;
  };
  const files = projectFiles({
    name,
    environment,
    libraryVersion: options.libraryVersion ?? `^${library.version}`,
    peers: library.peerDependencies ?? {},
    devVersions: { typescript: caret('typescript'), tsx: caret('tsx'), '@types/k6': caret('@types/k6'), '@types/node': caret('@types/node') },
    cliPackage: options.cliPackage ?? '@k6-platform/cli',
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
  readonly cliPackage: string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

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
      engines: { node: '>=20.19' },
      scripts: {
        synth: 'tsx main.ts',
        typecheck: 'tsc -p tsconfig.json && tsc -p scripts/tsconfig.json',
        test: 'npm run typecheck && npm run synth',
      },
      dependencies: {
        '@k6-platform/constructs': i.libraryVersion,
        ...Object.fromEntries(Object.entries(i.peers).sort(([a], [b]) => (a < b ? -1 : 1))),
      },
      devDependencies: i.devVersions,
    }),
  );
  const values = { name: i.name, environment: i.environment, cliPackage: i.cliPackage, exampleTest: EXAMPLE_TEST };
  for (const rel of templateFiles()) {
    const target = fill(rel.slice(0, -TEMPLATE_SUFFIX.length).split(path.sep).join('/'), values, rel);
    files.set(target, fill(readFileSync(path.join(TEMPLATES_DIR, rel), 'utf8'), values, rel));
  }
  return files;
}
