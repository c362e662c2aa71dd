import { createHash } from 'node:crypto';
import { ApiObject, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { LABELS } from '../contract/labels';
import { versions } from '../contract/versions';
import { dnsEgressRule, ipBlockPeers, publicIpv4 } from '../network/network-rules';
import type { ResourceRequirements } from '../config/platform-config';
import { BUILD_COMPONENT, BUILDKIT_UID, DEFAULT_BUILDER_RESOURCES, type RunnerImageProps } from './props';

/** The in-cluster build objects {@link buildInCluster} creates. */
export interface InClusterBuild {
  /** ServiceAccount of the build pod (no token mounted). */
  readonly serviceAccount: k8s.KubeServiceAccount;
  /** ConfigMap holding the Dockerfile. */
  readonly configMap: k8s.KubeConfigMap;
  /** NetworkPolicy of the build pod. */
  readonly networkPolicy: k8s.KubeNetworkPolicy;
  /** The BuildKit Job (its spec built with the typed classes). */
  readonly buildJob: ApiObject;
  /** Name of the build Job. */
  readonly buildJobName: string;
}

/** What the in-cluster build is made from. */
export interface InClusterBuildInputs {
  /** The validated RunnerImage props. */
  readonly props: RunnerImageProps;
  /** Namespace of the build objects. */
  readonly namespace: string;
  /** Content-hash tag of the image. */
  readonly tag: string;
  /** The image reference the build pushes. */
  readonly imageRef: string;
  /** Dockerfile text. */
  readonly dockerfile: string;
  /** Build args of the Dockerfile. */
  readonly buildArgs: Readonly<Record<string, string>>;
}

const SERVICE_ACCOUNT_NAME = 'k6-runner-build';
const labels = { [LABELS.component]: BUILD_COMPONENT };

export function meta(ns: string, name: string, annotations?: Record<string, string>): k8s.ObjectMeta {
  return { name, namespace: ns, labels, ...(annotations !== undefined ? { annotations } : {}) };
}

/** Creates the Namespace (when asked), ServiceAccount, Dockerfile ConfigMap, NetworkPolicy and BuildKit Job in `scope`. */
export function buildInCluster(scope: Construct, inputs: InClusterBuildInputs): InClusterBuild {
  const { props, namespace: ns } = inputs;
  const hash = inputs.tag.slice(inputs.tag.lastIndexOf('-') + 1);
  if (props.createNamespace ?? true) buildNamespace(scope, ns);
  const serviceAccount = buildServiceAccount(scope, ns);
  const configMap = new k8s.KubeConfigMap(scope, 'Context', {
    metadata: meta(ns, `k6-runner-context-${hash}`),
    immutable: true,
    data: { Dockerfile: inputs.dockerfile },
  });
  const networkPolicy = buildNetworkPolicy(scope, ns, props);
  const spec = buildJobSpec(inputs, `k6-runner-context-${hash}`);
  const { buildJob, buildJobName } = buildkitJobObject(scope, ns, 'k6-runner-build', spec, inputs.imageRef);
  return { serviceAccount, configMap, networkPolicy, buildJob, buildJobName };
}

/** The objects every in-cluster build shares: the Namespace (when asked), the ServiceAccount and the NetworkPolicy. */
export function buildSupport(
  scope: Construct,
  ns: string,
  props: RunnerImageProps,
): { serviceAccount: k8s.KubeServiceAccount; networkPolicy: k8s.KubeNetworkPolicy } {
  if (props.createNamespace ?? true) buildNamespace(scope, ns);
  return { serviceAccount: buildServiceAccount(scope, ns), networkPolicy: buildNetworkPolicy(scope, ns, props) };
}

function buildServiceAccount(scope: Construct, ns: string): k8s.KubeServiceAccount {
  return new k8s.KubeServiceAccount(scope, 'ServiceAccount', { metadata: meta(ns, SERVICE_ACCOUNT_NAME), automountServiceAccountToken: false });
}

/**
 * The BuildKit Job of `spec`, named `<prefix>-<hash of the spec>`. A Job's pod template is immutable: the name hashes
 * the whole spec (image tag included), so any change (builder resources, push Secret, builder image) makes a new Job
 * while unchanged inputs re-apply the same, completed one.
 */
export function buildkitJobObject(
  scope: Construct,
  ns: string,
  prefix: string,
  spec: k8s.JobSpec,
  imageRef: string,
): { buildJob: ApiObject; buildJobName: string } {
  const json = JSON.stringify(spec, (_k, v: unknown) => (v instanceof k8s.Quantity ? v.value : v === BUILDKIT_SECURITY ? BUILDKIT_SECURITY_JSON : v));
  const buildJobName = `${prefix}-${createHash('sha256').update(json).digest('hex').slice(0, 12)}`;
  // A plain ApiObject around the typed spec: the typed KubeJob re-types its output on synth and so would drop the
  // patched appArmorProfile.
  const buildJob = new ApiObject(scope, 'BuildJob', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(ns, buildJobName, { 'k6.platform/image': imageRef }),
    spec: k8s.toJson_JobSpec(spec),
  });
  buildJob.addJsonPatch(JsonPatch.replace('/spec/template/spec/containers/0/securityContext', sortedKeys(BUILDKIT_SECURITY_JSON)));
  return { buildJob, buildJobName };
}

