import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';

/**
 * The real helm binary and the stub kube-prometheus-stack for the bundle's tests. kube-prometheus-stack itself cannot be
 * downloaded in tests (no network), so test/fixtures/kps-stub, a STUB chart named kube-prometheus-stack at the pinned
 * version, stands in for it in charts/: it echoes the values it receives and creates the Services the platform's
 * objects point at, named and selecting as the real chart does (see its templates/_helpers.tpl).
 */

export const ROOT = path.resolve(__dirname, '..', '..');
export const STUB = path.join(ROOT, 'test', 'fixtures', 'kps-stub');

export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
};

/** A scratch directory with its own helm home (no repository, cache or plugin of the machine is used). */
export class HelmWorkspace {
  public readonly dir = mkdtempSync(path.join(tmpdir(), 'helm-bundle-'));
  private readonly env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: this.dir,
    HELM_CACHE_HOME: path.join(this.dir, 'helm-cache'),
    HELM_CONFIG_HOME: path.join(this.dir, 'helm-config'),
    HELM_DATA_HOME: path.join(this.dir, 'helm-data'),
  };
  private count = 0;

  /** Runs helm; a non-zero exit throws with helm's output. */
  public helm(args: readonly string[]): string {
    return this.run(args).stdout;
  }

  /** Runs helm and returns its exit status and output (for commands expected to fail). */
  public run(args: readonly string[]): { status: number; stdout: string; stderr: string } {
    try {
      const stdout = execFileSync(helmBin(), args, { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
      return { status: 0, stdout, stderr: '' };
    } catch (e) {
      const err = e as { status?: number; stdout?: string; stderr?: string; message: string };
      if (err.status === undefined || err.status === null) throw e;
      return { status: err.status, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  }

  /** Runs helm, failing the test with helm's output on a non-zero exit. */
  public ok(args: readonly string[]): string {
    const r = this.run(args);
    if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /**
   * Copies a bundle to a fresh directory with the stub (or `dependency`) as the kube-prometheus-stack dependency, plus a
   * probe template rendering NOTES.txt into a ConfigMap (`helm template` does not print NOTES.txt; the probe includes
   * the same text as a named template, so it sees the same release and values).
   */
  public chartWithStub(bundleDir: string, dependency = STUB): string {
    const dir = path.join(this.dir, `chart-${++this.count}`);
    cpSync(bundleDir, dir, { recursive: true });
    mkdirSync(path.join(dir, 'charts'), { recursive: true });
    cpSync(dependency, path.join(dir, 'charts', 'kube-prometheus-stack'), { recursive: true });
    const notes = readFileSync(path.join(dir, 'templates', 'NOTES.txt'), 'utf8');
    writeFileSync(path.join(dir, 'templates', '_notes-probe.tpl'), `{{- define "test.notes" -}}\n${notes}{{- end -}}\n`);
    writeFileSync(
      path.join(dir, 'templates', 'notes-probe.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${NOTES_PROBE}\ndata:\n  notes: {{ include "test.notes" . | quote }}\n`,
    );
    return dir;
  }

  public remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Name of the ConfigMap the probe renders NOTES.txt into. */
export const NOTES_PROBE = 'test-notes-probe';

/** helm from $HELM_BIN or <repo>/.tools/bin/helm (installed by .ci/setup); a missing helm fails the test. */
function helmBin(): string {
  const bin = process.env.HELM_BIN ?? path.join(ROOT, '.tools', 'bin', 'helm');
  if (!existsSync(bin)) throw new Error(`helm not found at ${bin}: run .ci/setup (installs .tools/bin/helm) or set HELM_BIN`);
  return bin;
}

export function parseStream(text: string): Obj[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** What `helm template` rendered, split into the stub's objects, the NOTES.txt text and the platform's objects. */
export interface Rendered {
  readonly platform: Obj[];
  readonly stub: Obj[];
  readonly notes: string;
}

/** The objects the stub chart renders (its templates say where they come from in the `# Source:` comment). */
export function splitRendered(text: string): Rendered {
  const docs = text.split(/^---\n/m);
  const platform: Obj[] = [];
  const stub: Obj[] = [];
  let notes = '';
  for (const doc of docs) {
    const o = YAML.parse(doc) as Obj | null;
    if (o === null) continue;
    if (o.metadata.name === NOTES_PROBE) notes = (o.data as { notes: string }).notes;
    else if (/^# Source: [^/]+\/charts\/kube-prometheus-stack\//m.test(doc)) stub.push(o);
    else platform.push(o);
  }
  return { platform, stub, notes };
}

export const keyOf = (o: Obj): string => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
export const sorted = (objs: readonly Obj[]): Obj[] => [...objs].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));

/** The one stub Service whose name passes `test`. */
export function stubService(stub: readonly Obj[], test: (name: string) => boolean): Obj & { spec: { selector: Record<string, string> } } {
  const found = stub.filter((o) => o.kind === 'Service' && test(o.metadata.name));
  if (found.length !== 1) throw new Error(`expected one stub Service, found [${found.map((o) => o.metadata.name).join(', ')}]`);
  return found[0] as Obj & { spec: { selector: Record<string, string> } };
}

/** The `spec.podSelector.matchLabels` of the platform's NetworkPolicy `name`. */
export function policySelector(platform: readonly Obj[], name: string): Record<string, string> {
  const p = platform.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name);
  if (p === undefined) throw new Error(`no NetworkPolicy ${name} in ${platform.map(keyOf).join(', ')}`);
  return (p.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels;
}
