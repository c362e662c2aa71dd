import { named, runWithExtensions } from './runner-image-wiring';
import type { Registered } from './harness';

describe('runner image built in-cluster (runner.build: in-cluster)', () => {
  let registered: Registered[];
  beforeAll(async () => {
    registered = await runWithExtensions('in-cluster');
  });

  test('the build chart is deployed, and the load tests wait for it', async () => {
    // THEN the build Job's chart has its own ConfigGroup, after the namespaces and the Release
    expect(named(registered, 'dev-runnerimage').dependsOn).toEqual(expect.arrayContaining(['dev-namespaces', 'dev-kube-prometheus-stack']));
    // and the load tests depend on it (cdk8s chart dependency -> Pulumi dependsOn)
    expect(named(registered, 'dev-loadtests').dependsOn).toContain('dev-runnerimage');
    // no local build
    expect(registered.find((r) => r.type.startsWith('docker-build:'))).toBeUndefined();
  });
});
