/**
 * The few cluster operations `loadtest run` needs, as small interfaces of our own. The real implementation
 * (cli/kube.ts) wraps @kubernetes/client-node; tests drive these with scripted state sequences, so the run/follow
 * logic is exercised without a cluster. The object shapes are structural subsets of client-node's V1Job / V1Pod, so
 * the adapter passes the library's objects through unchanged.
 */

/** A Kubernetes object as built by cdk8s (`ApiObject.toJson()`). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [key: string]: unknown;
}

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

/**
 * Everything `loadtest run` needs from a cluster. It never talks to a runner directly: the runners' NetworkPolicy admits
 * k6 REST API calls only from pods of the run (the stop Job), not from the control plane's pod proxy.
 */
export interface RunCluster extends Applier, JobClient, PodLister {
  /** Human-readable name of the target (kube-context and API server) for messages. */
  readonly description: string;
}
