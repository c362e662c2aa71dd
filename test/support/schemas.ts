/**
 * Validates synthesized Kubernetes objects against real schemas:
 * - core and built-in API groups with kubernetes-models (the upstream OpenAPI schemas, precompiled);
 * - monitoring.coreos.com with @kubernetes-models/prometheus-operator;
 * - k6.io/v1alpha1 TestRun with the k6-operator CRD's own openAPIV3Schema (constructs/crds/k6.io_testruns.yaml),
 *   strict about unknown fields the way `kubectl apply --validate=strict` is.
 * An object of a kind with no schema here is an error: nothing passes unchecked.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import * as YAML from 'yaml';
import * as admissionV1 from 'kubernetes-models/admissionregistration.k8s.io/v1';
import * as apiextensionsV1 from 'kubernetes-models/apiextensions.k8s.io/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as coreV1 from 'kubernetes-models/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as storageV1 from 'kubernetes-models/storage.k8s.io/v1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as monitoringV1alpha1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1';

/** A manifest as synthesized (plain JSON object). */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

type ModelClass = { apiVersion: string; kind: string; new (data: unknown): { validate(): void } };

const modules: Record<string, unknown>[] = [
  admissionV1,
  apiextensionsV1,
  appsV1,
  autoscalingV2,
  batchV1,
  coreV1,
  networkingV1,
  policyV1,
  rbacV1,
  storageV1,
  monitoringV1,
  monitoringV1alpha1,
];

const models = new Map<string, ModelClass>();
for (const mod of modules) {
  for (const value of Object.values(mod)) {
    if (typeof value !== 'function') continue;
    const c = value as unknown as Partial<ModelClass>;
    if (typeof c.apiVersion === 'string' && typeof c.kind === 'string') models.set(`${c.apiVersion}/${c.kind}`, c as ModelClass);
  }
}

const repoRoot = path.resolve(__dirname, '..', '..');
/** CRDs whose own schema validates their custom resources. */
export const CRD_FILES = [path.join(repoRoot, 'constructs', 'crds', 'k6.io_testruns.yaml')];

const crdValidators = new Map<string, ValidateFunction>();
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
for (const file of CRD_FILES) {
  const crd = YAML.parse(readFileSync(file, 'utf8')) as {
    spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
  };
  for (const v of crd.spec.versions) {
    crdValidators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(strictSchema(v.schema.openAPIV3Schema, true)));
  }
}

/**
 * A CRD structural schema made strict: objects with `properties` reject unknown fields (the API server would prune or,
 * with strict field validation, reject them) unless marked `x-kubernetes-preserve-unknown-fields`; `metadata` is left
 * open at the root (the API server validates it itself).
 */
function strictSchema(schema: Record<string, unknown>, root = false): Record<string, unknown> {
  const out: Record<string, unknown> = { ...schema };
  if (schema['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (props) {
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, root && k === 'metadata' ? { type: 'object' } : strictSchema(v)]));
    if (schema.additionalProperties === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  }
  if (schema.items && typeof schema.items === 'object') out.items = strictSchema(schema.items as Record<string, unknown>);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.additionalProperties = strictSchema(schema.additionalProperties as Record<string, unknown>);
  }
  return out;
}

/** Validates one object; returns problems as readable lines (empty when valid). */
export function validateManifest(obj: Manifest): string[] {
  const id = `${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? '(unnamed)'}`;
  const crd = crdValidators.get(`${obj.apiVersion}/${obj.kind}`);
  if (crd) {
    if (crd(obj)) return [];
    return (crd.errors ?? []).map(
      (e) => `${id}: ${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? e.keyword}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
    );
  }
  const Model = models.get(`${obj.apiVersion}/${obj.kind}`);
  if (!Model) return [`${id}: no schema for ${obj.apiVersion} ${obj.kind} (add its models to test/support/schemas.ts)`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return [`${id}: ${e instanceof Error ? e.message : String(e)}`];
  }
}

/** Validates every object; returns all problems (empty when all are valid). */
export function validateManifests(objs: readonly Manifest[]): string[] {
  return objs.flatMap((o) => validateManifest(o));
}

/** Parses every document of a YAML stream (skipping empty ones). */
export function parseYamlStream(text: string): Manifest[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJSON() as Manifest | null)
    .filter((o): o is Manifest => o !== null && typeof o === 'object');
}
