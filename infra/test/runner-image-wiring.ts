import { mockStack, stackFileConfig, valueOf, type Registered } from './harness';

/**
 * The dev stack with xk6 extensions declared, built either in-cluster (a build Job in the `runnerimage` chart) or
 * locally (docker-build on the operator's machine). Returns what the program registered.
 */
export async function runWithExtensions(build: 'in-cluster' | 'local'): Promise<Registered[]> {
  const runner = {
    extensions: [{ module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' }],
    registry: 'registry.example.com',
    repository: 'load-testing/k6',
    pushSecret: { name: 'registry-push', key: '.dockerconfigjson' },
    build,
  };
  const config = { ...stackFileConfig('dev'), 'k6platform:runner': JSON.stringify(runner), 'k6platform:grafanaAdminPassword': 'pw' };
  const registered = await mockStack('dev', config, ['k6platform:grafanaAdminPassword']);
  // A typed require() after setMocks (STYLE.md section 6).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require('../stack') as typeof import('../stack');
  // wait until every chart group and the local image build are registered
  const resources = [
    ...program.platform.chartGroups.values(),
    ...(program.platform.runnerImageBuild?.image ? [program.platform.runnerImageBuild.image] : []),
  ];
  await Promise.all(resources.map((r) => valueOf(r.urn)));
  return registered;
}

/** The registered resource of a name (throws with the list when missing). */
export function named(registered: readonly Registered[], name: string): Registered {
  const r = registered.find((x) => x.name === name);
  if (r === undefined) throw new Error(`no resource named ${name}; registered: ${registered.map((x) => x.name).join(', ')}`);
  return r;
}
