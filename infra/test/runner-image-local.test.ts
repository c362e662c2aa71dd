import { named, runWithExtensions } from './runner-image-wiring';
import type { Registered } from './harness';

describe('runner image built on the operator machine (runner.build: local)', () => {
  let registered: Registered[];
  beforeAll(async () => {
    registered = await runWithExtensions('local');
  });

  test('docker-build builds and pushes the image before the load tests; no in-cluster build chart', () => {
    // THEN
    const image = registered.find((r) => r.type === 'docker-build:index:Image');
    expect(image?.inputs).toMatchObject({
      push: true,
      tags: [expect.stringMatching(/^registry\.example\.com\/load-testing\/k6:1\.7\.1-[0-9a-f]{12}$/)],
    });
    // (a dependency on a component resolves to its children: the docker-build Image)
    expect(named(registered, 'dev-loadtests').dependsOn).toContain('dev-runner-image-image');
    expect(registered.find((r) => r.name === 'dev-runnerimage')).toBeUndefined();
  });
});
