import { z } from 'zod';
import { defaultK6Image, versions } from '../contract/versions';
import { remoteWriteAuth } from './monitoring';
import {
  cidrFormat,
  CONFIG_MAP_KEY,
  dnsLabel,
  dnsSubdomain,
  httpUrl,
  IMAGE_REFERENCE,
  imageDigest,
  imageReference,
  k6Duration,
  quantity,
  resources,
  semver,
} from './rules';

/**
 * The `runner` section: the image the k6 runners use (the official image, or one built with xk6 extensions and pushed
 * to a registry), their resources and remote write, and the cross-field rules deciding which image runs.
 */

// Runner image: formats of the xk6 extensions and the registry the built image is pushed to.
/** A Go module path (`github.com/grafana/xk6-faker`, `go.k6.io/xk6`): a lower-case host with a dot, then path elements. */
export const GO_MODULE_PATH = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?:\/[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*)*$/;
/** A released module version: semver with an optional leading `v` (`v0.17.0`, `1.2.3-rc.1`); never `latest` or a branch. */
export const MODULE_VERSION = /^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
/** A registry host with an optional port (`registry.example.com`, `localhost:5000`, `10.0.0.5:5000`), no scheme or path. */
export const REGISTRY_HOST = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$/;
/** A repository path inside a registry (`team/k6`), lower-case components as in an OCI reference. */
export const REPOSITORY_PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const MODULE_PATH_RULE = 'must be a Go module path such as "github.com/grafana/xk6-faker" (lower-case host with a dot, no scheme, no "@version")';
const MODULE_VERSION_RULE = 'must be a released semantic version such as "v0.4.0" ("latest", branches and commits are not reproducible)';
const REGISTRY_SCHEME_RULE = 'must be a registry host[:port] without a scheme, such as "registry.example.com" (drop the "https://")';
/** One xk6 extension to build into k6: a Go module path and a released version. */
export const k6ExtensionSchema = z.strictObject({
  /** Go module path of the extension. @example "github.com/grafana/xk6-faker" */
  module: z.string().regex(GO_MODULE_PATH, { error: MODULE_PATH_RULE }),
  /** Released version of the module. @example "v0.4.0" */
  version: z.string().regex(MODULE_VERSION, { error: MODULE_VERSION_RULE }),
});
/** One xk6 extension, as parsed. */
export type K6Extension = z.output<typeof k6ExtensionSchema>;
const registryHost = z
  .string()
  .refine((s) => !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s), { error: REGISTRY_SCHEME_RULE, abort: true })
  .regex(REGISTRY_HOST, { error: 'must be a registry host[:port] such as "registry.example.com" or "localhost:5000" (no path)' });

/**
 * Defaults of browser runners. Chromium runs beside k6 in every runner pod, one browser process per VU that launches
 * one, so such runners need far more than HTTP runners: k6's guide to browser tests in Kubernetes (grafana/k6-docs
 * docs/sources/k6/next/set-up/set-up-distributed-k6/browser-tests.md) starts from 4 CPUs and 8G per pod ("match a
 * modern desktop machine", keep utilisation under ~80%); those are the limits, half of them the requests.
 */
export const browserRunnerSchema = z.strictObject({
  /** Requests and limits of each browser runner when the test sets no `resources`. */
  resources: resources.default({ requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '4', memory: '8Gi' } }),
  /**
   * Size limit of the memory-backed emptyDir at /dev/shm (counts against the memory limit). k6 launches Chromium with
   * --disable-dev-shm-usage, so it matters when a script or K6_BROWSER_IGNORE_DEFAULT_ARGS drops that flag.
   */
  shmSize: quantity.default('1Gi'),
  /** Size limit of the /tmp emptyDir: the browser profile (k6browser-data-*) and, with --disable-dev-shm-usage, Chromium's shared memory. */
  tmpSize: quantity.default('2Gi'),
});

