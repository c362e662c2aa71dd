import * as pulumi from '@pulumi/pulumi';
import { isWireSecret, mockStack, stackFileConfig, valueOf, type Registered } from './harness';

/**
 * Which cluster the program's provider targets, for each combination of the platform's keys (`k6platform:context`,
 * `k6platform:kubeconfig`) and the provider's own (`kubernetes:context`, `kubernetes:kubeconfig`): the platform's
 * win when set, else the provider's, else nothing (ambient kubeconfig). Checked on the inputs the provider resource is
 * registered with, the only thing the engine hands to pulumi-kubernetes for an explicit provider.
 */

type Program = typeof import('../stack');

const KUBECONFIG_A = 'apiVersion: v1\nkind: Config\n# cluster a';
const KUBECONFIG_B = 'apiVersion: v1\nkind: Config\n# cluster b';

interface Run {
  readonly provider: Registered;
  readonly warnings: readonly string[];
  readonly smokeCommand: string;
}

/** Runs the dev stack with `kube` config added; returns the provider's registration and the warnings logged. */
async function run(kube: Record<string, string>): Promise<Run> {
  const config = { ...stackFileConfig('dev'), 'k6platform:grafanaAdminPassword': 'pw', ...kube };
  const secretKeys = ['k6platform:grafanaAdminPassword', ...Object.keys(kube).filter((k) => k.endsWith(':kubeconfig'))];
  const registered = await mockStack('dev', config, secretKeys);
  const warnings: string[] = [];
  let smokeCommand = '';
  await jest.isolateModulesAsync(async () => {
    // The program logs through the @pulumi/pulumi of this module registry: spy on that one.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('@pulumi/pulumi') as typeof pulumi;
    jest.spyOn(sdk.log, 'warn').mockImplementation((message: string) => {
      warnings.push(message);
      return Promise.resolve();
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after setMocks
    const program = require('../stack') as Program;
    const p = program.platform;
    // every resource registered before the next test replaces the mocks
    await Promise.all(
      [program.provider, p, p.namespaces, ...p.secrets.values(), ...(p.release ? [p.release] : []), ...p.chartGroups.values()].map((r) =>
        valueOf(r.urn),
      ),
    );
    smokeCommand = (await valueOf(program.runCommands)).smoke!;
  });
  return { provider: registered.find((r) => r.type === 'pulumi:providers:kubernetes')!, warnings, smokeCommand };
}

// The SDK defaults the provider's `kubeconfig` input to $KUBECONFIG (@pulumi/kubernetes 4.34.2 provider.js:
// `args?.kubeconfig ?? utilities.getEnv("KUBECONFIG")`); unset here so the inputs show only what the program passes.
const savedKubeconfigEnv = process.env.KUBECONFIG;
beforeAll(() => delete process.env.KUBECONFIG);
afterAll(() => {
  if (savedKubeconfigEnv !== undefined) process.env.KUBECONFIG = savedKubeconfigEnv;
});

describe('kube context', () => {
  test.each([
    ['neither key: no context input (the kubeconfig current context)', {}, undefined, []],
    ['only kubernetes:context: the provider key is honoured', { 'kubernetes:context': 'kind-a' }, 'kind-a', []],
    ['only k6platform:context', { 'k6platform:context': 'kind-b' }, 'kind-b', []],
    ['both, equal: no warning', { 'k6platform:context': 'kind-a', 'kubernetes:context': 'kind-a' }, 'kind-a', []],
    [
      'both, different: the platform key wins, loudly',
      { 'k6platform:context': 'kind-b', 'kubernetes:context': 'kind-a' },
      'kind-b',
      [
        "'k6platform:context' and 'kubernetes:context' are both set and differ; the Kubernetes provider uses 'k6platform:context' ('kind-b' over 'kind-a'). " +
          'Remove one of them (`pulumi config rm context` or `pulumi config rm kubernetes:context`).',
      ],
    ],
    ['an empty k6platform:context does not hide kubernetes:context', { 'k6platform:context': '', 'kubernetes:context': 'kind-a' }, 'kind-a', []],
  ])('%s', async (_what, kube: Record<string, string>, context: string | undefined, warnings: string[]) => {
    // WHEN
    const r = await run(kube);
    // THEN the provider's input
    expect(r.provider.inputs.context).toBe(context);
    expect(r.provider.inputs.kubeconfig).toBeUndefined();
    expect(r.warnings).toEqual(warnings);
    // AND the printed commands name the same context
    expect(r.smokeCommand).toBe(`npx loadtest run smoke --env dev${context !== undefined ? ` --context ${context}` : ''}`);
  });
});

describe('kubeconfig', () => {
  test.each([
    ['only kubernetes:kubeconfig: the provider key is honoured', { 'kubernetes:kubeconfig': KUBECONFIG_A }, KUBECONFIG_A, 0],
    ['only k6platform:kubeconfig', { 'k6platform:kubeconfig': KUBECONFIG_B }, KUBECONFIG_B, 0],
    ['both, equal: no warning', { 'k6platform:kubeconfig': KUBECONFIG_A, 'kubernetes:kubeconfig': KUBECONFIG_A }, KUBECONFIG_A, 0],
    ['both, different: the platform key wins', { 'k6platform:kubeconfig': KUBECONFIG_B, 'kubernetes:kubeconfig': KUBECONFIG_A }, KUBECONFIG_B, 1],
  ])('%s; the input is a secret', async (_what, kube: Record<string, string>, kubeconfig: string, warnings: number) => {
    // WHEN
    const r = await run(kube);
    // THEN
    expect(isWireSecret(r.provider.inputs.kubeconfig)).toBe(true);
    expect((r.provider.inputs.kubeconfig as { value: unknown }).value).toBe(kubeconfig);
    expect(r.provider.inputs.context).toBeUndefined();
    expect(r.warnings).toHaveLength(warnings);
  });

  test('the warning names both keys and shows neither kubeconfig', async () => {
    // WHEN
    const r = await run({ 'k6platform:kubeconfig': KUBECONFIG_B, 'kubernetes:kubeconfig': KUBECONFIG_A });
    // THEN
    expect(r.warnings).toEqual([
      "'k6platform:kubeconfig' and 'kubernetes:kubeconfig' are both set and differ; the Kubernetes provider uses 'k6platform:kubeconfig'. " +
        'Remove one of them (`pulumi config rm kubeconfig` or `pulumi config rm kubernetes:kubeconfig`).',
    ]);
  });

  test('context from one namespace and kubeconfig from the other combine', async () => {
    // WHEN
    const r = await run({ 'kubernetes:kubeconfig': KUBECONFIG_A, 'k6platform:context': 'kind-b' });
    // THEN
    expect((r.provider.inputs.kubeconfig as { value: unknown }).value).toBe(KUBECONFIG_A);
    expect(r.provider.inputs.context).toBe('kind-b');
    expect(r.warnings).toEqual([]);
  });
});
