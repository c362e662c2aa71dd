import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import { LABELS } from '../contract/labels';
import { entryScriptOptions, type ScriptOptions } from '../k6/script-options';
import type { TestData } from '../config/tests';
import { bundleScriptTree, type ScriptFile, type ScriptModuleImport } from './script-files';
import { CONFIG_MAP_BUDGET_BYTES, entryBytes, hashFiles, packParts } from './bundle-parts';

export * from './script-files';
export { localReferences } from './script-scan';
export { CONFIG_MAP_BUDGET_BYTES, CONFIG_MAP_LIMIT_BYTES } from './bundle-parts';
/** Where runners mount the scripts. */
export const SCRIPTS_MOUNT_PATH = '/scripts';

/** Props of {@link TestScripts}. */
export interface TestScriptsProps {
  /** Test name, used in the ConfigMap names. */
  readonly testName: string;
  /**
   * Entry script, relative to `scriptsDir`.
   * @example "sample.js"
   */
  readonly entry: string;
  /** Directory holding the scripts; nothing outside it is bundled. */
  readonly scriptsDir: string;
  /** Namespace of the ConfigMaps. @default - the chart's namespace */
  readonly namespace?: string;
  /**
   * Where files too large for any ConfigMap come from (`tests[].data`). @default - none: such a file fails the synth
   */
  readonly data?: TestData;
}

/**
 * A test's entry script plus the local modules and files it imports (transitively), as immutable ConfigMaps whose
 * names carry a content hash: a running test never sees an edited script, and an edited script makes a new ConfigMap.
 * A bundle over 1 MiB is spread over as many ConfigMaps as it needs (each under the limit, see ./bundle-parts.ts),
 * which the runners mount as one projected volume: the script sees one directory, whatever the split.
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
 * A single file too large for a ConfigMap is served by the test's data source ({@link TestScriptsProps.data}); the
 * ConfigMaps hold an empty placeholder at its path, the mount point the data volume is mounted over.
 * A path computed at run time cannot be bundled and fails the synth with the file and line.
 *
 * Remote modules (`https://jslib.k6.io/...`) are not bundled: k6 fetches them when the test starts, so runners need
 * egress to their host. k6 built-ins (`k6`, `k6/http`) and extensions (`k6/x/...`) are left to k6; {@link TestScripts.modules}
 * lists them so the runner image can be checked against them.
 */
export class TestScripts extends Construct {
  /** The first (most often the only) ConfigMap of the bundle. */
  public readonly configMap: kplus.ConfigMap;
  /** Every ConfigMap of the bundle (immutable, names `k6-<test>-<hash of its files>`), largest first. */
  public readonly configMaps: readonly kplus.ConfigMap[];
  /** Every bundled file, entry first (those served by the data source included). */
  public readonly files: readonly ScriptFile[];
  /** The files too large for a ConfigMap, served by the data source ({@link TestScriptsProps.data}), in path order. */
  public readonly dataFiles: readonly ScriptFile[];
  /** The data source of {@link TestScripts.dataFiles}. @default - none */
  public readonly data?: TestData;
  /** Content hash (12 hex characters) of all bundled files. */
  public readonly hash: string;
  /** Path of the entry script inside the runner (`/scripts/sample.js`). */
  public readonly entryPath: string;
  /** Total bytes of keys and (raw) file contents of every bundled file. */
  public readonly sizeBytes: number;
  /** Every import of a k6 module (`k6/http`, `k6/browser`, `k6/x/faker`) by a bundled file, with file and line. */
  public readonly modules: readonly ScriptModuleImport[];
  /** Every remote (`https://`) import by a bundled file; k6 fetches these when the test starts. */
  public readonly remoteModules: readonly ScriptModuleImport[];
  /** Things the bundle could not check (e.g. an absolute `open()` path, which must exist in the runner image). */
  public readonly warnings: readonly string[];
  /** The entry script's `options.thresholds` and `options.tags`, read statically, with what could not be read ({@link readScriptOptions}). */
  public readonly options: ScriptOptions;
  private readonly parts: readonly (readonly ScriptFile[])[];

