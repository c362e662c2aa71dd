/**
 * The real {@link RunCluster}: @kubernetes/client-node against the current kube-context. Kept out of the import graph
 * of tests (the CLI loads it lazily), so tests need neither a cluster nor the ESM-only client in jest.
 */
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { CrdInfo, KubeObject, RunCluster, TestRunInfo } from './cluster';
import { connectionHint, loadKubeConfig } from './kube-config';

/** Field manager of server-side apply. */
export const FIELD_MANAGER = 'loadtest';

/**
 * Connects to the current kube-context (`KUBECONFIG` or ~/.kube/config, or the in-cluster service account), optionally
 * another named context. Every call's error names what failed; one that never reached the API server says how to
 * check the context (cli/cluster/kube-config.ts).
 */
export function connectCluster(context?: string): RunCluster {
  const { kc } = loadKubeConfig(context);
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`loadtest: no cluster in kube-context '${kc.getCurrentContext()}'; check KUBECONFIG or --context`);
  const fail = (what: string, e: unknown): Error =>
    new Error(`loadtest: ${what} failed: ${connectionHint(e, kc.getCurrentContext(), cluster.server) ?? apiErrorMessage(e)}`);
  const guarded = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (e) {
      throw fail(what, e);
    }
  };
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
        await guarded(`applying ${obj.kind}/${obj.metadata.name ?? '?'}`, () =>
          objects.patch(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
        );
      }
    },
    async listJobs(namespace, labelSelector) {
      return (await guarded(`listing Jobs in ${namespace}`, () => batch.listNamespacedJob({ namespace, labelSelector }))).items;
    },
    async listPods(namespace, labelSelector) {
      return (await guarded(`listing pods in ${namespace}`, () => core.listNamespacedPod({ namespace, labelSelector }))).items;
    },
    async deleteJobs(namespace, labelSelector) {
      await guarded(`deleting Jobs in ${namespace}`, () =>
        batch.deleteCollectionNamespacedJob({ namespace, labelSelector, propagationPolicy: 'Background' }),
      );
    },
    async readCrd(name) {
      try {
        return (await crds.readCustomResourceDefinition({ name })) as CrdInfo;
      } catch (e) {
        if (statusCode(e) === 404) return undefined;
        throw fail(`reading CustomResourceDefinition ${name}`, e);
      }
    },
    async getTestRun(namespace, name) {
      try {
        return (await custom.getNamespacedCustomObject({ ...testRuns, namespace, name })) as TestRunInfo;
      } catch (e) {
        if (statusCode(e) === 404) return undefined;
        throw fail(`reading TestRun ${namespace}/${name}`, e);
      }
    },
    async deleteTestRun(namespace, name) {
      try {
        await custom.deleteNamespacedCustomObject({ ...testRuns, namespace, name, propagationPolicy: 'Background' });
      } catch (e) {
        if (statusCode(e) !== 404) throw fail(`deleting TestRun ${namespace}/${name}`, e);
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
