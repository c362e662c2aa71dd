/**
 * Spreading a script bundle over as many ConfigMaps as it needs, each under the API server's 1 MiB limit, and
 * picking out the files too large for any ConfigMap (they need a data source: `tests[].data`).
 */
import { createHash } from 'node:crypto';
import type { ScriptFile } from './script-files';

/** Kubernetes refuses ConfigMaps whose data exceeds 1 MiB. */
export const CONFIG_MAP_LIMIT_BYTES = 1024 * 1024;
/**
 * What one ConfigMap's entries may add up to, as counted by {@link entryBytes}. The API server counts the raw bytes of
 * `data` values and `binaryData` values against 1 MiB (`MaxSecretSize`, ValidateConfigMap in
 * kubernetes/pkg/apis/core/validation/validation.go); counting keys, JSON escapes and the base64 of binary files as
 * well, and leaving room for the metadata, keeps each ConfigMap under 1 MiB even as the JSON the API server receives,
 * so a ConfigMap is never near etcd's 1.5 MiB request limit (`--max-request-bytes` 1572864, etcd
 * server/embed/config.go DefaultMaxRequestBytes).
 */
export const CONFIG_MAP_BUDGET_BYTES = CONFIG_MAP_LIMIT_BYTES - 8 * 1024;

/** Sizes already computed, per file object (a bundle's files are sized twice: oversized check, then packing). */
const sized = new WeakMap<object, number>();

/** Bytes an entry adds to a ConfigMap as JSON: the quoted key, the quoted value (text escaped, binary in base64), ":" and ",". */
export function entryBytes(f: Pick<ScriptFile, 'key' | 'content' | 'binary'>): number {
  const known = sized.get(f);
  if (known !== undefined) return known;
  // base64 needs no escaping: its length plus the quotes.
  const value = f.binary ? f.content.length + 2 : Buffer.byteLength(JSON.stringify(f.content));
  const bytes = Buffer.byteLength(JSON.stringify(f.key)) + value + 2;
  sized.set(f, bytes);
  return bytes;
}

/** One ConfigMap's share of a bundle. */
export interface BundlePart {
  /** The files it holds, in path order. */
  readonly files: readonly ScriptFile[];
  /** Content hash (12 hex characters) of its files: its name carries it, so unchanged parts keep their names. */
  readonly hash: string;
  /** Sum of {@link entryBytes} of its files. */
  readonly bytes: number;
}

/**
 * Packs files into ConfigMap parts first-fit by decreasing size (ties by path), which is deterministic: the same files
 * give the same parts, names included, on every synth. Every file must fit in one part (at most
 * {@link CONFIG_MAP_BUDGET_BYTES}); the parts come largest first, one part when the files fit in one ConfigMap.
 */
export function packParts(files: readonly ScriptFile[]): BundlePart[] {
  const bySize = files.map((f) => ({ f, bytes: entryBytes(f) })).sort((a, b) => b.bytes - a.bytes || (a.f.path < b.f.path ? -1 : 1));
  const bins: { files: ScriptFile[]; bytes: number }[] = [];
  for (const s of bySize) {
    if (s.bytes > CONFIG_MAP_BUDGET_BYTES) throw new Error(`packParts: '${s.f.path}' (${s.bytes} bytes as JSON) fits in no ConfigMap`);
    let bin = bins.find((b) => b.bytes + s.bytes <= CONFIG_MAP_BUDGET_BYTES);
    if (bin === undefined) {
      bin = { files: [], bytes: 0 };
      bins.push(bin);
    }
    bin.files.push(s.f);
    bin.bytes += s.bytes;
  }
  return bins.map((b) => {
    const inOrder = [...b.files].sort((x, y) => (x.path < y.path ? -1 : 1));
    return { files: inOrder, hash: hashFiles(inOrder), bytes: b.bytes };
  });
}

/** Content hash (12 hex characters) of files, independent of their order. */
export function hashFiles(files: readonly ScriptFile[]): string {
  const h = createHash('sha256');
  // Text files hash as they always did; a binary file hashes its bytes, marked so it never equals a text file.
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (f.binary) h.update(Buffer.concat([Buffer.from(`${f.path}\0binary\0`), Buffer.from(f.content, 'base64'), Buffer.from('\0')]));
    else h.update(`${f.path}\0${f.content}\0`);
  }
  return h.digest('hex').slice(0, 12);
}
