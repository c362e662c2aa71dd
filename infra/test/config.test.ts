import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as YAML from 'yaml';
import { PlatformConfigError } from '../../constructs/src/config/platform-config';
import { loadEnvironmentConfig } from '../../constructs/src/output/synth';
import { readStackConfig } from '../config';
import { applyProjectConfig, isWireSecret, mockStack, stackFileConfig, toCliConfig, valueOf } from './harness';

/**
 * Bad stack config: each error names the key as `k6platform:<path>`, and for platform settings the message is exactly
 * the one synth gives for the same Pulumi.<stack>.yaml.
 */

type Program = typeof import('../stack');

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'infra-config-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The error `fn` throws (fails the test when it does not throw). */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Writes a stack file with `config` and returns synth's error for it. */
function synthError(stack: string, config: Record<string, unknown>): Error {
  writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), YAML.stringify({ config }));
  return errorOf(() => loadEnvironmentConfig(root, stack));
}

const SECRET = { 'k6platform:grafanaAdminPassword': 's3cret' };

/** Reads `entries` as the program does: through the Pulumi runtime's config, with Pulumi.yaml's defaults applied. */
function readEntries(stack: string, entries: Record<string, string>): ReturnType<typeof readStackConfig> {
  const secretKeys = Object.keys(entries).filter((k) => k in SECRET || /:(kubeconfig|remoteWrite\w+)$/.test(k));
  pulumi.runtime.setAllConfig(applyProjectConfig(stack, entries, secretKeys), secretKeys);
  return readStackConfig(stack);
}

describe('platform settings: same message as synth, naming the key', () => {
  test.each([
    [
      'an unknown stack config key',
      'dev',
      { 'k6platform:retention': '30d' },
      `'k6platform:retention' is not a known setting (allowed here: k6platform:environment, k6platform:namespaces, k6platform:monitoring, k6platform:runner, k6platform:network, k6platform:tests)`,
    ],
    [
      'a chart version that is not semver',
      'staging',
      { 'k6platform:monitoring': { chart: { version: 'v88.5.3' } } },
      `'k6platform:monitoring.chart.version' must be a semantic version such as "88.5.3" (no leading "v"), got "v88.5.3"`,
    ],
    [
      'an environment name that is not DNS-safe',
      'prod',
      { 'k6platform:environment': 'Prod_EU' },
      `'k6platform:environment' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "Prod_EU"`,
    ],
    [
      'an unknown nested key',
      'dev',
      { 'k6platform:monitoring': { prometheus: { retension: '30d' } } },
      `'k6platform:monitoring.prometheus.retension' is not a known setting (allowed here: retention, retentionSize, storage, resources)`,
    ],
  ])('%s', (_what, stack, config, problem) => {
    // GIVEN the same stack config seen by Pulumi (CLI form) and by synth (the file)
    const entries = { ...toCliConfig(config), ...SECRET };
    // WHEN
    const pulumiError = errorOf(() => readEntries(stack, entries));
    const synth = synthError(stack, config);
    // THEN
    expect(pulumiError).toBeInstanceOf(PlatformConfigError);
    expect(pulumiError.message).toBe(`Invalid Pulumi.${stack}.yaml (1 problem):\n  - ${problem}`);
    expect(pulumiError.message).toBe(synth.message);
  });

  test('a stack whose NAME is not DNS-safe names the environment key, like synth', () => {
    // WHEN the environment defaults to a stack name that cannot be a label value
    const e = errorOf(() => readEntries('Dev_1', { ...SECRET }));
    // THEN
    expect(e.message).toBe(
      `Invalid Pulumi.Dev_1.yaml (1 problem):\n  - 'k6platform:environment' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "Dev_1"`,
    );
    expect(e.message).toBe(synthError('Dev_1', {}).message);
  });
});

describe('stack config that only the Pulumi path sees as strings', () => {
  test('a JSON value that does not parse names the key, not the value', () => {
    // WHEN `pulumi config set --path` was skipped and a broken JSON string was set instead
    const e = errorOf(() => readEntries('dev', { ...SECRET, 'k6platform:runner': '{"pushInterval": "10s"' }));
    // THEN
    expect(e.message).toBe(
      `Invalid Pulumi.dev.yaml (1 problem):\n  - 'k6platform:runner' must be valid JSON (a value starting with "{" or "[" is read as JSON): it breaks at character 22`,
    );
  });

  test('a key in a misspelt namespace is an error, as in synth', () => {
    // GIVEN
    const config = { 'k6platfrom:tests': [{ name: 'a', script: 'sample.js' }] };
    // WHEN
    const pulumiError = errorOf(() => readEntries('dev', { ...toCliConfig(config), ...SECRET }));
    // THEN
    expect(pulumiError.message).toBe(
      `Invalid Pulumi.dev.yaml (1 problem):\n  - 'k6platfrom:tests' is in an unknown config namespace "k6platfrom" (did you mean 'k6platform:tests'?); known namespaces: k6platform, kubernetes, docker-build, pulumi`,
    );
    expect(pulumiError.message).toBe(synthError('dev', config).message);
  });
});

