import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { ROOT, stackFileConfig } from './harness';

/**
 * How `pulumi up` loads the program, checked without the Pulumi CLI (which CI cannot install): Pulumi.yaml's runtime
 * options, and infra/ loaded by plain node with those node args and the config in PULUMI_CONFIG, the environment
 * variable the Node.js language host passes it in. No engine runs, so no resource is created: this proves the module
 * graph loads as Pulumi loads it (CommonJS `require('infra/')` under tsx) and that stack config reaches validation.
 */

interface PulumiYaml {
  name: string;
  main: string;
  runtime: { name: string; options: { typescript: boolean; nodeargs: string } };
}

const project = YAML.parse(readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8')) as PulumiYaml;

/** Runs `node <nodeargs> -e <script>` in the repository root as the dev stack; returns exit status and output. */
function loadEntrypoint(config: Record<string, string>, script: string): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [...project.runtime.options.nodeargs.split(' '), '-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PULUMI_NODEJS_PROJECT: project.name, PULUMI_NODEJS_STACK: 'dev', PULUMI_CONFIG: JSON.stringify(config) },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { status: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

test('Pulumi.yaml: project k6platform, program infra/, run by node with tsx', () => {
  expect(project.name).toBe('k6platform');
  expect(project.main).toBe('infra/');
  expect(project.runtime).toEqual({ name: 'nodejs', options: { typescript: false, nodeargs: '--import tsx', packagemanager: 'npm' } });
});

test('infra/ loads under those node args and exports exactly the stack outputs', () => {
  // GIVEN the dev stack file plus the secret
  const config = { ...stackFileConfig('dev'), 'k6platform:grafanaAdminPassword': 'x' };
  // WHEN
  const r = loadEntrypoint(config, `console.log(JSON.stringify(Object.keys(require('./${project.main}'))))`);
  // THEN
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect((JSON.parse(r.stdout.trim().split('\n').pop()!) as string[]).sort()).toEqual([
    'environment',
    'grafanaPortForwardCommand',
    'grafanaUrl',
    'namespaces',
    'prometheusPortForwardCommand',
    'remoteWriteUrl',
    'runCommands',
  ]);
});

test('config passed the way the language host passes it is validated: an unknown key stops the program, named', () => {
  // GIVEN
  const config = { ...stackFileConfig('dev'), 'k6platform:grafanaAdminPassword': 'x', 'k6platform:bogus': '1' };
  // WHEN
  const r = loadEntrypoint(config, `require('./${project.main}')`);
  // THEN
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(
    "Invalid Pulumi.dev.yaml (1 problem):\n  - 'k6platform:bogus' is not a known setting (allowed here: k6platform:environment, k6platform:namespaces, k6platform:monitoring, k6platform:runner, k6platform:network, k6platform:tests)",
  );
});