/** The `runner` section of the platform config: image, resources and remote write of the k6 runners. */
export const runnerConfigSchema = z.strictObject({
  /** Runner image. @default the pinned official k6 image */
  image: imageReference.default(defaultK6Image),
  resources: resources.default({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } }),
  /** How often runners push metrics (K6_PROMETHEUS_RW_PUSH_INTERVAL). */
  pushInterval: k6Duration.default('5s'),
  /** Send trends as native histograms (one series per trend instead of one per stat). */
  nativeHistograms: z.boolean().default(true),
  /**
   * Credentials for the remote-write endpoint. Required when `monitoring.remoteWriteUrl` is outside the cluster;
   * `{type: "none"}` opts out explicitly. @default - none (the in-cluster Prometheus needs none)
   */
  remoteWriteAuth: remoteWriteAuth.optional(),
  /**
   * Pin images by digest as well as by tag: `<image>:<tag>@<digest>`. Refresh with `crane digest <image>:<tag>` or
   * `docker buildx imagetools inspect <image>:<tag>` (the index digest). @default - tags only
   */
  imageDigests: z
    .strictObject({
      /** Digest of the runner image (`runner.image` or the official image at `runner.k6Version`). @default - tag only */
      k6: imageDigest.optional(),
      /** Digest of the starter image (versions.starterImage). @default - tag only */
      starter: imageDigest.optional(),
      /** Digest of the official image with Chromium at `runner.k6Version`, which tests importing `k6/browser` run. @default - tag only */
      k6WithBrowser: imageDigest.optional(),
    })
    .prefault({}),
  /** Runners of tests whose bundle imports `k6/browser` (they run the official image with Chromium). */
  browser: browserRunnerSchema.prefault({}),
  /** k6 release of the runners: the official image tag, or the k6 that xk6 builds with `extensions`. @default versions.k6 */
  k6Version: semver.default(versions.k6),
  /** xk6 extensions to build into k6; none means the official image runs, unchanged. @default - none */
  extensions: z.array(k6ExtensionSchema).default([]),
  /** Registry the built image is pushed to (host[:port], no scheme). Required with `extensions`. @example "registry.example.com" */
  registry: registryHost.optional(),
  /** Repository of the built image inside `registry`. Required with `extensions`. @example "load-testing/k6" */
  repository: z.string().regex(REPOSITORY_PATH, { error: 'must be a repository path such as "team/k6" (lower-case, "/"-separated)' }).optional(),
  /** Secret of type kubernetes.io/dockerconfigjson in `buildNamespace` with push credentials for `registry` (in-cluster builds). */
  pushSecret: z
    .strictObject({
      name: dnsSubdomain,
      key: z.string().regex(CONFIG_MAP_KEY, { error: 'must be a valid Secret key ([-._a-zA-Z0-9]+)' }).default('.dockerconfigjson'),
    })
    .optional(),
  /** Requests and limits of the BuildKit build container. */
  builderResources: resources.default({
    requests: { cpu: '1', memory: '2Gi', 'ephemeral-storage': '4Gi' },
    limits: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi' },
  }),
  /** Where the image is built: a BuildKit Job in the cluster, or Pulumi on the operator's machine (@pulumi/docker-build). @default "in-cluster" */
  build: z.enum(['in-cluster', 'local']).default('in-cluster'),
  /** Namespace of the in-cluster build (its own: the builder cannot meet the restricted profile of the load-test namespace). @default "k6-build" */
  buildNamespace: dnsLabel().default('k6-build'),
  /** Go module proxy xk6 downloads k6 and the extensions from (GOPROXY; no "direct" fallback, so no git egress). */
  goProxy: httpUrl.default('https://proxy.golang.org'),
  /** Egress the build's NetworkPolicy allows besides DNS. @default - TCP to public (non-RFC 1918) IPv4 addresses only */
  buildEgress: z
    .strictObject({
      /** CIDRs of `registry`. @default - public IPv4 */
      registryCidrs: z.array(cidrFormat).min(1).optional(),
      /** CIDRs of the Go module proxy and of the base-image registry (Docker Hub). @default - public IPv4 */
      upstreamCidrs: z.array(cidrFormat).min(1).optional(),
    })
    .prefault({}),
});

/** How the runner-image rules name a field: where the issue points, and how its message refers to another field. */
export interface RunnerFieldNames {
  /** The issue path of a field of the runner section, e.g. `['runner', 'image']`. */
  readonly path: (field: string) => PropertyKey[];
  /** A field as messages name it, e.g. `runner.extensions`. */
  readonly name: (field: string) => string;
}
/** Fields named as in the platform config: `runner.<field>`. */
export const RUNNER_CONFIG_NAMES: RunnerFieldNames = { path: (f) => ['runner', f], name: (f) => `runner.${f}` };

/** The fields of the runner section the runner-image rules read. */
export type RunnerImageFields = Pick<
  z.output<typeof runnerConfigSchema>,
  'image' | 'k6Version' | 'extensions' | 'registry' | 'repository' | 'pushSecret' | 'build' | 'buildNamespace'
>;

/** How {@link runnerImageRules} reads its input. */
export interface RunnerImageRuleOptions {
  /** How fields are named. @default RUNNER_CONFIG_NAMES */
  readonly names?: RunnerFieldNames;
  /** Whether `image` was given (props know; a parsed config only sees whether it differs from the default). @default - image differs from the default */
  readonly imageGiven?: boolean;
}