function buildNamespace(scope: Construct, ns: string): k8s.KubeNamespace {
  return new k8s.KubeNamespace(scope, 'Namespace', {
    metadata: {
      name: ns,
      labels: {
        // The builder cannot meet "restricted" (nor "baseline": seccomp and AppArmor Unconfined), so this namespace
        // holds only the build; warn/audit keep the exception visible. See BUILDKIT_RESTRICTED_EXCEPTIONS.
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'latest',
      },
    },
  });
}

function buildNetworkPolicy(scope: Construct, ns: string, props: RunnerImageProps): k8s.KubeNetworkPolicy {
  const registryPort = Number(/:(\d+)$/.exec(props.registry!)?.[1] ?? '443');
  // One rule set with the runners (network-rules.ts): DNS to the cluster DNS pods only; IP blocks without link-local,
  // loopback and (unless named) the cluster's own ranges.
  const network = props.network ?? {};
  const blocks = (cidrs: readonly string[] | undefined): k8s.NetworkPolicyPeer[] =>
    cidrs === undefined ? [{ ipBlock: publicIpv4(network) }] : ipBlockPeers(cidrs, network);
  return new k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata: meta(ns, 'k6-runner-build'),
    spec: {
      podSelector: { matchLabels: labels },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        dnsEgressRule(network),
        { to: blocks(props.egress?.registryCidrs), ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(registryPort) }] },
        { to: blocks(props.egress?.upstreamCidrs), ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(443) }] },
      ],
    },
  });
}

function quantities(r: ResourceRequirements): k8s.ResourceRequirements {
  const map = (l: Readonly<Record<string, string | undefined>> | undefined) =>
    l === undefined
      ? undefined
      : Object.fromEntries(Object.entries(l).flatMap(([k, v]) => (v === undefined ? [] : [[k, k8s.Quantity.fromString(v)]])));
  const requests = map(r.requests);
  const limits = map(r.limits);
  return { ...(requests !== undefined ? { requests } : {}), ...(limits !== undefined ? { limits } : {}) };
}

