/**
 * The few cluster operations `loadtest run` needs, as small interfaces of our own. The real implementation
 * (cli/cluster/kube.ts) wraps @kubernetes/client-node; tests drive these with scripted state sequences, so the run/follow
 * logic is exercised without a cluster. The object shapes are structural subsets of client-node's V1Job / V1Pod, so
 * the adapter passes the library's objects through unchanged.
 */
import type { KubeObject as PackageKubeObject } from '@k6-platform/constructs/internal';

/** Where a pod finds its service account token: the in-cluster kubeconfig when no other is found (client-node's path). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * A Kubernetes object as built by cdk8s (`ApiObject.toJson()`): the package's type, with the labels typed because a run
 * selects its objects by them.
 */
export type KubeObject = PackageKubeObject & { readonly metadata: { readonly labels?: Readonly<Record<string, string>> } };

/** One condition of a Job (`Complete`, `Failed`, `Suspended`, ...). */
export interface JobCondition {
  readonly type: string;
  readonly status: string;
  /** e.g. `DeadlineExceeded`, `BackoffLimitExceeded`, `PodFailurePolicy`. */
  readonly reason?: string;
  readonly message?: string;
}

/** The parts of a batch/v1 Job the follower reads. */
export interface JobInfo {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: { readonly parallelism?: number; readonly completions?: number };
  readonly status?: {
    readonly active?: number;
    readonly ready?: number;
    readonly succeeded?: number;
    readonly failed?: number;
    readonly conditions?: readonly JobCondition[];
  };
}

/**
 * The parts of a v1 Pod the follower reads (Kubernetes core/v1 PodStatus, ContainerStatus and
 * ContainerStateTerminated: `ready`, `exitCode`, `reason` such as OOMKilled, `message` from the termination log).
 */
export interface PodInfo {
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly status?: {
    /** `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`. */
    readonly phase?: string;
    readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
    readonly containerStatuses?: readonly {
      readonly name: string;
      readonly ready?: boolean;
      readonly state?: {
        readonly terminated?: { readonly exitCode: number; readonly reason?: string; readonly message?: string };
        readonly waiting?: { readonly reason?: string; readonly message?: string };
      };
    }[];
  };
}

/** Creates or updates objects (server-side apply, field manager `loadtest`). */
export interface Applier {
  /** Applies the objects in the given order; rejects on the first failure. */
  apply(objects: readonly KubeObject[]): Promise<void>;
}

/** Reads and removes the Jobs of a run. */
export interface JobClient {
  /** Jobs in `namespace` matching the label selector. */
  listJobs(namespace: string, labelSelector: string): Promise<readonly JobInfo[]>;
  /** Deletes the Jobs matching the selector, with their pods (background propagation). */
  deleteJobs(namespace: string, labelSelector: string): Promise<void>;
}

/** Reads the Pods of a run. */
export interface PodLister {
  /** Pods in `namespace` matching the label selector. */
  listPods(namespace: string, labelSelector: string): Promise<readonly PodInfo[]>;
}

/** The parts of a k6-operator `TestRun` (k6.io/v1alpha1) the operator follower reads. */
export interface TestRunInfo {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: { readonly parallelism?: number };
  readonly status?: {
    /** `initialization`, `initialized`, `created`, `started`, `stopped`, `finished` or `error` (empty before the first). */
    readonly stage?: string;
    readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
  };
}

/** An OpenAPI v3 schema node of a CRD version, as far as the checks walk it. */
export interface CrdSchema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, CrdSchema>>;
}

/** The parts of an apiextensions.k8s.io/v1 CustomResourceDefinition the operator check reads. */
export interface CrdInfo {
  readonly metadata?: { readonly name?: string };
  readonly spec?: {
    readonly group?: string;
    readonly versions?: readonly {
      readonly name: string;
      readonly served?: boolean;
      readonly storage?: boolean;
      readonly schema?: { readonly openAPIV3Schema?: CrdSchema };
    }[];
  };
}

/** Reads what mode "operator" needs: the TestRun CRD and TestRuns, and removes a TestRun. */
export interface OperatorClient {
  /** The cluster-scoped CustomResourceDefinition `name` (e.g. `testruns.k6.io`), or `undefined` when there is none. */
  readCrd(name: string): Promise<CrdInfo | undefined>;
  /** The TestRun (k6.io/v1alpha1 `testruns`) `name` in `namespace`, or `undefined` when there is none. */
  getTestRun(namespace: string, name: string): Promise<TestRunInfo | undefined>;
  /** Deletes the TestRun; the operator's Jobs, pods and Services go with it (owner references, background propagation). */
  deleteTestRun(namespace: string, name: string): Promise<void>;
}

/**
 * Everything `loadtest run` needs from a cluster. It never talks to a runner directly: the runners' NetworkPolicy admits
 * k6 REST API calls only from pods of the run (the stop Job), not from the control plane's pod proxy.
 */
export interface RunCluster extends Applier, JobClient, PodLister, OperatorClient {
  /** Human-readable name of the target (kube-context and API server) for messages. */
  readonly description: string;
}