  public constructor(scope: Construct, id: string, props: TestScriptsProps) {
    super(scope, id);
    const bundle = bundleScriptTree(props.scriptsDir, props.entry);
    this.files = bundle.files;
    this.modules = bundle.modules;
    this.remoteModules = bundle.remoteModules;
    this.options = entryScriptOptions(bundle);
    this.sizeBytes = this.files.reduce((n, f) => n + Buffer.byteLength(f.key) + f.sizeBytes, 0);
    this.dataFiles = oversizedFiles(this.files, props);
    const dataPaths = new Set(this.dataFiles.map((f) => f.path));
    if (props.data !== undefined) this.data = props.data;
    this.warnings =
      props.data !== undefined && this.dataFiles.length === 0
        ? [
            ...bundle.warnings,
            `TestScripts: test '${props.testName}' sets 'data' (mode ${props.data.mode}), but every bundled file fits in a ConfigMap: the data source is not used`,
          ]
        : bundle.warnings;
    this.hash = hashFiles(this.files);
    this.entryPath = `${SCRIPTS_MOUNT_PATH}/${this.files[0]!.path}`;
    // A data file's placeholder is an empty text entry: the mount point of its volume (see dataMounts).
    const parts = packParts(this.files.map((f) => (dataPaths.has(f.path) ? { ...f, content: '', binary: false, sizeBytes: 0 } : f)));
    this.parts = parts.map((p) => p.files);
    this.configMaps = parts.map((part, i) => {
      const text = part.files.filter((f) => !f.binary);
      const binary = part.files.filter((f) => f.binary);
      return new kplus.ConfigMap(this, i === 0 ? 'Resource' : `Resource${i + 1}`, {
        metadata: {
          name: `k6-${props.testName}-${part.hash}`,
          ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
          labels: { [LABELS.component]: 'test-script', [LABELS.test]: props.testName },
          annotations: {
            'k6.platform/entry': this.files[0]!.path,
            // Which bundle a part belongs to, and how many parts it has: `kubectl get cm -l` lists a bundle's parts.
            ...(parts.length > 1 ? { 'k6.platform/bundle': this.hash, 'k6.platform/part': `${i + 1}/${parts.length}` } : {}),
          },
        },
        immutable: true,
        data: Object.fromEntries(text.map((f) => [f.key, f.content])),
        ...(binary.length > 0 ? { binaryData: Object.fromEntries(binary.map((f) => [f.key, f.content])) } : {}),
      });
    });
    this.configMap = this.configMaps[0]!;
    if (parts.length > 1) this.warnings = [...this.warnings, helmReleaseNote(props.testName, this.sizeBytes, parts.length)];
  }

  /**
   * Volume items mapping each ConfigMap key (of `data` and `binaryData` alike) back to its relative path, so imports
   * and opened files resolve inside the runner (a data file's key holds its placeholder).
   */
  public get volumeItems(): Record<string, kplus.PathMapping> {
    return Object.fromEntries(this.files.map((f) => [f.key, { path: f.path }]));
  }

  /**
   * The volume source of `/scripts`: the ConfigMap itself when the bundle has one, else one projected volume with a
   * ConfigMap source per part, each listing its keys, so every bundled path is projected exactly once.
   */
  public get volumeSource(): ScriptsVolumeSource {
    // In bundle order (entry first), as the single ConfigMap always listed them.
    const items = (part: readonly ScriptFile[]) => {
      const keys = new Set(part.map((f) => f.key));
      return this.files.filter((f) => keys.has(f.key)).map((f) => ({ key: f.key, path: f.path }));
    };
    if (this.configMaps.length === 1) return { configMap: { name: this.configMap.name, items: items(this.parts[0]!) } };
    return { projected: { sources: this.configMaps.map((cm, i) => ({ configMap: { name: cm.name, items: items(this.parts[i]!) } })) } };
  }
}

/** The volume source of a bundle, as both forms write it (a core/v1 ConfigMap or projected volume source). */
export type ScriptsVolumeSource =
  { readonly configMap: ConfigMapSource } | { readonly projected: { readonly sources: readonly { readonly configMap: ConfigMapSource }[] } };

/** A ConfigMap volume (or projection) source with explicit items. */
export interface ConfigMapSource {
  /** ConfigMap name. */
  readonly name: string;
  /** Key to relative path. */
  readonly items: readonly { readonly key: string; readonly path: string }[];
}

/**
 * Helm keeps each release in one Secret (its default storage driver), holding the chart and the rendered manifest as
 * gzip'd JSON (helm v3 pkg/storage/driver/util.go encodeRelease), and a Secret holds at most 1 MiB: the platform's Helm
 * bundle (dist/chart) carries every script ConfigMap, so a bundle of several MiB may not install that way.
 */
function helmReleaseNote(testName: string, bytes: number, parts: number): string {
  return (
    `TestScripts: test '${testName}' bundles ${bytes} bytes in ${parts} ConfigMaps; kubectl apply of dist/ and Pulumi apply them as they are, ` +
    `but \`helm install\` of dist/chart may fail: Helm keeps a release in one Secret of at most 1 MiB (gzip'd chart and manifest); ` +
    'deploy this environment with kubectl or Pulumi'
  );
}

/** The files no ConfigMap can hold; an error naming each, its size and the data modes when the test has no data source. */
function oversizedFiles(files: readonly ScriptFile[], props: TestScriptsProps): ScriptFile[] {
  const big = files.filter((f) => entryBytes(f) > CONFIG_MAP_BUDGET_BYTES).sort((a, b) => (a.path < b.path ? -1 : 1));
  if (big.length > 0 && props.data === undefined) {
    throw new Error(
      big
        .map(
          (f) =>
            `TestScripts: test '${props.testName}': file '${f.path}' is ${f.sizeBytes} bytes${f.binary ? ` (${f.content.length} in base64)` : ''}, ` +
            `more than one ConfigMap holds (${CONFIG_MAP_BUDGET_BYTES} bytes of data, under the API server's 1 MiB); ` +
            `give the test a data source for files this large: 'data: { mode: image }' (baked into a data image), ` +
            `'data: { mode: pvc, claimName }' (a PersistentVolumeClaim holding the file) or 'data: { mode: oci-volume, image }' (an image volume, Kubernetes 1.33+)`,
        )
        .join('\n'),
    );
  }
  return big;
}