describe('secrets', () => {
  test('a missing Grafana admin password: the CLI stops first (declared secret), the program names the key and the command', () => {
    // GIVEN the committed dev stack file and no `pulumi config set --secret`
    // THEN the CLI refuses the stack (Pulumi.yaml declares the key without a default)
    expect(errorOf(() => readEntries('dev', stackFileConfig('dev'))).message).toBe("Stack 'dev' is missing configuration 'grafanaAdminPassword'");
    // AND a run without the CLI's check (the Automation API with inline config) gets the program's own message
    pulumi.runtime.setAllConfig(stackFileConfig('dev'));
    const e = errorOf(() => readStackConfig('dev'));
    expect(e).toBeInstanceOf(PlatformConfigError);
    expect(e.message).toBe(
      "Invalid Pulumi.dev.yaml (1 problem):\n  - 'k6platform:grafanaAdminPassword' is required (a secret: Secret 'monitoring/grafana-admin' key 'admin-password'); " +
        'set it with `pulumi config set --secret grafanaAdminPassword <value>`',
    );
  });

  test('missing remote-write credentials are all reported together', () => {
    // GIVEN basic auth configured, but neither credential set
    const runner = { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'user' }, password: { name: 'rw', key: 'pass' } } };
    // WHEN
    const e = errorOf(() => readEntries('dev', { ...toCliConfig({ 'k6platform:runner': runner }), ...SECRET }));
    // THEN
    expect(e.message).toBe(
      'Invalid Pulumi.dev.yaml (2 problems):\n' +
        "  - 'k6platform:remoteWriteUsername' is required (a secret: Secret 'k6/rw' key 'user'); set it with `pulumi config set --secret remoteWriteUsername <value>`\n" +
        "  - 'k6platform:remoteWritePassword' is required (a secret: Secret 'k6/rw' key 'pass'); set it with `pulumi config set --secret remoteWritePassword <value>`",
    );
  });

  test('a bearer token is required only when bearer auth is configured; monitoring off makes no Grafana Secret', async () => {
    // GIVEN external monitoring with a bearer token
    const entries = toCliConfig({
      'k6platform:monitoring': { enabled: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write' },
      'k6platform:runner': { remoteWriteAuth: { type: 'bearer', token: { name: 'rw-token', key: 'token' } } },
      'k6platform:remoteWriteToken': 'tok',
    });
    // THEN the CLI still asks for the Grafana password (Pulumi.yaml marks it secret, so every stack of this project sets it)
    expect(errorOf(() => readEntries('dev', entries)).message).toBe("Stack 'dev' is missing configuration 'grafanaAdminPassword'");
    // WHEN it is set
    const c = readEntries('dev', { ...entries, ...SECRET });
    // THEN the program makes no Secret of it: only the token is read
    expect(Object.keys(c.secrets)).toEqual(['remoteWriteToken']);
    expect(await pulumi.isSecret(c.secrets.remoteWriteToken!)).toBe(true);
    expect(await valueOf(c.secrets.remoteWriteToken!)).toBe('tok');
  });

  test('kubeconfig is kept secret; context is plain', async () => {
    const entries = { ...SECRET, 'k6platform:kubeconfig': 'apiVersion: v1', 'k6platform:context': 'kind-k6' };
    const c = readEntries('dev', entries);
    expect(await pulumi.isSecret(c.kube.kubeconfig!)).toBe(true);
    expect(await valueOf(c.kube.kubeconfig!)).toBe('apiVersion: v1');
    expect(c.kube.context).toBe('kind-k6');
    expect(c.kube.sources).toEqual({ kubeconfig: 'k6platform:kubeconfig', context: 'k6platform:context' });
  });
});

describe('the program under mocks', () => {
  test('fails to load on an unknown key, with the same message', async () => {
    // GIVEN
    const config = { ...stackFileConfig('dev'), ...SECRET, 'k6platform:grafanaPassword': 'oops' };
    await mockStack('dev', config, ['k6platform:grafanaAdminPassword']);
    // WHEN / THEN
    await jest.isolateModulesAsync(async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after setMocks
      expect(() => require('../stack')).toThrow(
        "Invalid Pulumi.dev.yaml (1 problem):\n  - 'k6platform:grafanaPassword' is not a known setting (allowed here: k6platform:environment, k6platform:namespaces, k6platform:monitoring, k6platform:runner, k6platform:network, k6platform:tests)",
      );
    });
  });

  test('creates the remote-write Secret in the load-test namespace, secret, before the charts', async () => {
    // GIVEN basic auth with both credentials set as secrets
    const runner = { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'user' }, password: { name: 'rw', key: 'pass' } } };
    const config = {
      ...stackFileConfig('dev'),
      ...toCliConfig({ 'k6platform:runner': runner }),
      ...SECRET,
      'k6platform:remoteWriteUsername': 'k6',
      'k6platform:remoteWritePassword': 'pw',
    };
    const registered = await mockStack('dev', config, ['k6platform:grafanaAdminPassword', 'k6platform:remoteWritePassword']);
    // WHEN
    await jest.isolateModulesAsync(async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after setMocks
      const program = require('../stack') as Program;
      const rw = program.platform.secrets.get('k6/rw')!;
      await Promise.all([valueOf(rw.urn), ...[...program.platform.chartGroups.values()].map((g) => valueOf(g.urn))]);
    });
    // THEN
    const secret = registered.find((r) => r.name === 'dev-k6-rw')!;
    expect(secret.inputs.metadata).toMatchObject({ name: 'rw', namespace: 'k6' });
    expect(isWireSecret(secret.inputs.stringData)).toBe(true);
    expect((secret.inputs.stringData as { value: unknown }).value).toEqual({ user: 'k6', pass: 'pw' });
    expect(registered.find((r) => r.name === 'dev-loadtests')!.dependsOn).toContain('dev-k6-rw');
  });
});
