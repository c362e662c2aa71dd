import type { NetworkRules } from '../network/network-rules';
import { publicIpv4 } from '../network/network-rules';
import { platformConfigSchema, type K6Extension, type ResourceRequirements } from '../config/platform-config';

/** Where runner/Dockerfile lives, relative to the repository root. */
export const RUNNER_DOCKERFILE_PATH = 'runner/Dockerfile';
/** UID of the `user` account in BuildKit's rootless image (fixed by the image). */
export const BUILDKIT_UID = 1000;
/** Component label value of the build Job's pods (the NetworkPolicy selects them). */
export const BUILD_COMPONENT = 'runner-image-build';
/**
 * Public IPv4 without private, shared, link-local (cloud metadata) and loopback ranges: the default egress destination
 * (network-rules.ts `publicIpv4()` with the default cluster ranges).
 */
export const PUBLIC_IPV4: { readonly cidr: string; readonly except: readonly string[] } = (() => {
  const b = publicIpv4();
  return { cidr: b.cidr, except: b.except ?? [] };
})();

/**
 * The Pod Security Standard "restricted" controls the BuildKit container does NOT meet, and why. Nothing else is
 * relaxed: the pod runs as UID 1000 (non-root), is not privileged, uses no host namespaces, paths or ports, mounts
 * only configMap/secret/emptyDir volumes, has no service account token, and the copy init container is fully
 * restricted. Because two of these controls are also part of "baseline" (seccomp and AppArmor), the build runs in its
 * own namespace (enforce: privileged, warn/audit: restricted), never in the restricted load-test namespace.
 */
export const BUILDKIT_RESTRICTED_EXCEPTIONS = {
  allowPrivilegeEscalation:
    'rootlesskit runs newuidmap/newgidmap (set-user-ID / file capabilities) to map the 65536 sub-UIDs of the user namespace; no_new_privs (allowPrivilegeEscalation: false) makes them fail with "newuidmap: Could not set caps" (moby/buildkit#1671)',
  capabilities:
    'all capabilities are dropped except SETUID and SETGID, which newuidmap/newgidmap need in the bounding set to write uid_map/gid_map; inside the new user namespace BuildKit gets its capabilities from the namespace, not from the container',
  seccompProfile:
    'Unconfined: the runtime default profile blocks the unshare(CLONE_NEWUSER)/mount calls rootlesskit makes to set up the user and mount namespaces',
  appArmorProfile: 'Unconfined: the runtime default AppArmor profile denies the mounts rootlesskit and the OCI worker make',
} as const;

/** The restricted-profile control names {@link BUILDKIT_RESTRICTED_EXCEPTIONS} covers, for tests and docs. */
export type RestrictedException = keyof typeof BUILDKIT_RESTRICTED_EXCEPTIONS;

/** Reference to the docker-config Secret the build Job pushes with. */
export interface PushSecretReference {
  /** Secret name (type kubernetes.io/dockerconfigjson), in the build namespace. */
  readonly name: string;
  /** Key holding the docker config JSON. @default ".dockerconfigjson" */
  readonly key?: string;
}

/** Egress the build's NetworkPolicy allows besides DNS. */
export interface BuildEgress {
  /** CIDRs of the push registry. @default - public IPv4 (`PUBLIC_IPV4`) */
  readonly registryCidrs?: readonly string[];
  /** CIDRs of the Go module proxy and the base-image registry (Docker Hub). @default - public IPv4 (`PUBLIC_IPV4`) */
  readonly upstreamCidrs?: readonly string[];
}

/** What goes into runner/Dockerfile and its build: every input that affects the image. */
export interface RunnerBuildInputs {
  /** k6 release (no leading `v`). @default versions.k6 */
  readonly k6Version?: string;
  /** xk6 extensions, each a Go module at a released version. @default - none */
  readonly extensions?: readonly K6Extension[];
  /** Go toolchain image of the builder stage. @default versions.goBuilderImage */
  readonly goBuilderImage?: string;
  /** xk6 release (no leading `v`). @default versions.xk6 */
  readonly xk6Version?: string;
  /** Repository of the official k6 image the binary is copied onto. @default versions.k6Image */
  readonly k6ImageRepository?: string;
  /** Go module proxy (GOPROXY). @default "https://proxy.golang.org" */
  readonly goProxy?: string;
}

/** Props of {@link RunnerImage}. */
export interface RunnerImageProps extends RunnerBuildInputs {
  /**
   * Image runners use when no extensions are declared; it must not be set together with `extensions`.
   * @default - the official image at `k6Version`
   */
  readonly image?: string;
  /** Registry the built image is pushed to (host[:port], no scheme). Required with `extensions`. @example "registry.example.com" */
  readonly registry?: string;
  /** Repository of the built image inside `registry`. Required with `extensions`. @example "load-testing/k6" */
  readonly repository?: string;
  /** Docker-config Secret with push credentials, in `namespace`. Required for in-cluster builds with `extensions`. */
  readonly pushSecret?: PushSecretReference;
  /** Requests and limits of the BuildKit container. @default - 1 CPU / 2Gi requested, 2 CPU / 4Gi limit, 10Gi ephemeral storage */
  readonly builderResources?: ResourceRequirements;
  /** Namespace of the build objects. @default "k6-build" */
  readonly namespace?: string;
  /** Create the build namespace (with its Pod Security labels). @default true */
  readonly createNamespace?: boolean;
  /** Build in the cluster (BuildKit Job) or on the operator's machine (Pulumi). @default "in-cluster" */
  readonly build?: 'in-cluster' | 'local';
  /** Egress allowed to the build besides DNS. @default - public IPv4 on the registry port and 443 */
  readonly egress?: BuildEgress;
  /** BuildKit rootless image of the build Job. @default versions.buildkitImage */
  readonly builderImage?: string;
  /** Cluster ranges and DNS pods for the build's NetworkPolicy (network-rules.ts). @default - DEFAULT_CLUSTER_CIDRS, kube-system/kube-dns */
  readonly network?: NetworkRules;
}

/** The platform config's `runner` section with its schema defaults applied: the build's defaults come from there. */
const RUNNER_CONFIG_DEFAULTS = platformConfigSchema.shape.runner.parse({});
/** Go module proxy when none is given (the schema's `runner.goProxy` default). */
export const DEFAULT_GO_PROXY: string = RUNNER_CONFIG_DEFAULTS.goProxy;
/** Requests and limits of the BuildKit container when none are given (the schema's `runner.builderResources` default). */
export const DEFAULT_BUILDER_RESOURCES: ResourceRequirements = RUNNER_CONFIG_DEFAULTS.builderResources;
/** Namespace of the in-cluster build when none is given (the schema's `runner.buildNamespace` default). */
export const DEFAULT_BUILD_NAMESPACE: string = RUNNER_CONFIG_DEFAULTS.buildNamespace;
