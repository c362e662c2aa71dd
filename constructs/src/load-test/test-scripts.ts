import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import { LABELS } from '../contract/labels';
import { entryScriptOptions, type ScriptOptions } from '../k6/script-options';
import { bundleScriptTree, type ScriptFile, type ScriptModuleImport } from './script-files';

export * from './script-files';
export { localReferences } from './script-scan';

/** Kubernetes refuses ConfigMaps whose data exceeds 1 MiB. */
export const CONFIG_MAP_LIMIT_BYTES = 1024 * 1024;
/** Where runners mount the scripts. */
export const SCRIPTS_MOUNT_PATH = '/scripts';

/** Props of {@link TestScripts}. */
export interface TestScriptsProps {
  /** Test name, used in the ConfigMap name. */
  readonly testName: string;
  /**
   * Entry script, relative to `scriptsDir`.
   * @example "sample.js"
   */
  readonly entry: string;
  /** Directory holding the scripts; nothing outside it is bundled. */
  readonly scriptsDir: string;
  /** Namespace of the ConfigMap. @default - the chart's namespace */
  readonly namespace?: string;
}

/**
 * A test's entry script plus the local modules and files it imports (transitively), as ONE immutable ConfigMap whose
 * name carries a content hash: a running test never sees an edited script, and an edited script makes a new ConfigMap.
 *
 * Bundled, resolved the way k6 v1.7.1 resolves them:
 * - local modules: `import`/`export ... from`, dynamic `import()` and `require()` of `./` and `../` paths, relative to
 *   the importing file;
 * - files read with the init-context `open(path[, 'b'])`, relative to the file that calls it (also `open('data.csv')`
 *   without `./`, `file://` paths and `open(import.meta.resolve('./data.csv'))`);
 * - files opened with `open()` of `k6/experimental/fs`, relative to the entry script;
 * - gRPC protos of `client.load([importPaths], ...files)` and the protos they import (searched in the import paths,
 *   which are relative to the entry script), and `client.loadProtoset(file)`.
 *
 * Files that are not valid UTF-8 go to the ConfigMap's `binaryData` (base64), so `open(path, 'b')` reads the exact bytes.
 * A path computed at run time cannot be bundled and fails the synth with the file and line.
 *
 * Remote modules (`https://jslib.k6.io/...`) are not bundled: k6 fetches them when the test starts, so runners need
 * egress to their host. k6 built-ins (`k6`, `k6/http`) and extensions (`k6/x/...`) are left to k6; {@link TestScripts.modules}
 * lists them so the runner image can be checked against them.
 */
export class TestScripts extends Construct {
  /** The ConfigMap (immutable, name `k6-<test>-<hash>`). */
  public readonly configMap: kplus.ConfigMap;
  /** Every bundled file, entry first. */
  public readonly files: readonly ScriptFile[];
  /** Content hash (12 hex characters) of all bundled files. */
  public readonly hash: string;
  /** Path of the entry script inside the runner (`/scripts/sample.js`). */
  public readonly entryPath: string;
  /** Total bytes of keys and (raw) file contents, as counted against the 1 MiB limit. */
  public readonly sizeBytes: number;
  /** Every import of a k6 module (`k6/http`, `k6/browser`, `k6/x/faker`) by a bundled file, with file and line. */
  public readonly modules: readonly ScriptModuleImport[];
  /** Every remote (`https://`) import by a bundled file; k6 fetches these when the test starts. */
  public readonly remoteModules: readonly ScriptModuleImport[];
  /** Things the bundle could not check (e.g. an absolute `open()` path, which must exist in the runner image). */
  public readonly warnings: readonly string[];
  /** The entry script's `options.thresholds` and `options.tags`, read statically, with what could not be read ({@link readScriptOptions}). */
  public readonly options: ScriptOptions;

  public constructor(scope: Construct, id: string, props: TestScriptsProps) {
    super(scope, id);
    const bundle = bundleScriptTree(props.scriptsDir, props.entry);
    this.files = bundle.files;
    this.modules = bundle.modules;
    this.remoteModules = bundle.remoteModules;
    this.warnings = bundle.warnings;
    this.options = entryScriptOptions(bundle);
    this.sizeBytes = this.files.reduce((n, f) => n + Buffer.byteLength(f.key) + f.sizeBytes, 0);
    if (this.sizeBytes > CONFIG_MAP_LIMIT_BYTES) {
      throw new Error(
        `TestScripts: 'script' ${props.entry} bundles ${this.files.length} files of ${this.sizeBytes} bytes, over the ConfigMap limit of ${CONFIG_MAP_LIMIT_BYTES} bytes (1 MiB); ` +
          'move large data out of the bundle (e.g. fetch it from a URL in setup())',
      );
    }
    this.hash = hashFiles(this.files);
    this.entryPath = `${SCRIPTS_MOUNT_PATH}/${this.files[0]!.path}`;
    const text = this.files.filter((f) => !f.binary);
    const binary = this.files.filter((f) => f.binary);
    this.configMap = new kplus.ConfigMap(this, 'Resource', {
      metadata: {
        name: `k6-${props.testName}-${this.hash}`,
        ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
        labels: { [LABELS.component]: 'test-script', [LABELS.test]: props.testName },
        annotations: { 'k6.platform/entry': this.files[0]!.path },
      },
      immutable: true,
      data: Object.fromEntries(text.map((f) => [f.key, f.content])),
      ...(binary.length > 0 ? { binaryData: Object.fromEntries(binary.map((f) => [f.key, f.content])) } : {}),
    });
  }

  /**
   * Volume items mapping each ConfigMap key (of `data` and `binaryData` alike) back to its relative path, so imports
   * and opened files resolve inside the runner.
   */
  public get volumeItems(): Record<string, kplus.PathMapping> {
    return Object.fromEntries(this.files.map((f) => [f.key, { path: f.path }]));
  }
}

function hashFiles(files: readonly ScriptFile[]): string {
  const h = createHash('sha256');
  // Text files hash as they always did; a binary file hashes its bytes, marked so it never equals a text file.
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (f.binary) h.update(Buffer.concat([Buffer.from(`${f.path}\0binary\0`), Buffer.from(f.content, 'base64'), Buffer.from('\0')]));
    else h.update(`${f.path}\0${f.content}\0`);
  }
  return h.digest('hex').slice(0, 12);
}
