import * as pulumi from '@pulumi/pulumi';
import { monitoringValues } from '@k6-platform/constructs/internal';
import { isWireSecret, valueOf, type Registered } from './harness';

/**
 * examples/pulumi-team-program under `pulumi.runtime.setMocks`: a team's own Pulumi project (its own config namespace,
 * namespaces and tests) using the exported {@link Platform} component (infra/components/index.ts).
 */

type Program = typeof import('../../examples/pulumi-team-program/index');

const PASSWORD = 'team-grafana-pw';
const tests = [
  {
    name: 'checkout',
    script: 'checkout.js',
    parallelism: 2,
    duration: '2m',
    vus: 50,
    targets: [{ cidr: '0.0.0.0/0', ports: [443] }],
  },
];

let registered: Registered[];
let program: Program;

beforeAll(async () => {
  // GIVEN the team's stack config: its tests, its secret, and the provider's own context key
  registered = [];
  pulumi.runtime.setAllConfig(
    {
      'payments-loadtests:tests': JSON.stringify(tests),
      'payments-loadtests:grafanaAdminPassword': PASSWORD,
      'kubernetes:context': 'kind-payments',
    },
    ['payments-loadtests:grafanaAdminPassword'],
  );
  await pulumi.runtime.setMocks(
    {
      newResource: (args: pulumi.runtime.MockResourceArgs) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, dependsOn: [] });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    },
    'payments-loadtests',
    'dev',
  );
  // WHEN the program runs (a typed require after setMocks, as in the other mocks tests)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  program = require('../../examples/pulumi-team-program/index') as Program;
  const p = program.platform;
  await Promise.all(
    [p, p.namespaces, ...p.secrets.values(), ...(p.release ? [p.release] : []), ...p.chartGroups.values()].map((r) => valueOf(r.urn)),
  );
});

const byName = (name: string) => {
  const r = registered.find((x) => x.name === name);
  if (r === undefined) throw new Error(`no resource named ${name}; registered: ${registered.map((x) => x.name).join(', ')}`);
  return r;
};

test('the component, its Secret, the Release and the chart groups; no explicit provider (the default one reads kubernetes:*)', () => {
  expect(registered.filter((r) => r.type === 'k6platform:index:Platform').map((r) => r.name)).toEqual(['dev']);
  expect(registered.filter((r) => r.type.startsWith('pulumi:providers:'))).toEqual([]);
  expect(registered.filter((r) => r.type === 'kubernetes:helm.sh/v3:Release').map((r) => r.name)).toEqual(['dev-kube-prometheus-stack']);
  expect(registered.filter((r) => r.type === 'kubernetes:yaml/v2:ConfigGroup').map((r) => r.name)).toEqual(
    expect.arrayContaining(['dev-namespaces', 'dev-loadtests']),
  );
});

test("the team's namespaces and settings reach the objects and the Release values", () => {
  const ns = byName('dev-namespaces').inputs.objs as { kind: string; metadata: { name: string } }[];
  expect(ns.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/payments-monitoring', 'Namespace/payments-k6']);
  const release = byName('dev-kube-prometheus-stack').inputs;
  expect(release.namespace).toBe('payments-monitoring');
  expect(release.values).toEqual(monitoringValues(program.platformConfig));
  const spec = (release.values as ReturnType<typeof monitoringValues>).prometheus.prometheusSpec;
  expect(spec.retention).toBe('7d');
});

test("the team's test script is deployed in its load-test namespace", () => {
  const objs = byName('dev-loadtests').inputs.objs as { kind: string; metadata: { namespace?: string }; data?: Record<string, string> }[];
  const scripts = objs.filter((o) => o.kind === 'ConfigMap' && Object.keys(o.data ?? {}).includes('checkout.js'));
  expect(scripts.map((o) => o.metadata.namespace)).toEqual(['payments-k6']);
});

test('the Grafana password from the secret config key becomes a secret Secret input', () => {
  const secret = byName('dev-payments-monitoring-grafana-admin');
  expect(secret.inputs.metadata).toMatchObject({ name: 'grafana-admin', namespace: 'payments-monitoring' });
  expect(isWireSecret(secret.inputs.stringData)).toBe(true);
  expect((secret.inputs.stringData as { value: unknown }).value).toEqual({ 'admin-user': 'admin', 'admin-password': PASSWORD });
});

test('outputs: the run command names the kubernetes:context the default provider uses', async () => {
  expect(await valueOf(program.runCommands)).toEqual({ checkout: 'npx loadtest run checkout --env dev --context kind-payments' });
  expect(await valueOf(program.grafanaUrl)).toBe('http://kube-prometheus-stack-grafana.payments-monitoring.svc:80/');
});

test('a bad test is reported with the team project key, before any resource', async () => {
  // GIVEN a test without a script
  pulumi.runtime.setAllConfig({ 'payments-loadtests:tests': JSON.stringify([{ name: 'checkout' }]), 'payments-loadtests:grafanaAdminPassword': 'x' });
  // THEN
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(() => require('../../examples/pulumi-team-program/index')).toThrow(
      /^Invalid Pulumi\.dev\.yaml \(1 problem\):\n {2}- 'payments-loadtests:tests\[0\]\.script' /,
    );
  });
});
