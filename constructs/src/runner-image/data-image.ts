/**
 * The data image of a test with `data.mode` "image": its files too large for a ConfigMap, baked into an image built
 * FROM the pinned k6 image by the same in-cluster BuildKit Job as the runner image, and pushed under a tag that is the
 * hash of its content. Runners copy the files out of it in an init container (load-test/test-data.ts).
 *
 * The build context reaches the build pod the only way a Kubernetes object can carry it: each file cut into chunks,
 * packed into immutable ConfigMaps (each under 1 MiB as sent, see load-test/bundle-parts.ts), projected into the build
 * pod and joined again there, checked against the file's sha256 before BuildKit sees it. They live in the build
 * namespace once per data version, not in every run.
 */
import { createHash } from 'node:crypto';
import type { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { LABELS } from '../contract/labels';
import { packParts } from '../load-test/bundle-parts';
import type { ScriptFile } from '../load-test/script-files';
import { DATA_IMAGE_ROOT } from '../load-test/test-data';
import { buildJobSpec, buildkitJobObject, buildSupport, meta, type BuildContextSource } from './build-job';
import { BUILD_COMPONENT, DEFAULT_BUILD_NAMESPACE, type RunnerImageProps } from './props';

/** Raw bytes of one chunk: its base64 (983040 bytes) and key stay under one ConfigMap's budget. */
export const DATA_CHUNK_BYTES = 720 * 1024;

/** Props of {@link DataImage}. */
export interface DataImageProps {
  /** The test the files belong to (part of the tag and of object names). */
  readonly testName: string;
  /** The files to bake in (a bundle's `dataFiles`), each at `/k6-data/<path under scripts/>`. */
  readonly files: readonly ScriptFile[];
  /** The image the data image is built FROM: it must have `cp` (the pinned k6 image has busybox). @example "grafana/k6:1.7.1" */
  readonly baseImage: string;
  /** Registry, repository (the image goes to `<repository>-data`), push Secret, builder and namespace of the build. */
  readonly build: RunnerImageProps;
  /** Create the build namespace's ServiceAccount and NetworkPolicy (false when another build in the chart already does). @default true */
  readonly createSupport?: boolean;
}

/** A test's data image and, for in-cluster builds, the objects that build it. */
export class DataImage extends Construct {
  /** `<registry>/<repository>-data:<test>-<hash>`: what the runners' init container runs. */
  public readonly imageRef: string;
  /** The content-addressed tag. */
  public readonly tag: string;
  /** Dockerfile of the build. */
  public readonly dockerfile: string;
  /** The ConfigMaps carrying the build context (the Dockerfile first, then the chunks). */
  public readonly configMaps: readonly k8s.KubeConfigMap[];
  /** The BuildKit Job. */
  public readonly buildJob: ApiObject;
  /** Name of the build Job, for `kubectl wait job/<name>`. */
  public readonly buildJobName: string;

  public constructor(scope: Construct, id: string, props: DataImageProps) {
    super(scope, id);
    const { registry, repository, pushSecret } = props.build;
    if (registry === undefined || repository === undefined || pushSecret === undefined) {
      throw new Error(
        `DataImage: test '${props.testName}': 'data.mode' image needs 'runner.registry', 'runner.repository' and 'runner.pushSecret' (where the data image is pushed)`,
      );
    }
    const ns = props.build.namespace ?? DEFAULT_BUILD_NAMESPACE;
    this.tag = `${props.testName}-${dataImageHash(props.baseImage, props.files)}`;
    this.imageRef = `${registry}/${repository}-data:${this.tag}`;
    this.dockerfile = renderDataDockerfile(props.testName, props.baseImage);
    if (props.createSupport ?? true) buildSupport(this, ns, props.build);

    const chunks = props.files.flatMap((f) => chunksOf(f));
    const parts = packParts(chunks);
    const hash = this.tag.slice(this.tag.lastIndexOf('-') + 1);
    const labels = { [LABELS.component]: BUILD_COMPONENT, [LABELS.test]: props.testName };
    const dockerfileMap = new k8s.KubeConfigMap(this, 'Context', {
      metadata: { ...meta(ns, `k6-data-context-${hash}`), labels },
      immutable: true,
      data: { Dockerfile: this.dockerfile },
    });
    const chunkMaps = parts.map(
      (part, i) =>
        new k8s.KubeConfigMap(this, `Chunks${i + 1}`, {
          metadata: { ...meta(ns, `k6-data-${props.testName}-${part.hash}`), labels },
          immutable: true,
          binaryData: Object.fromEntries(part.files.map((c) => [c.key, c.content])),
        }),
    );
    this.configMaps = [dockerfileMap, ...chunkMaps];
    const context: BuildContextSource = {
      volume: {
        projected: {
          sources: [
            { configMap: { name: dockerfileMap.name, items: [{ key: 'Dockerfile', path: 'Dockerfile' }] } },
            ...parts.map((part, i) => ({
              configMap: { name: chunkMaps[i]!.name, items: part.files.map((c) => ({ key: c.key, path: `parts/${c.key}` })) },
            })),
          ],
        },
      },
      command: ['sh', '-c', assembleScript(props.files)],
      workspaceSize: `${Math.ceil(props.files.reduce((n, f) => n + f.sizeBytes, 0) / (1024 * 1024)) + 16}Mi`,
    };
    const inputs = { props: props.build, namespace: ns, imageRef: this.imageRef, dockerfile: this.dockerfile, buildArgs: {} };
    const built = buildkitJobObject(this, ns, 'k6-data-build', buildJobSpec(inputs, dockerfileMap.name, context), this.imageRef);
    this.buildJob = built.buildJob;
    this.buildJobName = built.buildJobName;
  }
}

/** Hash (12 hex characters) of the base image and every file's path and bytes: the data image's tag. */
export function dataImageHash(baseImage: string, files: readonly ScriptFile[]): string {
  const h = createHash('sha256').update(`${baseImage}\0`);
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    h.update(`${f.path}\0`);
    h.update(rawBytes(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 12);
}

/** The Dockerfile of a data image. */
export function renderDataDockerfile(testName: string, baseImage: string): string {
  return [
    `# Generated by DataImage (@k6-platform/constructs): the files of test '${testName}' too large for a ConfigMap.`,
    "# Built FROM the k6 image so that the runners' init container has cp, and shares its layers.",
    `FROM ${baseImage}`,
    `COPY data/ ${DATA_IMAGE_ROOT}/`,
    '',
  ].join('\n');
}

/** The init container's script: the Dockerfile, then each file joined from its chunks and checked against its sha256. */
function assembleScript(files: readonly ScriptFile[]): string {
  // Paths are ConfigMap-key safe ([-._a-zA-Z0-9/], script-files.ts): single quotes need no escaping.
  const lines = ['set -eu', 'cp -L /context-src/Dockerfile /workspace/Dockerfile'];
  for (const f of files) {
    const target = `/workspace/data/${f.path}`;
    const parts = chunksOf(f).map((c) => `'/context-src/parts/${c.key}'`);
    lines.push(`mkdir -p '${target.slice(0, target.lastIndexOf('/'))}'`);
    lines.push(`cat ${parts.join(' ')} > '${target}'`);
    lines.push(`echo '${createHash('sha256').update(rawBytes(f)).digest('hex')}  ${target}' | sha256sum -c -`);
  }
  return lines.join('\n');
}

/** A file's chunks, as binary ScriptFile entries keyed `<key>.<nnn>`. */
function chunksOf(f: ScriptFile): ScriptFile[] {
  const raw = rawBytes(f);
  const out: ScriptFile[] = [];
  for (let i = 0, n = 0; i < raw.length || n === 0; i += DATA_CHUNK_BYTES, n++) {
    const bytes = raw.subarray(i, i + DATA_CHUNK_BYTES);
    const suffix = String(n).padStart(3, '0');
    out.push({ path: `${f.path}.${suffix}`, key: `${f.key}.${suffix}`, content: bytes.toString('base64'), binary: true, sizeBytes: bytes.length });
  }
  return out;
}

function rawBytes(f: ScriptFile): Buffer {
  return f.binary ? Buffer.from(f.content, 'base64') : Buffer.from(f.content, 'utf8');
}
