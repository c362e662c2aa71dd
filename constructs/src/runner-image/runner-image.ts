import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { PlatformConfig } from '../config/platform-config';
import { defaultK6Image, versions } from '../contract/versions';
import { buildInCluster } from './build-job';
import { renderRunnerDockerfile, runnerBuildArgs, runnerImageTag } from './dockerfile';
import { DEFAULT_BUILD_NAMESPACE, type RunnerImageProps } from './props';
import { validateRunnerImageProps } from './validate';

export { extensionJsModule, extensionSpecs, renderRunnerDockerfile, runnerBuildArgs, runnerImageTag } from './dockerfile';
export {
  BUILD_COMPONENT,
  BUILDKIT_RESTRICTED_EXCEPTIONS,
  BUILDKIT_UID,
  PUBLIC_IPV4,
  RUNNER_DOCKERFILE_PATH,
  type BuildEgress,
  type PushSecretReference,
  type RestrictedException,
  type RunnerBuildInputs,
  type RunnerImageProps,
} from './props';
export { validateRunnerImageProps } from './validate';

/** RunnerImage props from the parsed platform config (`runner.*`). */
export function runnerImagePropsFromConfig(cfg: PlatformConfig): RunnerImageProps {
  const r = cfg.runner;
  const image =
    r.extensions.length === 0 && (r.image !== defaultK6Image || r.imageDigests.k6 !== undefined)
      ? withDigest(r.image !== defaultK6Image ? r.image : `${versions.k6Image}:${r.k6Version}`, r.imageDigests.k6)
      : undefined;
  return {
    // An image given here already names its k6 version (the explicit one, or the official image at k6Version pinned by
    // digest): passing k6Version beside it would read as "both set", which RunnerImage refuses.
    ...(image === undefined ? { k6Version: r.k6Version } : { image }),
    extensions: r.extensions,
    ...(r.registry !== undefined ? { registry: r.registry } : {}),
    ...(r.repository !== undefined ? { repository: r.repository } : {}),
    ...(r.pushSecret !== undefined ? { pushSecret: r.pushSecret } : {}),
    builderResources: r.builderResources,
    namespace: r.buildNamespace,
    build: r.build,
    goProxy: r.goProxy,
    network: cfg.network,
    egress: {
      ...(r.buildEgress.registryCidrs !== undefined ? { registryCidrs: r.buildEgress.registryCidrs } : {}),
      ...(r.buildEgress.upstreamCidrs !== undefined ? { upstreamCidrs: r.buildEgress.upstreamCidrs } : {}),
    },
  };
}

/** `<image>@<digest>` when a digest is given (`runner.imageDigests`), else the image unchanged. */
export function withDigest(image: string, digest: string | undefined): string {
  return digest === undefined ? image : `${image}@${digest}`;
}

/**
 * The image LoadTest runners use, resolved once from the config: the explicit `runner.image`, the official image at
 * `runner.k6Version`, or (with extensions) the content-addressed reference of the built image. Pure: no construct needed.
 */
export function resolveRunnerImage(cfg: PlatformConfig): string {
  const props = runnerImagePropsFromConfig(cfg);
  return imageRefOf(props);
}

function imageRefOf(props: RunnerImageProps): string {
  if ((props.extensions ?? []).length === 0) return props.image ?? `${props.k6ImageRepository ?? versions.k6Image}:${props.k6Version ?? versions.k6}`;
  return `${props.registry}/${props.repository}:${runnerImageTag(props)}`;
}

/**
 * The runner image: with no extensions just a reference to the official image; with extensions the build that
 * produces it (in-cluster: Namespace, ServiceAccount, ConfigMap with the Dockerfile, NetworkPolicy, BuildKit Job).
 *
 * Waiting for the build: with kubectl, apply the build objects first and
 * `kubectl -n <namespace> wait --for=condition=complete --timeout=30m job/<buildJobName>` before applying runs; with
 * Pulumi, make the runs' resources `dependsOn` the build's (the Kubernetes provider waits for a Job to complete).
 */
export class RunnerImage extends Construct {
  /** The reference LoadTest runners use: the official image, an explicit one, or `<registry>/<repository>:<tag>`. */
  public readonly imageRef: string;
  /** Whether an image is built (extensions declared). */
  public readonly needsBuild: boolean;
  /** Content-hash tag of the built image. @default - undefined when nothing is built */
  public readonly tag?: string;
  /** Dockerfile text of the build. @default - undefined when nothing is built */
  public readonly dockerfile?: string;
  /** Build args passed to the Dockerfile (also its ARG defaults). */
  public readonly buildArgs: Readonly<Record<string, string>>;
  /** Where the image is built. */
  public readonly build: 'in-cluster' | 'local';
  /** Namespace of the in-cluster build. */
  public readonly namespace: string;
  /** Name of the build Job (in-cluster builds), for `kubectl wait job/<name>`. @default - undefined without an in-cluster build */
  public readonly buildJobName?: string;
  /** The build Job (in-cluster builds): make runs depend on it. @default - undefined without an in-cluster build */
  public readonly buildJob?: ApiObject;
  /** ConfigMap holding the Dockerfile. @default - undefined without an in-cluster build */
  public readonly configMap?: ApiObject;
  /** NetworkPolicy of the build pod. @default - undefined without an in-cluster build */
  public readonly networkPolicy?: ApiObject;
  /** ServiceAccount of the build pod (no token mounted). @default - undefined without an in-cluster build */
  public readonly serviceAccount?: ApiObject;

  public constructor(scope: Construct, id: string, props: RunnerImageProps = {}) {
    super(scope, id);
    validateRunnerImageProps(props);
    const extensions = props.extensions ?? [];
    this.needsBuild = extensions.length > 0;
    this.build = props.build ?? 'in-cluster';
    this.namespace = props.namespace ?? DEFAULT_BUILD_NAMESPACE;
    this.buildArgs = runnerBuildArgs(props);
    this.imageRef = imageRefOf(props);
    if (!this.needsBuild) return;

    this.tag = runnerImageTag(props);
    this.dockerfile = renderRunnerDockerfile(props);
    if (this.build === 'local') return;

    const built = buildInCluster(this, {
      props,
      namespace: this.namespace,
      tag: this.tag,
      imageRef: this.imageRef,
      dockerfile: this.dockerfile,
      buildArgs: this.buildArgs,
    });
    this.serviceAccount = built.serviceAccount;
    this.configMap = built.configMap;
    this.networkPolicy = built.networkPolicy;
    this.buildJobName = built.buildJobName;
    this.buildJob = built.buildJob;
  }
}
