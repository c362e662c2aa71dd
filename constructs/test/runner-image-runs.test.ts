import * as path from 'node:path';
import { parsePlatformConfig, type K6Extension } from '../src/config/platform-config';
import { buildEnvironment } from '../src/output/synth';
import { versions } from '../src/contract/versions';

/** LoadTest runners use the image RunnerImage resolves (built with extensions), in jobs and operator mode alike. */

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const scriptsDir = path.join(__dirname, '..', '..', 'scripts');
const FAKER: K6Extension = { module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' };
const runner = { extensions: [FAKER], registry: 'registry.example.com', repository: 'load-testing/k6', pushSecret: { name: 'registry-push' } };

test('LoadTest runners (jobs and operator mode) run the built reference, and nothing else runs an unpinned k6', () => {
  // GIVEN
  const tests = [
    { name: 'sample', script: 'sample.js' },
    { name: 'smoke', script: 'smoke.js', mode: 'operator' },
  ];
  // WHEN
  const { charts } = buildEnvironment(parsePlatformConfig({ runner, tests }), scriptsDir);
  // THEN
  const ref = charts.runnerImage.imageRef;
  const objs = charts.loadTests.toJson() as Obj[];
  const runnerImages = objs
    .filter((o) => o.kind === 'Job' && o.spec.template.metadata?.labels?.['app.kubernetes.io/component'] !== 'starter')
    .flatMap((o) => (o.spec.template.spec.containers as Obj[]).filter((c) => c.image !== versions.starterImage).map((c) => c.image));
  expect(runnerImages.length).toBeGreaterThan(0);
  expect(new Set(runnerImages)).toEqual(new Set([ref]));
  const testRun = objs.find((o) => o.kind === 'TestRun')!;
  expect(testRun.spec.runner.image).toBe(ref);
  expect(charts.runs.get('sample')!.image).toBe(ref);
  expect(charts.runs.get('smoke')!.image).toBe(ref);
});
