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

/** The parts of a v1 Pod the follower reads. */
export interface PodInfo {
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly status?: {
    /** `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`. */
    readonly phase?: string;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
    readonly containerStatuses?: readonly {
      readonly name: string;
      readonly state?: {
        readonly terminated?: { readonly exitCode: number; readonly reason?: string };
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

/** Talks to k6's REST API inside a runner pod. */
export interface RunnerControl {
  /**
   * Asks the k6 process in `pod` to stop (`PATCH /v1/status` with `stopped: true`); k6 then ends the test, runs
   * teardown and flushes its metrics.
   */
  stopRunner(namespace: string, pod: string, port: number): Promise<void>;
}

/** Everything `loadtest run` needs from a cluster. */
export interface RunCluster extends Applier, JobClient, PodLister, RunnerControl {
  /** Human-readable name of the target (kube-context and API server) for messages. */
  readonly description: string;
}

/** The body of k6's stop call (`PATCH /v1/status`), as the k6 REST API documents it. */
export const K6_STOP_BODY = { data: { type: 'status', id: 'default', attributes: { stopped: true } } } as const;
