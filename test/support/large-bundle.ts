/**
 * Script bundles beyond one ConfigMap, written to a scripts directory with known content: a bundle of many files
 * (text modules, CSVs, binary files) totalling about 5 MiB, and a test opening one 3 MiB file. The content is
 * pseudo-random from a fixed seed, so every call writes the same bytes (content hashes are stable across runs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** A deterministic byte generator (xorshift32). */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 === 0 ? 1 : seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** CSV text of about `length` bytes (ASCII, so its size is its length). */
function csv(seed: number, length: number): string {
  const raw = bytes(seed, Math.ceil(length / 2));
  const rows: string[] = ['id,user,amount'];
  let size = rows[0]!.length + 1;
  for (let i = 0; size < length; i++) {
    const row = `${i},user-${raw[i % raw.length]!.toString(16)}${raw[(i * 7) % raw.length]!.toString(16)},${raw[(i * 13) % raw.length]}`;
    rows.push(row);
    size += row.length + 1;
  }
  return `${rows.join('\n')}\n`.slice(0, length);
}

function write(dir: string, rel: string, content: string | Buffer): void {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), content);
}

/** What {@link writeManyFileBundle} wrote. */
export interface WrittenBundle {
  /** Entry script, relative to the scripts directory. */
  readonly entry: string;
  /** Every file of the bundle, relative path -> bytes. */
  readonly files: ReadonlyMap<string, Buffer>;
}

/**
 * A bundle of `modules` text modules (lib/), `csvs` CSV files of `csvBytes` each (data/) and `binaries` binary files of
 * `binaryBytes` each (bin/, read with open(path, 'b')), imported and opened by `<name>.js`. The defaults make about
 * 5 MiB: 40 modules of 2 KiB, 16 CSVs of 232 KiB, 4 binary files of 352 KiB.
 */
export function writeManyFileBundle(
  dir: string,
  name = 'large',
  { modules = 40, csvs = 16, csvBytes = 232 * 1024, binaries = 4, binaryBytes = 352 * 1024 } = {},
): WrittenBundle {
  const files = new Map<string, Buffer>();
  const put = (rel: string, content: string | Buffer) => {
    write(dir, rel, content);
    files.set(rel, Buffer.isBuffer(content) ? content : Buffer.from(content));
  };
  const lines = ["import http from 'k6/http';"];
  for (let i = 0; i < modules; i++) {
    put(`lib/mod-${i}.js`, `// module ${i}\nexport const value${i} = ${JSON.stringify(csv(1000 + i, 2048 - 40))};\n`);
    lines.push(`import { value${i} } from './lib/mod-${i}.js';`);
  }
  for (let i = 0; i < csvs; i++) {
    put(`data/users-${i}.csv`, csv(2000 + i, csvBytes));
    lines.push(`const users${i} = open('./data/users-${i}.csv');`);
  }
  for (let i = 0; i < binaries; i++) {
    // A leading 0xff makes it invalid UTF-8 whatever follows: a binary file for binaryData.
    put(`bin/blob-${i}.bin`, Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), bytes(3000 + i, binaryBytes - 3)]));
    lines.push(`const blob${i} = open('./bin/blob-${i}.bin', 'b');`);
  }
  lines.push('export default function () {', "  http.get('http://target.example/');", '}', '');
  put(`${name}.js`, lines.join('\n'));
  return { entry: `${name}.js`, files };
}

/** A test script `<name>.js` opening one file `data/recording.har` of `size` bytes (3 MiB by default), plus a small module. */
export function writeLargeFileBundle(dir: string, name = 'har', size = 3 * 1024 * 1024): WrittenBundle {
  const files = new Map<string, Buffer>();
  const har = Buffer.from(csv(4242, size));
  write(dir, 'data/recording.har', har);
  files.set('data/recording.har', har);
  const lib = "export const base = 'http://target.example';\n";
  write(dir, `lib/${name}-base.js`, lib);
  files.set(`lib/${name}-base.js`, Buffer.from(lib));
  const entry = [
    "import http from 'k6/http';",
    `import { base } from './lib/${name}-base.js';`,
    "const har = open('./data/recording.har');",
    'export default function () {',
    '  http.get(`${base}/${har.length}`);',
    '}',
    '',
  ].join('\n');
  write(dir, `${name}.js`, entry);
  files.set(`${name}.js`, Buffer.from(entry));
  return { entry: `${name}.js`, files };
}
