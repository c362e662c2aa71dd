/**
 * The real {@link RunCluster}: @kubernetes/client-node against the current kube-context. Kept out of the import graph
 * of tests (the CLI loads it lazily), so tests need neither a cluster nor the ESM-only client in jest.
 */
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { CrdInfo, KubeObject, RunCluster, TestRunInfo } from './cluster';

/** Field manager of server-side apply. */
export const FIELD_MANAGER = 'loadtest';

/**
 * Connects to the current kube-context (`KUBECONFIG` or ~/.kube/config, or the in-cluster service account), optionally
 * another named context.
 */
export function connectCluster(context?: string): RunCluster {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (context !== undefined) kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`loadtest: no cluster in kube-context '${kc.getCurrentContext()}'; check KUBECONFIG or --context`);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const crds = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const testRuns = { group: 'k6.io', version: 'v1alpha1', plural: 'testruns' } as const;

  return {
    description: `kube-context '${kc.getCurrentContext()}' (${cluster.server})`,
    async apply(list: readonly KubeObject[]) {
      for (const obj of list) {
        try {
          await objects.patch(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
        } catch (e) {
          throw new Error(`loadtest: applying ${obj.kind}/${obj.metadata.name ?? '?'} failed: ${apiErrorMessage(e)}`);
        }
      }
    },
    async listJobs(namespace, labelSelector) {
      return (await batch.listNamespacedJob({ namespace, labelSelector })).items;
    },
    async listPods(namespace, labelSelector) {
      return (await core.listNamespacedPod({ namespace, labelSelector })).items;
    },
    async deleteJobs(namespace, labelSelector) {
      await batch.deleteCollectionNamespacedJob({ namespace, labelSelector, propagationPolicy: 'Background' });
    },
    async readCrd(name) {
      try {
        return (await crds.readCustomResourceDefinition({ name })) as CrdInfo;
      } catch (e) {
        if (statusCode(e) === 404) return undefined;
        throw new Error(`loadtest: reading CustomResourceDefinition ${name} failed: ${apiErrorMessage(e)}`);
      }
    },
    async getTestRun(namespace, name) {
      try {
        return (await custom.getNamespacedCustomObject({ ...testRuns, namespace, name })) as TestRunInfo;
      } catch (e) {
        if (statusCode(e) === 404) return undefined;
        throw new Error(`loadtest: reading TestRun ${namespace}/${name} failed: ${apiErrorMessage(e)}`);
      }
    },
    async deleteTestRun(namespace, name) {
      try {
        await custom.deleteNamespacedCustomObject({ ...testRuns, namespace, name, propagationPolicy: 'Background' });
      } catch (e) {
        if (statusCode(e) !== 404) throw new Error(`loadtest: deleting TestRun ${namespace}/${name} failed: ${apiErrorMessage(e)}`);
      }
    },
  };
}

/** The HTTP status of a client-node ApiException (`code`), if the error is one. */
function statusCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function apiErrorMessage(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return e instanceof Error ? e.message : String(e);
}