/**
 * Cross-field rules of the runner image. Which image runners use: with `extensions`, the image built from `k6Version`
 * and `extensions` (and an explicit `image` is a conflict); without, an explicit `image` if given, else the official
 * image at `k6Version` (and setting both `image` and `k6Version` is a conflict). `options.names` says how fields are
 * named (RunnerImage props name them without `runner.`, and call `buildNamespace` `namespace`).
 */
export function runnerImageRules(runner: RunnerImageFields, ctx: z.core.$RefinementCtx, options: RunnerImageRuleOptions = {}): void {
  const { path: at, name } = options.names ?? RUNNER_CONFIG_NAMES;
  const explicitImage = options.imageGiven ?? runner.image !== defaultK6Image;
  if (runner.extensions.length === 0) {
    if (explicitImage && runner.k6Version !== versions.k6) {
      ctx.addIssue({
        code: 'custom',
        path: at('k6Version'),
        input: runner.k6Version,
        message: `must not be set together with ${name('image')} (${runner.image}): the explicit image decides the k6 version; remove one`,
      });
    }
    return;
  }
  if (explicitImage) {
    ctx.addIssue({
      code: 'custom',
      path: at('image'),
      input: runner.image,
      message: `must not be set when ${name('extensions')} are declared: the image is built from ${name('k6Version')} and ${name('extensions')}; remove one`,
    });
  }
  const seen = new Map<string, number>();
  runner.extensions.forEach((e, i) => {
    const first = seen.get(e.module);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...at('extensions'), i, 'module'],
        input: e.module,
        message: `must be unique, already used by '${name('extensions')}[${first}]'`,
      });
    } else seen.set(e.module, i);
  });
  for (const key of ['registry', 'repository'] as const) {
    if (runner[key] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at(key),
        input: undefined,
        message: `must be set when ${name('extensions')} are declared (the built image is pushed there)`,
      });
    }
  }
  if (runner.build === 'in-cluster' && runner.pushSecret === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: at('pushSecret'),
      input: undefined,
      message: `must name a docker-config Secret in namespace ${runner.buildNamespace} when ${name('extensions')} are built in-cluster (the build Job pushes to ${name('registry')})`,
    });
  }
  // Only when each part is well-formed on its own: a bad part is reported by its own rule, not twice.
  const { registry, repository } = runner;
  if (
    registry !== undefined &&
    repository !== undefined &&
    REGISTRY_HOST.test(registry) &&
    REPOSITORY_PATH.test(repository) &&
    !IMAGE_REFERENCE.test(`${registry}/${repository}:tag`)
  ) {
    ctx.addIssue({
      code: 'custom',
      path: at('repository'),
      input: runner.repository,
      message: `must form an OCI image reference with ${name('registry')} (${runner.registry}/${runner.repository} does not parse)`,
    });
  }
}

/** A digest for the runner image conflicts with a built image (its digest is known only after the build) and with a digest in `runner.image`. */
export function imageDigestRules(runner: z.output<typeof runnerConfigSchema>, ctx: z.core.$RefinementCtx): void {
  browserDigestRules(runner, ctx);
  const digest = runner.imageDigests.k6;
  if (digest === undefined) return;
  const path = ['runner', 'imageDigests', 'k6'];
  if (runner.extensions.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path,
      input: digest,
      message: 'must not be set with runner.extensions: the built image is pinned by its content-hash tag, its digest is known only after the build',
    });
  } else if (runner.image.includes('@')) {
    ctx.addIssue({
      code: 'custom',
      path,
      input: digest,
      message: `must not be set when runner.image already has a digest (${runner.image}); remove one`,
    });
  }
}

/**
 * The browser image's digest pins the image tests importing `k6/browser` run: the official one at `runner.k6Version`.
 * An explicit `runner.image` runs every test (so its own digest belongs in it), and a built image has no browser.
 */
function browserDigestRules(runner: z.output<typeof runnerConfigSchema>, ctx: z.core.$RefinementCtx): void {
  const digest = runner.imageDigests.k6WithBrowser;
  if (digest === undefined) return;
  const path = ['runner', 'imageDigests', 'k6WithBrowser'];
  if (runner.extensions.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path,
      input: digest,
      message: 'must not be set with runner.extensions: the built image runs every test and has no browser',
    });
  } else if (runner.image !== defaultK6Image) {
    ctx.addIssue({
      code: 'custom',
      path,
      input: digest,
      message: `must not be set with runner.image (${runner.image}): the explicit image runs every test; pin it with runner.imageDigests.k6 or in runner.image`,
    });
  }
}
