/**
 * Reading a test's script bundle from disk: the entry script, the local modules it imports, the files it open()s and
 * the gRPC protos it loads, each checked to lie inside the scripts directory and to make a ConfigMap key.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { protoImports, SCRIPT_FILE, scanScript, type ScriptReference } from './script-scan';

/** Valid ConfigMap data key. */
const KEY = /^[-._a-zA-Z0-9]+$/;
/** Separator standing for "/" in ConfigMap keys (keys cannot hold "/"; volume items map them back to paths). */
const DIR_SEPARATOR = '__';

/** One file of a script bundle. */
export interface ScriptFile {
  /** Path relative to the scripts directory, with "/" separators (`lib/helpers.js`). */
  readonly path: string;
  /** ConfigMap data key (`lib__helpers.js`). */
  readonly key: string;
  /** File content: the text of a UTF-8 file; for a binary file, its bytes in base64 (as stored in `binaryData`). */
  readonly content: string;
  /** The file is not valid UTF-8 (e.g. an image read with `open(path, 'b')`) and is stored in the ConfigMap's `binaryData`. */
  readonly binary: boolean;
  /** Size of the file in bytes (raw bytes, not base64). */
  readonly sizeBytes: number;
}

/** A k6 module (`k6`, `k6/...`, `k6/x/...`) or a remote module (`https://...`) one bundled file imports. */
export interface ScriptModuleImport {
  /** Module specifier as written (`k6/http`, `k6/x/faker`, `https://jslib.k6.io/k6-utils/1.4.0/index.js`). */
  readonly module: string;
  /** Bundled file that imports it, relative to the scripts directory (`lib/data.js`). */
  readonly file: string;
  /** 1-based line of the import in `file`. */
  readonly line: number;
}

/** What `bundleScriptTree` found for one entry script. */
export interface ScriptBundle {
  /** Every bundled file, entry first. */
  readonly files: readonly ScriptFile[];
  /** Every import of a k6 module (`k6`, `k6/...`, `k6/x/...`) by a bundled file, in the order found. */
  readonly modules: readonly ScriptModuleImport[];
  /** Every remote (`https://`) import by a bundled file: not bundled, k6 fetches them when the test starts. */
  readonly remoteModules: readonly ScriptModuleImport[];
  /** Things the bundle could not check and the user may know better about (e.g. an absolute `open()` path). */
  readonly warnings: readonly string[];
}

/**
 * Resolves an entry script and every local file it imports or opens, transitively (see {@link TestScripts}). Throws a
 * clear error for a missing file, a path escaping the scripts directory, a path that cannot become a ConfigMap key, or
 * a path computed at run time.
 */
export function bundleScripts(scriptsDir: string, entry: string): ScriptFile[] {
  return [...bundleScriptTree(scriptsDir, entry).files];
}

/** Like {@link bundleScripts}, plus the k6 and remote modules the bundled files import and warnings. */
export function bundleScriptTree(scriptsDir: string, entry: string): ScriptBundle {
  const root = realpathOrThrow(scriptsDir, `TestScripts: 'scriptsDir' ${scriptsDir} does not exist`);
  const entryAbs = path.resolve(root, entry);
  if (!isInside(root, entryAbs)) {
    throw new Error(`TestScripts: 'script' ${entry} is outside the scripts directory ${scriptsDir}; scripts must live under it`);
  }
  if (!isFile(entryAbs)) {
    throw new Error(`TestScripts: 'script' ${entry} not found in ${scriptsDir} (looked for ${entryAbs})`);
  }
  const reader = new BundleReader(scriptsDir, root, entry, entryAbs);
  reader.visit(entryAbs, undefined);
  return { files: [...reader.files.values()], modules: reader.modules, remoteModules: reader.remoteModules, warnings: reader.warnings };
}