/** The fully restricted security context of the copy init container. */
const RESTRICTED: k8s.SecurityContext = {
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: BUILDKIT_UID,
  runAsGroup: BUILDKIT_UID,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The explicit, narrow exception to the restricted profile: exactly BUILDKIT_RESTRICTED_EXCEPTIONS (AppArmor below). */
const BUILDKIT_SECURITY: k8s.SecurityContext = {
  allowPrivilegeEscalation: true,
  privileged: false,
  runAsNonRoot: true,
  runAsUser: BUILDKIT_UID,
  runAsGroup: BUILDKIT_UID,
  capabilities: { drop: ['ALL'], add: ['SETUID', 'SETGID'] },
  seccompProfile: { type: 'Unconfined' },
};
/**
 * {@link BUILDKIT_SECURITY} with `appArmorProfile` (Kubernetes 1.30), a field newer than the typed classes of
 * cdk8s-plus-27: the Job is built typed and this whole context is patched in (keys sorted, as cdk8s writes objects).
 */
const BUILDKIT_SECURITY_JSON = { ...BUILDKIT_SECURITY, appArmorProfile: { type: 'Unconfined' } };

/** `value` with its object keys sorted, recursively (the order cdk8s writes objects in). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]),
  );
}

function buildkitContainer(inputs: Omit<InClusterBuildInputs, 'tag'>): k8s.Container {
  const buildArgs = Object.entries(inputs.buildArgs).flatMap(([k, v]) => ['--opt', `build-arg:${k}=${v}`]);
  return {
    name: 'buildkit',
    image: inputs.props.builderImage ?? versions.buildkitImage,
    command: ['buildctl-daemonless.sh'],
    args: [
      'build',
      '--frontend',
      'dockerfile.v0',
      '--local',
      'context=/workspace',
      '--local',
      'dockerfile=/workspace',
      ...buildArgs,
      '--output',
      `type=image,name=${inputs.imageRef},push=true`,
    ],
    env: [
      // No process sandbox (no PID namespace / procfs mount): what makes rootless BuildKit run without
      // `systempaths=unconfined` (procMount: Unmasked), which Kubernetes Pod Security forbids outright.
      { name: 'BUILDKITD_FLAGS', value: '--oci-worker-no-process-sandbox' },
      { name: 'DOCKER_CONFIG', value: '/home/user/.docker' },
    ],
    securityContext: BUILDKIT_SECURITY,
    resources: quantities(inputs.props.builderResources ?? DEFAULT_BUILDER_RESOURCES),
    volumeMounts: [
      { name: 'workspace', mountPath: '/workspace', readOnly: true },
      { name: 'docker-config', mountPath: '/home/user/.docker', readOnly: true },
      { name: 'buildkit-state', mountPath: '/home/user/.local/share/buildkit' },
    ],
  };
}

/** How a build's context reaches /workspace: its source volume and the init container's command that copies it there. */
export interface BuildContextSource {
  /** The volume mounted at /context-src. */
  readonly volume: Omit<k8s.Volume, 'name'>;
  /** Command of the init container (real files, no ConfigMap symlinks, in /workspace). */
  readonly command: string[];
  /** Size limit of the /workspace emptyDir. */
  readonly workspaceSize: string;
}

/** The Job spec of a BuildKit build whose context is `contextConfigMap` (the Dockerfile alone) or `context`. */
export function buildJobSpec(inputs: Omit<InClusterBuildInputs, 'tag'>, contextConfigMap: string, context?: BuildContextSource): k8s.JobSpec {
  const pushSecret = inputs.props.pushSecret!;
  return {
    backoffLimit: 2,
    activeDeadlineSeconds: 3600,
    template: {
      metadata: { labels },
      spec: {
        restartPolicy: 'Never',
        serviceAccountName: SERVICE_ACCOUNT_NAME,
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: BUILDKIT_UID,
          runAsGroup: BUILDKIT_UID,
          fsGroup: BUILDKIT_UID,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        initContainers: [
          {
            // BuildKit's local source sends ConfigMap symlinks (..data/...) as symlinks: copy real files first.
            name: 'context',
            image: inputs.props.builderImage ?? versions.buildkitImage,
            command: context?.command ?? ['cp', '-L', '/context-src/Dockerfile', '/workspace/Dockerfile'],
            securityContext: RESTRICTED,
            resources: quantities({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } }),
            volumeMounts: [
              { name: 'context-src', mountPath: '/context-src', readOnly: true },
              { name: 'workspace', mountPath: '/workspace' },
            ],
          },
        ],
        containers: [buildkitContainer(inputs)],
        volumes: [
          { name: 'context-src', ...(context?.volume ?? { configMap: { name: contextConfigMap } }) },
          { name: 'workspace', emptyDir: { sizeLimit: k8s.Quantity.fromString(context?.workspaceSize ?? '16Mi') } },
          {
            name: 'docker-config',
            secret: { secretName: pushSecret.name, items: [{ key: pushSecret.key ?? '.dockerconfigjson', path: 'config.json' }] },
          },
          { name: 'buildkit-state', emptyDir: {} },
        ],
      },
    },
  };
}
