import { k8s } from 'cdk8s-plus-27';
import { TestRunSpecStarterResourcesLimits, TestRunSpecStarterResourcesRequests, type TestRunSpecStarterResources } from '../imports/k6.io';
import type { ResourceRequirements } from '../config/platform-config';
import { STARTER_RESOURCES } from './constants';

/** The pod security context of every LoadTest pod (restricted Pod Security Standard). */
export function podSecurity(): k8s.PodSecurityContext {
  return { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
}

/** The container security context of every LoadTest container, running as `uid` (restricted Pod Security Standard). */
export function containerSecurity(uid: number): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** A requests or limits map as quantities of the type `make` builds (cdk8s-plus or an imported CRD's), unset entries dropped. */
export function quantityMap<T>(l: Readonly<Record<string, string | undefined>> | undefined, make: (v: string) => T): Record<string, T> | undefined {
  return l === undefined ? undefined : Object.fromEntries(Object.entries(l).flatMap(([k, v]) => (v === undefined ? [] : [[k, make(v)]])));
}

/** Requests and limits as cdk8s-plus quantities, unset maps left out. */
export function toResources(r: ResourceRequirements | undefined): k8s.ResourceRequirements | undefined {
  if (r === undefined) return undefined;
  const requests = quantityMap(r.requests, k8s.Quantity.fromString);
  const limits = quantityMap(r.limits, k8s.Quantity.fromString);
  return { ...(requests !== undefined ? { requests } : {}), ...(limits !== undefined ? { limits } : {}) };
}

/** {@link STARTER_RESOURCES} as the TestRun CRD types them (without it the operator uses 50m/2Mi requests, 100m/200Mi limits). */
export function testRunStarterResources(): TestRunSpecStarterResources {
  return {
    requests: quantityMap(STARTER_RESOURCES.requests, TestRunSpecStarterResourcesRequests.fromString),
    limits: quantityMap(STARTER_RESOURCES.limits, TestRunSpecStarterResourcesLimits.fromString),
  };
}

export function secretEnv(name: string, ref: { readonly name: string; readonly key: string }): k8s.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}