/** The files of one bundle as they are found, each checked once. */
class BundleReader {
  public readonly files = new Map<string, ScriptFile>();
  public readonly modules: ScriptModuleImport[] = [];
  public readonly remoteModules: ScriptModuleImport[] = [];
  public readonly warnings: string[] = [];
  private readonly byKey = new Map<string, string>();
  private readonly scanned = new Set<string>();
  // k6 resolves `k6/experimental/fs` open() and gRPC load() paths against the directory of the entry script
  // (InitEnvironment.CWD, which is loader.Dir of the entry's URL: internal/js/bundle.go, v1.7.1).
  private readonly entryDir: string;

  public constructor(
    private readonly scriptsDir: string,
    private readonly root: string,
    private readonly entry: string,
    entryAbs: string,
  ) {
    this.entryDir = path.dirname(entryAbs);
  }

  private relOf(abs: string): string {
    return path.relative(this.root, abs).split(path.sep).join('/');
  }

  /** Adds one file (once) under its ConfigMap key; returns its relative path and bytes. */
  private add(abs: string, importedBy: string | undefined): { rel: string; content: Buffer } {
    const real = realpathSync(abs);
    if (!isInside(this.root, real)) {
      throw new Error(
        `TestScripts: '${importedBy ?? this.entry}' imports ${path.relative(this.root, abs)}, which resolves outside the scripts directory ${this.scriptsDir}`,
      );
    }
    const rel = this.relOf(abs);
    const raw = readFileSync(abs);
    if (this.files.has(rel)) return { rel, content: raw };
    const key = rel.split('/').join(DIR_SEPARATOR);
    if (!KEY.test(key) || key.length > 253) {
      throw new Error(
        `TestScripts: file '${rel}' cannot be a ConfigMap key (${JSON.stringify(key)}); file and folder names may only use letters, digits, "-", "_" and "."`,
      );
    }
    const clash = this.byKey.get(key);
    if (clash !== undefined) {
      throw new Error(`TestScripts: files '${clash}' and '${rel}' map to the same ConfigMap key ${JSON.stringify(key)}; rename one`);
    }
    this.byKey.set(key, rel);
    const text = utf8(raw);
    this.files.set(
      rel,
      text !== undefined
        ? { path: rel, key, content: text, binary: false, sizeBytes: raw.length }
        : { path: rel, key, content: raw.toString('base64'), binary: true, sizeBytes: raw.length },
    );
    return { rel, content: raw };
  }

  /** Checks one resolved target (inside scripts/, exists) and adds it; `what` describes the reference for errors. */
  private target(from: string, what: string, abs: string): string {
    if (!isInside(this.root, abs)) {
      throw new Error(`TestScripts: '${from}' ${what}, which escapes the scripts directory ${this.scriptsDir}`);
    }
    if (!isFile(abs)) throw new Error(`TestScripts: '${from}' ${what}, which does not exist (looked for ${abs})`);
    return this.add(abs, from).rel;
  }

  private visitProto(from: string, line: number, importPaths: readonly string[], name: string, seen: Set<string>): void {
    if (seen.has(name)) return;
    seen.add(name);
    // protocompile SourceResolver.FindFileByPath: the first import path holding the file wins
    // (vendor/github.com/bufbuild/protocompile/resolver.go, k6 v1.7.1).
    const candidates = importPaths.map((p) => path.resolve(p, name));
    const found = candidates.find((c) => isInside(this.root, c) && isFile(c));
    if (found === undefined) {
      // WithStandardImports supplies google/protobuf/*.proto (descriptor, timestamp, ...) from memory.
      if (name.startsWith('google/protobuf/')) return;
      const where = candidates.map((c) => (isInside(this.root, c) ? c : `${c} (outside the scripts directory)`)).join(', ');
      throw new Error(`TestScripts: '${from}' line ${line} loads the proto ${JSON.stringify(name)}, which does not exist (looked for ${where})`);
    }
    const { rel, content } = this.add(found, from);
    for (const imported of protoImports(content.toString('utf8'))) this.visitProto(rel, line, importPaths, imported, seen);
  }

