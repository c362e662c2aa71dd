import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { synthesize } from '../src/output/synth';
import { helmBundle } from '../src/output/helm-bundle';
import { parsePlatformConfig } from '../src/config/platform-config';
import { HelmWorkspace, ROOT } from './helm-support';

/**
 * values.schema.json, checked by the real helm: `helm template` (as `helm install`) refuses a bad value before
 * rendering anything, and its message names the field and the rule, which comes from the config schema.
 */

let ws: HelmWorkspace;
let chart: string;

beforeAll(() => {
  ws = new HelmWorkspace();
  const outDir = path.join(ws.dir, 'dist');
  synthesize({ rootDir: ROOT, outDir, environments: ['dev', 'prod'] });
  chart = ws.chartWithStub(path.join(outDir, 'chart'));
});

afterAll(() => ws.remove());

const template = (set: string) =>
  ws.run(['template', 'rel', chart, '-f', path.join(chart, 'values-prod.yaml'), '--namespace', 'monitoring', '--set', set]);
const SCHEMA_ERROR = "values don't meet the specifications of the schema(s) in the following chart(s):\nk6-platform:\n";

test.each([
  ['loadTestNamespace.name=Load_Tests', "- loadTestNamespace.name: Does not match pattern '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'"],
  [`loadTestNamespace.name=${'n'.repeat(64)}`, '- loadTestNamespace.name: String length must be less than or equal to 63'],
  ['loadTestNamespace.create=yes', '- loadTestNamespace.create: Invalid type. Expected: boolean, given: string'],
  ['loadTestNamespce.name=k6', '- (root): Additional property loadTestNamespce is not allowed'],
  [
    'kube-prometheus-stack.fullnameOverride=Stack_1',
    "- kube-prometheus-stack.fullnameOverride: Does not match pattern '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$'",
  ],
  [
    'kube-prometheus-stack.grafana.nameOverride=-graf',
    "- kube-prometheus-stack.grafana.nameOverride: Does not match pattern '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$'",
  ],
  [
    'kube-prometheus-stack.namespaceOverride=elsewhere',
    '- kube-prometheus-stack.namespaceOverride: kube-prometheus-stack.namespaceOverride does not match: ""',
  ],
  [
    'kube-prometheus-stack.prometheus.prometheusSpec.retention=15 days',
    '- kube-prometheus-stack.prometheus.prometheusSpec.retention: Does not match pattern',
  ],
  [
    'kube-prometheus-stack.prometheus.prometheusSpec.retentionSize=45G',
    '- kube-prometheus-stack.prometheus.prometheusSpec.retentionSize: Does not match pattern',
  ],
  [
    'kube-prometheus-stack.alertmanager.enabled=maybe',
    '- kube-prometheus-stack.alertmanager.enabled: Invalid type. Expected: boolean, given: string',
  ],
  ['environment=qa', '- environment: environment must be one of the following: "dev", "prod"'],
  ['platform.objects.ConfigMap/loadTests/typo=a', '- platform.objects: Additional property ConfigMap/loadTests/typo is not allowed'],
])('--set %s is refused, naming the field', (set, message) => {
  // WHEN
  const r = template(set);
  // THEN
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(SCHEMA_ERROR);
  expect(r.stderr).toContain(message);
  expect(r.stdout).toBe('');
});

test.each([
  'loadTestNamespace.name=load-tests',
  'loadTestNamespace.create=true',
  'kube-prometheus-stack.fullnameOverride=',
  'kube-prometheus-stack.fullnameOverride=obs',
  // values the platform does not read pass through to the dependency
  'kube-prometheus-stack.prometheus.prometheusSpec.replicas=2',
  'kube-prometheus-stack.grafana.replicas=2',
])('--set %s is accepted', (set) => {
  // WHEN / THEN
  const r = template(set);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the schema has the rules of the config schema, as draft 7', () => {
  // GIVEN the schema synth wrote
  const schema = JSON.parse(readFileSync(path.join(chart, 'values.schema.json'), 'utf8')) as {
    $schema: string;
    required?: string[];
    properties: Record<string, { properties: Record<string, unknown> }>;
  };
  // THEN
  expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  expect(schema.required).toEqual(['environment', 'platform', 'loadTestNamespace', 'kube-prometheus-stack']);
  expect(schema.properties.loadTestNamespace!.properties.name).toEqual({
    type: 'string',
    maxLength: 63,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    description: 'Namespace of the test scripts and of the runs `loadtest run` applies',
  });
  // AND with monitoring off there is no dependency, so no key for it
  const off = parsePlatformConfig({
    environment: 'ext',
    monitoring: { enabled: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write' },
    runner: { remoteWriteAuth: { type: 'none' } },
  });
  const offSchema = JSON.parse(helmBundle({ config: off, manifests: [] }).get('values.schema.json')!) as { properties: Record<string, unknown> };
  expect(Object.keys(offSchema.properties)).toEqual(['environment', 'platform', 'loadTestNamespace', 'global']);
});
