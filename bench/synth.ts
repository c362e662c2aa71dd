/**
 * Synth time of the full platform for 1, 20 and 100 tests, each pointing at scripts/sample.js, and the cost per extra
 * test: every chart of one environment built, then every file synth writes for it made in memory (`environmentFiles`:
 * platform/ and runs/), which is what `npm run synth` does per environment before writing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parsePlatformConfig } from '@k6-platform/constructs/internal';
import { buildEnvironment, environmentFiles } from '@k6-platform/constructs/output';
import { writeManyFileBundle } from '../test/support/large-bundle';
import { median, timeMs } from './machine';

/** Numbers of tests measured. */
export const SYNTH_TEST_COUNTS = [1, 20, 100] as const;

/** One row of the synth benchmark. */
export interface SynthFigure {
  readonly tests: number;
  /** Median wall time of build + environmentFiles. */
  readonly medianMs: number;
  /** Kubernetes objects produced. */
  readonly objects: number;
  /** Bytes of YAML produced. */
  readonly yamlBytes: number;
}

/** The large-bundle case: one test whose bundle is about 5 MiB of many files (test/support/large-bundle.ts). */
export interface LargeBundleFigure extends SynthFigure {
  /** Bytes of the bundle's files. */
  readonly bundleBytes: number;
  /** Script ConfigMaps it is spread over. */
  readonly configMaps: number;
}

/**
 * Synth time of one test with a 5 MiB bundle of many files (some binary): read, scanned, hashed, split over
 * ConfigMaps and serialized, the same build + environmentFiles as the other rows. Median of `repeats` after a warm-up.
 */
export async function benchLargeBundleSynth(repeats = 3): Promise<LargeBundleFigure> {
  const dir = mkdtempSync(path.join(tmpdir(), 'k6-bench-bundle-'));
  try {
    const bundle = writeManyFileBundle(dir);
    const config = parsePlatformConfig({ environment: 'bench', tests: [{ name: 'large', script: bundle.entry, parallelism: 4 }] });
    let objects = 0;
    let yamlBytes = 0;
    let configMaps = 0;
    const run = () => {
      const { app, charts } = buildEnvironment(config, dir);
      const built = environmentFiles(config, app, charts);
      objects = built.objects.length;
      configMaps = charts.scripts.get('large')!.configMaps.length;
      yamlBytes = [...built.files.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    };
    run();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await timeMs(run));
    const bundleBytes = [...bundle.files.values()].reduce((n, b) => n + b.length, 0);
    return { tests: 1, medianMs: median(times), objects, yamlBytes, bundleBytes, configMaps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the synth benchmark: `repeats` timed runs per size after one warm-up. */
export async function benchSynth(rootDir: string, repeats = 3): Promise<{ figures: SynthFigure[]; perExtraTestMs: number }> {
  const scriptsDir = path.join(rootDir, 'scripts');
  const figures: SynthFigure[] = [];
  for (const n of SYNTH_TEST_COUNTS) {
    const config = parsePlatformConfig({
      environment: 'bench',
      tests: Array.from({ length: n }, (_, i) => ({ name: `t${i}`, script: 'sample.js', parallelism: 4 })),
    });
    let objects = 0;
    let yamlBytes = 0;
    const run = () => {
      const { app, charts } = buildEnvironment(config, scriptsDir);
      const built = environmentFiles(config, app, charts);
      objects = built.objects.length;
      yamlBytes = [...built.files.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    };
    run(); // warm-up (module loading, JIT)
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await timeMs(run));
    figures.push({ tests: n, medianMs: median(times), objects, yamlBytes });
  }
  const first = figures[0]!;
  const last = figures[figures.length - 1]!;
  return { figures, perExtraTestMs: (last.medianMs - first.medianMs) / (last.tests - first.tests) };
}
