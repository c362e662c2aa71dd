import type { TestConfig } from '../config/platform-config';
import type { RunShard } from './props';

/** What a zone name must look like: a label value that is also safe in an object name and a PromQL string. */
export const ZONE_NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

/**
 * Refuses a shard the run cannot honour: a k6-operator TestRun computes every runner's segment itself from its
 * parallelism over [0, 1] (k6-operator v1.6.0 pkg/segmentation/segmentation.go NewCommandFragments), and a CronJob
 * starts its runs without the CLI that gates the start of every cluster.
 */
export function checkShard(t: TestConfig, shard: RunShard): void {
  const where = `LoadTest: test '${t.name}'`;
  if (t.mode !== 'jobs') throw new Error(`${where}: 'shard' (a run over several clusters) needs mode "jobs", got "${t.mode}"`);
  if (t.schedule !== undefined)
    throw new Error(`${where}: 'shard' (a run over several clusters) cannot be scheduled ('schedule' is "${t.schedule}")`);
  if (shard.segments.length < 1) throw new Error(`${where}: 'shard.segments' must name at least one runner's segment`);
  if (!ZONE_NAME.test(shard.zone)) {
    throw new Error(
      `${where}: 'shard.zone' must be 1 to 32 lower-case letters, digits and "-", starting and ending alphanumeric, got ${JSON.stringify(shard.zone)}`,
    );
  }
  const points = shard.sequence.split(',');
  for (const s of shard.segments) {
    const [from, to] = s.split(':');
    const at = points.indexOf(from ?? '');
    // k6 v1.7.1 lib/execution_segment.go FindSegmentPosition: the segment must be exactly one part of the sequence
    if (at < 0 || points[at + 1] !== to)
      throw new Error(`${where}: 'shard.segments' entry "${s}" is not a part of 'shard.sequence' "${shard.sequence}"`);
  }
}
