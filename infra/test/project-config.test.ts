import { DEPLOY_ONLY_KEYS, defaultTests, platformConfigSchema } from '@k6-platform/constructs/internal';
import { STACK_CONFIG_KEYS } from '../config';
import { projectConfigDeclarations } from './harness';

/**
 * Pulumi.yaml's `config:` block (project config declarations) against what the program reads: every key the schema
 * knows and every deploy-only key is declared with a matching type, and nothing else is. The rules a declaration must
 * follow are Pulumi's, read from pulumi/pulumi v3.248.0: sdk/go/common/workspace/project.go (`Project.Validate`,
 * `ValidateConfigValue`) and project.json (`configTypeDeclaration`: type, items, description, secret, default, value).
 */

const declared = projectConfigDeclarations();
/** A key as the program names it: Pulumi.yaml may write `k6platform:tests` or just `tests` (the project namespace). */
const bare = (k: string) => k.replace(/^k6platform:/, '');
const declaredByName = new Map(Object.entries(declared).map(([k, d]) => [bare(k), d]));

/** The Pulumi config type of a schema section: `default`/`prefault` wrappers unwrapped, arrays with their item type. */
function pulumiTypeOf(schema: unknown): { type: string; items?: { type: string } } {
  let t = schema as { _zod: { def: { type: string; innerType?: unknown; element?: unknown } } };
  while (t._zod.def.innerType !== undefined) t = t._zod.def.innerType as typeof t;
  if (t._zod.def.type === 'array') return { type: 'array', items: pulumiTypeOf(t._zod.def.element) };
  return { type: t._zod.def.type };
}

test('every section of the schema is declared with its type, and read with it', () => {
  // GIVEN the schema's top-level keys
  const sections = Object.entries(platformConfigSchema.shape).map(([k, s]) => [k, pulumiTypeOf(s)] as const);
  expect(sections.map(([k]) => k)).toEqual(['environment', 'namespaces', 'monitoring', 'runner', 'network', 'tests']);
  // THEN
  for (const [key, type] of sections) {
    const d = declaredByName.get(key);
    expect({ key, type: d?.type, items: d?.items }).toEqual({ key, type: type.type, items: type.items });
    expect({ key, read: STACK_CONFIG_KEYS[key]?.type }).toEqual({ key, read: type.type });
  }
});

test('every deploy-only key (provider settings, secrets) is declared as a string', () => {
  for (const key of DEPLOY_ONLY_KEYS) {
    expect({ key, type: declaredByName.get(key)?.type, read: STACK_CONFIG_KEYS[key]?.type }).toEqual({ key, type: 'string', read: 'string' });
  }
});

test('and the reverse: Pulumi.yaml declares nothing the program does not read, and only in its own namespace', () => {
  const known = [...Object.keys(platformConfigSchema.shape), ...DEPLOY_ONLY_KEYS].sort();
  expect([...declaredByName.keys()].sort()).toEqual(known);
  expect(Object.keys(STACK_CONFIG_KEYS).sort()).toEqual(known);
  // (a key of another namespace, such as kubernetes:context, may only carry a fixed `value`, never a type)
  expect(Object.keys(declared).filter((k) => k.includes(':') && !k.startsWith('k6platform:'))).toEqual([]);
});

test('secrets: the Grafana password is marked; the optional secrets cannot be, so their description says --secret', () => {
  const secret = (k: string) => declaredByName.get(k)?.secret === true;
  expect(Object.keys(STACK_CONFIG_KEYS).filter(secret)).toEqual(['grafanaAdminPassword']);
  expect(Object.keys(STACK_CONFIG_KEYS).filter((k) => STACK_CONFIG_KEYS[k]!.secret === true)).toEqual(['grafanaAdminPassword']);
  // A marked key with a default fails the CLI's check (the default is stored unencrypted), so it has none.
  expect(declaredByName.get('grafanaAdminPassword')?.default).toBeUndefined();
  for (const key of ['kubeconfig', 'remoteWriteUsername', 'remoteWritePassword', 'remoteWriteToken']) {
    expect({ key, secretValue: STACK_CONFIG_KEYS[key]?.secretValue, says: declaredByName.get(key)?.description?.includes('--secret') }).toEqual({
      key,
      secretValue: true,
      says: true,
    });
  }
});

test('each declaration is one Pulumi accepts, described, with a default that leaves the schema default in place', () => {
  const rows = [...declaredByName].map(([key, d]) => ({
    key,
    described: (d.description ?? '').length > 10,
    // project.go Validate: an array declares its items; a default has the declared type
    items: d.items,
    defaultKind: d.default === undefined ? undefined : Array.isArray(d.default) ? 'array' : typeof d.default,
  }));
  expect(rows).toEqual(
    [...declaredByName].map(([key, d]) => ({
      key,
      described: true,
      items: d.type === 'array' ? { type: 'object' } : undefined,
      defaultKind: key === 'grafanaAdminPassword' ? undefined : d.type,
    })),
  );
  // A key without a default is required on every stack (config.go mergeConfig): only the marked secret is.
  expect([...declaredByName].filter(([, d]) => d.default === undefined).map(([k]) => k)).toEqual(['grafanaAdminPassword']);
  // The defaults the CLI injects are neutral: "" (unset) for strings, {} for sections, and the schema's own tests.
  const defaults = Object.fromEntries([...declaredByName].filter(([k]) => k !== 'tests').map(([k, d]) => [k, d.default]));
  expect(defaults).toEqual({
    environment: '',
    namespaces: {},
    monitoring: {},
    runner: {},
    network: {},
    kubeconfig: '',
    context: '',
    grafanaAdminPassword: undefined,
    remoteWriteUsername: '',
    remoteWritePassword: '',
    remoteWriteToken: '',
  });
  expect(declaredByName.get('tests')?.default).toEqual(defaultTests);
});
