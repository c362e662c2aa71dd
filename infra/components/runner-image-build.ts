import * as path from 'node:path';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '@k6-platform/constructs/internal';
import { renderRunnerDockerfile, resolveRunnerImage, runnerBuildArgs, runnerImagePropsFromConfig } from '@k6-platform/constructs/internal';

/** Arguments of {@link RunnerImageBuild}. */
export interface RunnerImageBuildArgs {
  /** The validated platform configuration of the environment (`runner.*` decides what is built). */
  readonly config: PlatformConfig;
  /** Credentials for `runner.registry`. @default - the operator's own `docker login` (~/.docker/config.json) */
  readonly registryAuth?: { readonly username: pulumi.Input<string>; readonly password: pulumi.Input<string> };
  /** Target platforms of the image. @default ["linux/amd64"] */
  readonly platforms?: readonly dockerBuild.types.enums.Platform[];
  /** Build context directory (the Dockerfile is passed inline and copies nothing from it). @default "<repo>/runner" */
  readonly contextDir?: string;
}

/**
 * The `local` runner image build: Pulumi builds runner/Dockerfile on the operator's machine (a Docker engine with
 * buildx must be available) and pushes it as the same content-addressed reference the constructs hand to the runners
 * (`resolveRunnerImage(config)`), so the runs' resources only need `dependsOn` this component.
 *
 * With no extensions, or with `runner.build: in-cluster`, it builds nothing and `imageRef` is what the runners use
 * (the official image, or the reference the in-cluster BuildKit Job pushes).
 */
export class RunnerImageBuild extends pulumi.ComponentResource {
  /** The Pulumi type token. */
  public static readonly __pulumiType = 'k6platform:index:RunnerImageBuild';

  /** The image reference runners use (tag form, equal to `resolveRunnerImage(config)`). */
  public readonly imageRef: pulumi.Output<string>;
  /** The pushed image by digest (`<ref>@sha256:…`). @default - the tag reference when nothing is built here */
  public readonly digestRef: pulumi.Output<string>;
  /** The docker-build Image. @default - undefined when nothing is built here */
  public readonly image?: dockerBuild.Image;

  public constructor(name: string, args: RunnerImageBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super(RunnerImageBuild.__pulumiType, name, {}, opts);
    const cfg = args.config;
    const ref = resolveRunnerImage(cfg);
    this.imageRef = pulumi.output(ref);
    const props = runnerImagePropsFromConfig(cfg);
    if ((props.extensions ?? []).length === 0 || cfg.runner.build !== 'local') {
      this.digestRef = pulumi.output(ref);
      this.registerOutputs({ imageRef: this.imageRef, digestRef: this.digestRef });
      return;
    }
    this.image = new dockerBuild.Image(
      `${name}-image`,
      {
        tags: [ref],
        push: true,
        dockerfile: { inline: renderRunnerDockerfile(props) },
        context: { location: args.contextDir ?? path.resolve(__dirname, '..', '..', 'runner') },
        buildArgs: runnerBuildArgs(props),
        platforms: [...(args.platforms ?? [dockerBuild.types.enums.Platform.Linux_amd64])],
        ...(args.registryAuth
          ? { registries: [{ address: cfg.runner.registry!, username: args.registryAuth.username, password: args.registryAuth.password }] }
          : {}),
      },
      { parent: this },
    );
    this.digestRef = pulumi.interpolate`${ref.slice(0, ref.lastIndexOf(':'))}@${this.image.digest}`;
    this.registerOutputs({ imageRef: this.imageRef, digestRef: this.digestRef });
  }
}
