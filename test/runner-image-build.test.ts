import * as pulumi from '@pulumi/pulumi';
import { parsePlatformConfig } from '../constructs/src/config/platform-config';
import { renderRunnerDockerfile, resolveRunnerImage, runnerBuildArgs, runnerImageTag } from '../constructs/src/runner-image/runner-image';
import { versions } from '../constructs/src/contract/versions';

/** The local (operator machine) runner image build, under Pulumi mocks: what it asks docker-build to build and push. */

type Module = typeof import('../infra/components/runner-image-build');

const DIGEST = `sha256:${'a'.repeat(64)}`;
const created: pulumi.runtime.MockResourceArgs[] = [];
let mod: Module;

beforeAll(() => {
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        created.push(args);
        return { id: `${args.name}-id`, state: { ...args.inputs, digest: DIGEST } };
      },
      call: (args) => args.inputs,
    },
    'k6platform',
    'dev',
    false,
  );
  mod = require('../infra/components/runner-image-build') as Module; // eslint-disable-line @typescript-eslint/no-require-imports
});
beforeEach(() => {
  created.length = 0;
});

const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));
const FAKER = { module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' };
const runner = { extensions: [FAKER], registry: 'registry.example.com', repository: 'load-testing/k6' };

test('local build with extensions: docker-build builds runner/Dockerfile with the pinned args and pushes the content tag', async () => {
  // GIVEN
  const cfg = parsePlatformConfig({ runner: { ...runner, build: 'local' } });
  // WHEN
  const build = new mod.RunnerImageBuild('runner', { config: cfg, registryAuth: { username: 'ci', password: 'pw' } });
  // THEN
  const ref = `registry.example.com/load-testing/k6:${runnerImageTag({ extensions: [FAKER] })}`;
  expect(await valueOf(build.imageRef)).toBe(ref);
  expect(resolveRunnerImage(cfg)).toBe(ref);
  expect(await valueOf(build.digestRef)).toBe(`registry.example.com/load-testing/k6@${DIGEST}`);
  const images = created.filter((r) => r.type === 'docker-build:index:Image');
  expect(images).toHaveLength(1);
  const inputs = images[0]!.inputs as Record<string, unknown>;
  expect(inputs.tags).toEqual([ref]);
  expect(inputs.push).toBe(true);
  expect(inputs.dockerfile).toEqual({ inline: renderRunnerDockerfile({ extensions: [FAKER] }) });
  expect(inputs.buildArgs).toEqual(runnerBuildArgs({ extensions: [FAKER] }));
  expect(inputs.platforms).toEqual(['linux/amd64']);
  expect(inputs.registries).toEqual([{ address: 'registry.example.com', username: 'ci', password: 'pw' }]);
  expect((inputs.context as { location: string }).location).toMatch(/\/runner$/);
});

test.each([
  ['no extensions', {}, `grafana/k6:${versions.k6}`],
  [
    'extensions built in-cluster',
    { ...runner, pushSecret: { name: 'registry-push' } },
    `registry.example.com/load-testing/k6:${runnerImageTag({ extensions: [FAKER] })}`,
  ],
])('%s: nothing built locally, imageRef is what the runners use', async (_name, r, ref) => {
  // WHEN
  const build = new mod.RunnerImageBuild('runner', { config: parsePlatformConfig({ runner: r }) });
  // THEN
  expect(await valueOf(build.imageRef)).toBe(ref);
  expect(await valueOf(build.digestRef)).toBe(ref);
  expect(build.image).toBeUndefined();
  expect(created.map((c) => c.type)).not.toContain('docker-build:index:Image');
});
