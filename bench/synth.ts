/**
 * Synth time of the full platform for 1, 20 and 100 tests, each pointing at scripts/sample.js, and the cost per extra
 * test: every chart of one environment built, then every file synth writes for it made in memory (`environmentFiles`:
 * platform/ and runs/), which is what `npm run synth` does per environment before writing.
 */
import * as path from 'node:path';
import { parsePlatformConfig } from '@k6-platform/constructs/internal';
import { buildEnvironment, environmentFiles } from '@k6-platform/constructs/output';
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