  /** Adds a file and, for a script, everything it refers to. */
  public visit(abs: string, importedBy: string | undefined): void {
    const { rel, content } = this.add(abs, importedBy);
    // Scanned already, or a data file (no imports). A module also open()ed as text is still scanned when imported.
    if (this.scanned.has(rel) || !SCRIPT_FILE.test(rel)) return;
    this.scanned.add(rel);
    const dir = path.dirname(abs);
    const scan = scanScript(content.toString('utf8'), rel);
    if (scan.problems.length > 0) {
      throw new Error(scan.problems.map((p) => `TestScripts: '${rel}' line ${p.line}: ${p.message}`).join('\n'));
    }
    for (const m of scan.modules) (m.module.startsWith('https://') ? this.remoteModules : this.modules).push({ ...m, file: rel });
    for (const ref of scan.references) {
      switch (ref.kind) {
        case 'import': {
          const abs2 = path.resolve(dir, ref.path);
          if (!isInside(this.root, abs2)) {
            throw new Error(`TestScripts: '${rel}' imports ${JSON.stringify(ref.path)}, which escapes the scripts directory ${this.scriptsDir}`);
          }
          if (!isFile(abs2)) {
            throw new Error(`TestScripts: '${rel}' imports ${JSON.stringify(ref.path)}, which does not exist (looked for ${abs2})`);
          }
          this.visit(abs2, rel);
          break;
        }
        case 'open':
        case 'fs-open':
        case 'protoset':
          this.opened(rel, dir, ref);
          break;
        case 'grpc': {
          const importPaths = (ref.importPaths.length > 0 ? ref.importPaths : ['.']).map((p) =>
            path.resolve(this.entryDir, p.replace(/^file:\/\//, '')),
          );
          const seen = new Set<string>();
          for (const name of ref.files) this.visitProto(rel, ref.line, importPaths, name, seen);
          break;
        }
      }
    }
  }

  /** A file read with open() or loadProtoset(), resolved as k6 resolves it. */
  private opened(rel: string, dir: string, ref: Extract<ScriptReference, { kind: 'open' | 'fs-open' | 'protoset' }>): void {
    const at = `line ${ref.line}`;
    const p = ref.path.replace(/^file:\/\//, '');
    const call = ref.kind === 'protoset' ? 'loadProtoset()' : 'open()';
    if (path.isAbsolute(p)) {
      this.warnings.push(
        `TestScripts: '${rel}' ${at}: ${call} of the absolute path ${JSON.stringify(p)} is not bundled; it must exist in the runner image`,
      );
      return;
    }
    // The init-context open() is relative to the module being evaluated (ModuleSystem.CurrentlyRequiredModule,
    // js/modules/require_impl.go, v1.7.1): the calling file for top-level code. A call inside a function of an
    // imported module resolves against the module at the bottom of the call stack (usually the entry script;
    // k6 warns about it), so both places are tried there. experimental/fs open() and gRPC files use the entry's
    // directory (internal/js/modules/k6/experimental/fs/module.go, js/common/initenv.go, v1.7.1).
    const entryDir = this.entryDir;
    const bases = ref.viaResolve ? [dir] : ref.kind !== 'open' ? [entryDir] : ref.inFunction && dir !== entryDir ? [dir, entryDir] : [dir];
    const candidates = bases.map((b) => path.resolve(b, p));
    const existing = candidates.filter((c) => isInside(this.root, c) && isFile(c));
    if (existing.length === 0) {
      this.target(rel, `${at} opens ${JSON.stringify(ref.path)} with ${call}`, candidates[0]!);
    }
    for (const c of existing) this.add(c, rel);
  }
}

/** The text of a buffer that is valid UTF-8 (a leading BOM kept), else undefined. */
function utf8(raw: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return undefined;
  }
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function realpathOrThrow(p: string, message: string): string {
  try {
    return realpathSync(p);
  } catch {
    throw new Error(message);
  }
}
