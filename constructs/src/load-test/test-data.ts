/**
 * The volume, mounts and init container that serve a bundle's files too large for any ConfigMap (`tests[].data`), in
 * the plain core/v1 shape both run forms write (the jobs form as cdk8s-plus types, the operator form as the TestRun
 * CRD's, which mirror core/v1).
 *
 * Each large file is mounted over its own path under /scripts with `subPath`, so the script opens it where it opens
 * it on disk. The bundle's ConfigMaps hold an empty placeholder at that path: the mount point exists in the read-only
 * projected volume, so the runtime binds the file over it instead of having to create it there.
 */
import * as path from 'node:path';
import type { TestData } from '../config/tests';
import type { ScriptFile } from './script-files';
import { RUNNER_UID } from './constants';
import { containerSecurity } from './resources';
import { SCRIPTS_MOUNT_PATH } from './test-scripts';

/** Name of the data volume in a runner pod. */
export const DATA_VOLUME = 'k6-data';
/** Where a data image holds the files (`<DATA_IMAGE_ROOT>/<path under scripts/>`). */
export const DATA_IMAGE_ROOT = '/k6-data';
/** Where the image mode's init container writes the files into the data volume. */
const DATA_COPY_TARGET = '/k6-data-out';

/** What the data volume of a run is made from. */
export interface TestDataInputs {
  /** The test's data source. @default - none: the run has no data volume */
  readonly data?: TestData;
  /** The bundle's files the data source serves. */
  readonly dataFiles: readonly ScriptFile[];
  /** The data image of mode "image" (its content-addressed reference). @default - none (required for mode "image") */
  readonly dataImage?: string;
}

/** The data volume (core/v1 Volume). */
export type DataVolume =
  | { readonly name: string; readonly persistentVolumeClaim: { readonly claimName: string; readonly readOnly: true } }
  | { readonly name: string; readonly image: { readonly reference: string; readonly pullPolicy: string } }
  | { readonly name: string; readonly emptyDir: { readonly sizeLimit: string } };

/** One mount of a data file over its path under /scripts. */
export interface DataMount {
  readonly name: string;
  readonly mountPath: string;
  readonly subPath: string;
  readonly readOnly: true;
}

/** The init container of mode "image" that copies the data image's files into the data volume. */
export interface DataInitContainer {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly securityContext: ReturnType<typeof containerSecurity>;
  readonly resources: { readonly requests: Record<string, string>; readonly limits: Record<string, string> };
  readonly volumeMounts: readonly { readonly name: string; readonly mountPath: string }[];
}

/** The data volume of a run, if its test has data files. */
export function dataVolume(inputs: TestDataInputs): DataVolume | undefined {
  const d = inputs.data;
  if (d === undefined || inputs.dataFiles.length === 0) return undefined;
  switch (d.mode) {
    case 'pvc':
      return { name: DATA_VOLUME, persistentVolumeClaim: { claimName: d.claimName, readOnly: true } };
    case 'oci-volume':
      // Image volumes: alpha in Kubernetes 1.31, beta from 1.33 (off by default), on by default from 1.35; subPath on
      // them from 1.33 (kubernetes.io/docs/tasks/configure-pod-container/image-volumes).
      return { name: DATA_VOLUME, image: { reference: d.image, pullPolicy: d.pullPolicy } };
    case 'image':
      return { name: DATA_VOLUME, emptyDir: { sizeLimit: emptyDirSize(inputs.dataFiles) } };
  }
}

/** The mounts of the data files over their placeholders under /scripts (none without a data source). */
export function dataMounts(inputs: TestDataInputs): DataMount[] {
  const d = inputs.data;
  if (d === undefined) return [];
  const prefix = d.mode === 'image' ? '' : d.subPath;
  return inputs.dataFiles.map((f) => ({
    name: DATA_VOLUME,
    mountPath: `${SCRIPTS_MOUNT_PATH}/${f.path}`,
    subPath: prefix === '' ? f.path : path.posix.join(prefix, f.path),
    readOnly: true,
  }));
}

/**
 * The init containers of a run: for mode "image", one that copies the data image's files into the data volume. An
 * init container rather than the data image as a layer of the runner image: the runner image stays the pinned one
 * (or the xk6 build) every test shares, and a data change pulls only the small data image, not a new k6.
 */
export function dataInitContainers(inputs: TestDataInputs): DataInitContainer[] {
  if (inputs.data?.mode !== 'image' || inputs.dataFiles.length === 0) return [];
  if (inputs.dataImage === undefined) throw new Error(`LoadTest: 'data.mode' image needs the data image reference ('dataImage')`);
  return [
    {
      name: 'data',
      image: inputs.dataImage,
      // The data image is built FROM the k6 image (runner-image/data-image.ts), whose busybox has cp.
      command: ['cp', '-R', `${DATA_IMAGE_ROOT}/.`, `${DATA_COPY_TARGET}/`],
      securityContext: containerSecurity(RUNNER_UID),
      resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      volumeMounts: [{ name: DATA_VOLUME, mountPath: DATA_COPY_TARGET }],
    },
  ];
}

/** The emptyDir's size limit: the files' bytes, rounded up to whole MiB, plus 1 MiB for the file system's own use. */
function emptyDirSize(files: readonly ScriptFile[]): string {
  const bytes = files.reduce((n, f) => n + f.sizeBytes, 0);
  return `${Math.ceil(bytes / (1024 * 1024)) + 1}Mi`;
}
