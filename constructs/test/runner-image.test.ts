import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { validate } from 'dockerfile-utils';
import * as YAML from 'yaml';
import { parsePlatformConfig, PlatformConfigError, type K6Extension } from '../src/config/platform-config';
import {
  BUILDKIT_RESTRICTED_EXCEPTIONS,
  PUBLIC_IPV4,
  renderRunnerDockerfile,
  resolveRunnerImage,
  RunnerImage,
  runnerImageTag,
  type RunnerImageProps,
} from '../src/runner-image/runner-image';
import { buildEnvironment, loadEnvironmentConfig } from '../src/output/synth';
import { versions } from '../src/contract/versions';
import { restrictedProfileViolations } from '../../test/support/pod-security';
import { validateManifests, type Manifest } from '../../test/support/schemas';

const repoRoot = path.join(__dirname, '..', '..');
/** LSP DiagnosticSeverity.Error: what validate() reports errors as (its ValidationSeverity enum is for settings). */
const LSP_ERROR = 1;
const FAKER: K6Extension = { module: 'github.com/grafana/xk6-faker', version: 'v0.4.4' };
const KAFKA: K6Extension = { module: 'github.com/mostafa/xk6-kafka', version: 'v1.0.0' };
const SQL: K6Extension = { module: 'github.com/grafana/xk6-sql', version: '1.0.5' };
const BUILD: RunnerImageProps = {
  extensions: [FAKER],
  registry: 'registry.example.com',
  repository: 'load-testing/k6',
  pushSecret: { name: 'registry-push' },
};

function synth(props: RunnerImageProps): { image: RunnerImage; objects: Manifest[] } {
  const chart = Testing.chart();
  const image = new RunnerImage(chart, 'Runner', props);
  return { image, objects: Testing.synth(chart) as Manifest[] };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('expected an error');
}

function problemsOf(input: unknown): readonly string[] {
  try {
    parsePlatformConfig(input);
  } catch (e) {
    if (e instanceof PlatformConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('runner/Dockerfile', () => {
  test('the committed runner/Dockerfile is exactly the generated one for the default pins', () => {
    // GIVEN
    const committed = readFileSync(path.join(repoRoot, 'runner', 'Dockerfile'), 'utf8');
    // THEN (regenerate: npx tsx -e 'process.stdout.write(require("./constructs/src/runner-image").renderRunnerDockerfile())' > runner/Dockerfile)
    expect(committed).toBe(renderRunnerDockerfile());
  });

  test('the linter finds errors in a broken Dockerfile (so the checks below can fail)', () => {
    const errors = validate('FROM\nCOPY\nUSER\n').filter((d) => d.severity === LSP_ERROR);
    expect(errors.map((d) => d.message)).toEqual([
      'Instruction has no arguments',
      'COPY requires at least two arguments',
      'Instruction has no arguments',
    ]);
  });

  test.each([
    ['no extensions', [] as K6Extension[], ''],
    ['one extension', [FAKER], 'github.com/grafana/xk6-faker@v0.4.4'],
    [
      'three extensions, sorted by module, "v" added',
      [SQL, KAFKA, FAKER],
      'github.com/grafana/xk6-faker@v0.4.4 github.com/grafana/xk6-sql@v1.0.5 github.com/mostafa/xk6-kafka@v1.0.0',
    ],
  ])('%s: parses with no errors or warnings, pins everything, final stage is the official image as non-root', (_name, extensions, specs) => {
    // WHEN
    const text = renderRunnerDockerfile({ extensions });
    // THEN
    // No diagnostics at all: no errors and no warnings either.
    expect(validate(text)).toEqual([]);
    expect(text).toContain(`ARG K6_EXTENSIONS="${specs}"\n`);
    expect(text).toContain(`ARG GO_IMAGE=${versions.goBuilderImage}\n`);
    expect(text).toContain(`ARG K6_IMAGE=${versions.k6Image}\n`);
    expect(text).toContain(`ARG K6_VERSION=${versions.k6}\n`);
    expect(text).toContain(`ARG XK6_VERSION=${versions.xk6}\n`);
    expect(text).toContain('RUN go install go.k6.io/xk6@v${XK6_VERSION}\n');
    expect(text).toContain('xk6 build --k6-version "v${K6_VERSION}" --output /out/k6 ${with}');
    const froms = text.split('\n').filter((l) => l.startsWith('FROM '));
    expect(froms).toEqual(['FROM ${GO_IMAGE} AS builder', 'FROM ${K6_IMAGE}:${K6_VERSION}']);
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual(['COPY --from=builder /out/k6 /usr/bin/k6', 'USER 12345:12345']);
    expect(text).not.toMatch(/latest/i);
  });
});

describe('runnerImageTag', () => {
  test('same inputs give the same tag; order and a leading "v" do not matter', () => {
    const a = runnerImageTag({ extensions: [FAKER, KAFKA] });
    expect(runnerImageTag({ extensions: [FAKER, KAFKA] })).toBe(a);
    expect(runnerImageTag({ extensions: [KAFKA, FAKER] })).toBe(a);
    expect(runnerImageTag({ extensions: [{ ...FAKER, version: '0.4.4' }, KAFKA] })).toBe(a);
    expect(a).toMatch(new RegExp(`^${versions.k6.replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
  });

  test('any change to an input gives a new tag', () => {
    const base = { extensions: [FAKER] };
    const tags = [
      runnerImageTag(base),
      runnerImageTag({ ...base, k6Version: '1.7.0' }),
      runnerImageTag({ extensions: [{ ...FAKER, version: 'v0.4.5' }] }),
      runnerImageTag({ extensions: [FAKER, KAFKA] }),
      runnerImageTag({ extensions: [{ ...FAKER, module: 'github.com/someone/xk6-faker' }] }),
      runnerImageTag({ ...base, xk6Version: '1.4.13' }),
      runnerImageTag({ ...base, goBuilderImage: 'golang:1.26.3' }),
      runnerImageTag({ ...base, goProxy: 'https://goproxy.example.com' }),
      runnerImageTag({ ...base, k6ImageRepository: 'registry.example.com/mirror/k6' }),
    ];
    expect(new Set(tags).size).toBe(tags.length);
  });
});

describe('RunnerImage', () => {
  test('defaults: no extensions, no build, the pinned official image', () => {
    // WHEN
    const { image, objects } = synth({});
    // THEN
    expect(objects).toEqual([]);
    expect(image.imageRef).toBe(`grafana/k6:${versions.k6}`);
    expect(image.needsBuild).toBe(false);
    expect(image.buildJob).toBeUndefined();
    expect(image.tag).toBeUndefined();
  });

  test('no extensions: k6Version picks the official tag, an explicit image wins', () => {
    expect(synth({ k6Version: '1.6.0' }).image.imageRef).toBe('grafana/k6:1.6.0');
    expect(synth({ image: 'mirror.example.com/grafana/k6:1.7.1' }).image.imageRef).toBe('mirror.example.com/grafana/k6:1.7.1');
  });

  test('extensions, local build: nothing in the cluster, the content-addressed reference for Pulumi to build', () => {
    // WHEN
    const { image, objects } = synth({ ...BUILD, build: 'local', pushSecret: undefined });
    // THEN
    expect(objects).toEqual([]);
    expect(image.imageRef).toBe(`registry.example.com/load-testing/k6:${runnerImageTag({ extensions: [FAKER] })}`);
    expect(image.dockerfile).toBe(renderRunnerDockerfile({ extensions: [FAKER] }));
  });

  test('all options: every prop reaches the objects', () => {
    // GIVEN
    const props: RunnerImageProps = {
      k6Version: '1.6.0',
      extensions: [SQL, KAFKA],
      goBuilderImage: 'registry.example.com/mirror/golang:1.26.4',
      xk6Version: '1.4.13',
      k6ImageRepository: 'registry.example.com/mirror/grafana/k6',
      goProxy: 'https://goproxy.example.com',
      registry: 'registry.example.com:5443',
      repository: 'team/k6',
      pushSecret: { name: 'team-push', key: 'config.json' },
      builderResources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '3Gi' } },
      namespace: 'team-build',
      createNamespace: false,
      build: 'in-cluster',
      egress: { registryCidrs: ['10.1.2.3/32'], upstreamCidrs: ['203.0.113.0/24', '198.51.100.0/24'] },
      builderImage: 'registry.example.com/mirror/moby/buildkit:v0.33.0-rootless',
    };
    // WHEN
    const { image, objects } = synth(props);
    // THEN
    expect(objects).toMatchSnapshot();
    expect(validateManifests(objects)).toEqual([]);
    expect(image.imageRef).toBe(`registry.example.com:5443/team/k6:${runnerImageTag(props)}`);
    expect(image.tag).toMatch(/^1\.6\.0-[0-9a-f]{12}$/);
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'NetworkPolicy', 'Job']);
    expect(objects.every((o) => o.metadata?.namespace === 'team-build')).toBe(true);
    const pod = (objects.find((o) => o.kind === 'Job') as Obj).spec.template.spec;
    expect(pod.containers[0].image).toBe('registry.example.com/mirror/moby/buildkit:v0.33.0-rootless');
    expect(pod.initContainers[0].image).toBe('registry.example.com/mirror/moby/buildkit:v0.33.0-rootless');
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '3Gi' } });
    expect(pod.volumes[2]).toEqual({
      name: 'docker-config',
      secret: { secretName: 'team-push', items: [{ key: 'config.json', path: 'config.json' }] },
    });
    expect(image.buildArgs).toEqual({
      GO_IMAGE: 'registry.example.com/mirror/golang:1.26.4',
      K6_IMAGE: 'registry.example.com/mirror/grafana/k6',
      K6_VERSION: '1.6.0',
      XK6_VERSION: '1.4.13',
      K6_EXTENSIONS: 'github.com/grafana/xk6-sql@v1.0.5 github.com/mostafa/xk6-kafka@v1.0.0',
      GOPROXY: 'https://goproxy.example.com',
    });
    const np = objects.find((o) => o.kind === 'NetworkPolicy') as Obj;
    expect(np.spec.egress.slice(1)).toEqual([
      { to: [{ ipBlock: { cidr: '10.1.2.3/32' } }], ports: [{ protocol: 'TCP', port: 5443 }] },
      { to: [{ ipBlock: { cidr: '203.0.113.0/24' } }, { ipBlock: { cidr: '198.51.100.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
  });

  describe('extensions, in-cluster build', () => {
    const { image, objects } = synth(BUILD);
    const byKind = (kind: string) => objects.filter((o) => o.kind === kind) as Obj[];
    const job = byKind('Job')[0]!;
    const pod = job.spec.template.spec;
    const buildkit = pod.containers[0];
    const tag = runnerImageTag({ extensions: [FAKER] });
    const hash = tag.split('-')[1];

    test('emits exactly a namespace, service account, context ConfigMap, NetworkPolicy and build Job, all schema-valid', () => {
      expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
        'Namespace/k6-build',
        'ServiceAccount/k6-runner-build',
        `ConfigMap/k6-runner-context-${hash}`,
        'NetworkPolicy/k6-runner-build',
        `Job/${image.buildJobName}`,
      ]);
      expect(validateManifests(objects)).toEqual([]);
      expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata?.namespace === 'k6-build')).toBe(true);
    });

    test('imageRef is <registry>/<repository>:<content tag> and the Job pushes exactly that', () => {
      expect(image.imageRef).toBe(`registry.example.com/load-testing/k6:${tag}`);
      expect(image.buildJobName).toMatch(/^k6-runner-build-[0-9a-f]{12}$/);
      expect(job.metadata.name).toBe(image.buildJobName);
      expect(buildkit.image).toBe(versions.buildkitImage);
      expect(buildkit.command).toEqual(['buildctl-daemonless.sh']);
      expect(buildkit.args).toEqual([
        'build',
        '--frontend',
        'dockerfile.v0',
        '--local',
        'context=/workspace',
        '--local',
        'dockerfile=/workspace',
        '--opt',
        `build-arg:GO_IMAGE=${versions.goBuilderImage}`,
        '--opt',
        'build-arg:K6_IMAGE=grafana/k6',
        '--opt',
        `build-arg:K6_VERSION=${versions.k6}`,
        '--opt',
        `build-arg:XK6_VERSION=${versions.xk6}`,
        '--opt',
        'build-arg:K6_EXTENSIONS=github.com/grafana/xk6-faker@v0.4.4',
        '--opt',
        'build-arg:GOPROXY=https://proxy.golang.org',
        '--output',
        `type=image,name=registry.example.com/load-testing/k6:${tag},push=true`,
      ]);
      expect(job.spec.backoffLimit).toBe(2);
      expect(job.metadata.annotations['k6.platform/image']).toBe(image.imageRef);
    });

    test('the context ConfigMap holds the generated Dockerfile, copied to a real file before the build', () => {
      const cm = byKind('ConfigMap')[0]!;
      expect(cm.immutable).toBe(true);
      expect(cm.data).toEqual({ Dockerfile: renderRunnerDockerfile({ extensions: [FAKER] }) });
      expect(pod.initContainers[0].command).toEqual(['cp', '-L', '/context-src/Dockerfile', '/workspace/Dockerfile']);
      expect(pod.volumes).toEqual([
        { name: 'context-src', configMap: { name: `k6-runner-context-${hash}` } },
        { name: 'workspace', emptyDir: { sizeLimit: '16Mi' } },
        { name: 'docker-config', secret: { secretName: 'registry-push', items: [{ key: '.dockerconfigjson', path: 'config.json' }] } },
        { name: 'buildkit-state', emptyDir: {} },
      ]);
      expect(buildkit.env).toEqual([
        { name: 'BUILDKITD_FLAGS', value: '--oci-worker-no-process-sandbox' },
        { name: 'DOCKER_CONFIG', value: '/home/user/.docker' },
      ]);
      expect(buildkit.volumeMounts).toContainEqual({ name: 'docker-config', mountPath: '/home/user/.docker', readOnly: true });
    });

    test('the Job name is stable for the same inputs and new when anything in the Job changes (its template is immutable)', () => {
      expect(synth(BUILD).image.buildJobName).toBe(image.buildJobName);
      const names = [
        image.buildJobName,
        synth({ ...BUILD, builderResources: { requests: { cpu: '2' } } }).image.buildJobName,
        synth({ ...BUILD, pushSecret: { name: 'other-push' } }).image.buildJobName,
        synth({ ...BUILD, extensions: [KAFKA] }).image.buildJobName,
        synth({ ...BUILD, builderImage: 'moby/buildkit:v0.32.0-rootless' }).image.buildJobName,
      ];
      expect(new Set(names).size).toBe(names.length);
      // ...while the image tag depends only on what goes into the image.
      expect(synth({ ...BUILD, builderResources: { requests: { cpu: '2' } } }).image.imageRef).toBe(image.imageRef);
    });

    test('own ServiceAccount without a token; builder resources default', () => {
      expect(byKind('ServiceAccount')[0]!.automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe('k6-runner-build');
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(buildkit.resources).toEqual({
        requests: { cpu: '1', memory: '2Gi', 'ephemeral-storage': '4Gi' },
        limits: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi' },
      });
    });

    test('NetworkPolicy: no ingress; egress only to DNS, the registry port and 443, public IPv4 by default', () => {
      const np = byKind('NetworkPolicy')[0]!;
      const publicV4 = [{ ipBlock: { cidr: '0.0.0.0/0', except: PUBLIC_IPV4.except } }];
      expect(np.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/component': 'runner-image-build' } });
      expect(job.spec.template.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'runner-image-build' });
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(np.spec.ingress ?? []).toEqual([]);
      expect(np.spec.egress).toEqual([
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { to: publicV4, ports: [{ protocol: 'TCP', port: 443 }] },
        { to: publicV4, ports: [{ protocol: 'TCP', port: 443 }] },
      ]);
      expect(PUBLIC_IPV4.except).toContain('169.254.0.0/16'); // cloud metadata endpoints stay unreachable
    });

    test('configured CIDRs and a registry port narrow the egress', () => {
      const np = synth({
        ...BUILD,
        registry: 'registry.internal:5000',
        egress: { registryCidrs: ['10.20.0.15/32'], upstreamCidrs: ['203.0.113.0/24'] },
      }).objects.find((o) => o.kind === 'NetworkPolicy') as Obj;
      expect(np.spec.egress.slice(1)).toEqual([
        { to: [{ ipBlock: { cidr: '10.20.0.15/32' } }], ports: [{ protocol: 'TCP', port: 5000 }] },
        { to: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      ]);
    });

    test('the build pod breaks exactly the documented restricted-profile controls, in the BuildKit container only', () => {
      const violations = restrictedProfileViolations(objects);
      expect(violations).toEqual([
        `Job/${image.buildJobName}: container "buildkit": appArmorProfile.type must not be Unconfined`,
        `Job/${image.buildJobName}: container "buildkit": allowPrivilegeEscalation must be false`,
        `Job/${image.buildJobName}: container "buildkit": seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got Unconfined`,
        `Job/${image.buildJobName}: container "buildkit": capabilities.add may only hold NET_BIND_SERVICE, got SETUID`,
        `Job/${image.buildJobName}: container "buildkit": capabilities.add may only hold NET_BIND_SERVICE, got SETGID`,
      ]);
      // Each broken control is one documented in BUILDKIT_RESTRICTED_EXCEPTIONS, and each documented one is broken.
      const controls = new Set(violations.map((v) => /container "buildkit": (\w+)/.exec(v)![1]));
      expect([...controls].sort()).toEqual(Object.keys(BUILDKIT_RESTRICTED_EXCEPTIONS).sort());
      expect(Object.keys(BUILDKIT_RESTRICTED_EXCEPTIONS).sort()).toEqual([
        'allowPrivilegeEscalation',
        'appArmorProfile',
        'capabilities',
        'seccompProfile',
      ]);
      // The exception is narrow: still non-root, not privileged, only SETUID/SETGID added back.
      expect(buildkit.securityContext).toEqual({
        allowPrivilegeEscalation: true,
        privileged: false,
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        capabilities: { drop: ['ALL'], add: ['SETUID', 'SETGID'] },
        seccompProfile: { type: 'Unconfined' },
        appArmorProfile: { type: 'Unconfined' },
      });
    });

    test('the build namespace enforces "privileged" (the builder also breaks baseline) and warns/audits "restricted"', () => {
      expect(byKind('Namespace')[0]!.metadata.labels).toEqual({
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'latest',
      });
      expect(synth({ ...BUILD, createNamespace: false }).objects.map((o) => o.kind)).not.toContain('Namespace');
    });
  });

  describe('bad input names the field', () => {
    test.each([
      [
        { ...BUILD, extensions: [{ module: 'https://github.com/grafana/xk6-faker', version: 'v0.4.4' }] },
        `RunnerImage: 'extensions[0].module' must be a Go module path such as "github.com/grafana/xk6-faker" (lower-case host with a dot, no scheme, no "@version"), got "https://github.com/grafana/xk6-faker"`,
      ],
      [
        { ...BUILD, extensions: [{ module: 'xk6-faker', version: 'v0.4.4' }] },
        `RunnerImage: 'extensions[0].module' must be a Go module path such as "github.com/grafana/xk6-faker" (lower-case host with a dot, no scheme, no "@version"), got "xk6-faker"`,
      ],
      [
        { ...BUILD, extensions: [{ ...FAKER, version: 'latest' }] },
        `RunnerImage: 'extensions[0].version' must be a released semantic version such as "v0.4.0" ("latest", branches and commits are not reproducible), got "latest"`,
      ],
      [
        { ...BUILD, extensions: [FAKER, { ...KAFKA, version: 'v1.0' }] },
        `RunnerImage: 'extensions[1].version' must be a released semantic version such as "v0.4.0" ("latest", branches and commits are not reproducible), got "v1.0"`,
      ],
      [
        { ...BUILD, extensions: [FAKER, FAKER] },
        `RunnerImage: 'extensions[1].module' must be unique, already used by 'extensions[0]', got "github.com/grafana/xk6-faker"`,
      ],
      [{ k6Version: 'latest' }, `RunnerImage: 'k6Version' must be a semantic version such as "88.5.3" (no leading "v"), got "latest"`],
      [
        { image: 'Grafana/K6:1.7.1' },
        `RunnerImage: 'image' must be an OCI image reference such as "grafana/k6:1.7.1" or "registry.example.com/team/k6@sha256:…", got "Grafana/K6:1.7.1"`,
      ],
      [
        { ...BUILD, pushSecret: undefined },
        `RunnerImage: 'pushSecret' must name a docker-config Secret in namespace k6-build when extensions are built in-cluster (the build Job pushes to registry), got nothing`,
      ],
      [
        { ...BUILD, registry: 'https://registry.example.com' },
        `RunnerImage: 'registry' must be a registry host[:port] without a scheme, such as "registry.example.com" (drop the "https://"), got "https://registry.example.com"`,
      ],
      [
        { ...BUILD, registry: undefined },
        `RunnerImage: 'registry' must be set when extensions are declared (the built image is pushed there), got nothing`,
      ],
      [
        { ...BUILD, repository: 'Load-Testing/K6' },
        `RunnerImage: 'repository' must be a repository path such as "team/k6" (lower-case, "/"-separated), got "Load-Testing/K6"`,
      ],
      [{ goProxy: 'https://proxy.golang.org\nRUN id' }, `RunnerImage: 'goProxy' must be an http(s) URL, got "https://proxy.golang.org\\nRUN id"`],
      [
        { k6ImageRepository: 'grafana/k6:1.7.1' },
        `RunnerImage: 'k6ImageRepository' must be an image repository without tag or digest, such as "grafana/k6", got "grafana/k6:1.7.1"`,
      ],
      [
        { ...BUILD, egress: { upstreamCidrs: ['proxy.golang.org'] } },
        `RunnerImage: 'egress.upstreamCidrs[0]' must be a CIDR such as "203.0.113.0/24" or "2001:db8::/32" (four decimal octets without leading zeros, or IPv6 without a zone and not IPv4-mapped), got "proxy.golang.org"`,
      ],
      [
        { ...BUILD, image: 'grafana/k6:1.7.1' },
        `RunnerImage: 'image' must not be set when extensions are declared: the image is built from k6Version and extensions; remove one, got "grafana/k6:1.7.1"`,
      ],
      [
        { image: 'grafana/k6:1.6.0', k6Version: '1.6.1' },
        `RunnerImage: 'k6Version' must not be set together with image (grafana/k6:1.6.0): the explicit image decides the k6 version; remove one, got "1.6.1"`,
      ],
      [
        { ...BUILD, namespace: 'Build_NS' },
        `RunnerImage: 'namespace' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "Build_NS"`,
      ],
      [
        { ...BUILD, namespace: 'team-build', pushSecret: undefined },
        `RunnerImage: 'pushSecret' must name a docker-config Secret in namespace team-build when extensions are built in-cluster (the build Job pushes to registry), got nothing`,
      ],
      [{ xk6Version: 'v1.4.14' }, `RunnerImage: 'xk6Version' must be a semantic version such as "88.5.3" (no leading "v"), got "v1.4.14"`],
      [
        { builderImage: 'moby/buildkit@sha1:abc' },
        `RunnerImage: 'builderImage' must be an OCI image reference such as "grafana/k6:1.7.1" or "registry.example.com/team/k6@sha256:…", got "moby/buildkit@sha1:abc"`,
      ],
      [
        { builderResources: { limits: { memory: '-1Gi' } } },
        `RunnerImage: 'builderResources.limits.memory' must not be negative (Kubernetes rejects negative resource quantities), got "-1Gi"`,
      ],
    ] as [RunnerImageProps, string][])('%#: %j', (props, message) => {
      expect(errorOf(() => synth(props))).toBe(message);
    });

    test('every problem at once, one line each: two bad props give two problems', () => {
      expect(errorOf(() => synth({ k6Version: 'latest', egress: { registryCidrs: ['registry.example.com'] } }))).toBe(
        `RunnerImage: 'k6Version' must be a semantic version such as "88.5.3" (no leading "v"), got "latest"\n` +
          `RunnerImage: 'egress.registryCidrs[0]' must be a CIDR such as "203.0.113.0/24" or "2001:db8::/32" (four decimal octets without leading zeros, or IPv6 without a zone and not IPv4-mapped), got "registry.example.com"`,
      );
      expect(errorOf(() => synth({ ...BUILD, registry: undefined, repository: undefined, pushSecret: undefined }))).toBe(
        `RunnerImage: 'registry' must be set when extensions are declared (the built image is pushed there), got nothing\n` +
          `RunnerImage: 'repository' must be set when extensions are declared (the built image is pushed there), got nothing\n` +
          `RunnerImage: 'pushSecret' must name a docker-config Secret in namespace k6-build when extensions are built in-cluster (the build Job pushes to registry), got nothing`,
      );
    });

    test('a bad repository is reported once, by its own rule', () => {
      expect(errorOf(() => synth({ ...BUILD, repository: 'Load-Testing/K6' }))).toBe(
        `RunnerImage: 'repository' must be a repository path such as "team/k6" (lower-case, "/"-separated), got "Load-Testing/K6"`,
      );
    });
  });
});

describe('platform config: runner image settings', () => {
  const runner = { extensions: [FAKER], registry: 'registry.example.com', repository: 'load-testing/k6', pushSecret: { name: 'registry-push' } };

  test('defaults: no extensions, in-cluster build, official image', () => {
    const cfg = parsePlatformConfig({});
    expect(cfg.runner.k6Version).toBe(versions.k6);
    expect(cfg.runner.extensions).toEqual([]);
    expect(cfg.runner.build).toBe('in-cluster');
    expect(cfg.runner.buildNamespace).toBe('k6-build');
    expect(cfg.runner.goProxy).toBe('https://proxy.golang.org');
    expect(resolveRunnerImage(cfg)).toBe(`grafana/k6:${versions.k6}`);
  });

  test('declared extensions resolve to the built, content-addressed image', () => {
    const cfg = parsePlatformConfig({ runner });
    expect(cfg.runner.pushSecret).toEqual({ name: 'registry-push', key: '.dockerconfigjson' });
    expect(resolveRunnerImage(cfg)).toBe(`registry.example.com/load-testing/k6:${runnerImageTag({ extensions: [FAKER] })}`);
    expect(resolveRunnerImage(parsePlatformConfig({ runner: { image: 'mirror.example.com/k6:1.7.1' } }))).toBe('mirror.example.com/k6:1.7.1');
    expect(resolveRunnerImage(parsePlatformConfig({ runner: { k6Version: '1.6.0' } }))).toBe('grafana/k6:1.6.0');
  });

  test.each([
    [
      { ...runner, extensions: [{ module: 'github.com/grafana/xk6-faker@v0.4.4', version: 'v0.4.4' }] },
      `'runner.extensions[0].module' must be a Go module path such as "github.com/grafana/xk6-faker" (lower-case host with a dot, no scheme, no "@version"), got "github.com/grafana/xk6-faker@v0.4.4"`,
    ],
    [
      { ...runner, extensions: [{ ...FAKER, version: 'latest' }] },
      `'runner.extensions[0].version' must be a released semantic version such as "v0.4.0" ("latest", branches and commits are not reproducible), got "latest"`,
    ],
    [
      { ...runner, extensions: [{ ...FAKER, version: 'main' }] },
      `'runner.extensions[0].version' must be a released semantic version such as "v0.4.0" ("latest", branches and commits are not reproducible), got "main"`,
    ],
    [
      { image: 'registry.example.com/K6:latest!' },
      `'runner.image' must be an OCI image reference such as "grafana/k6:1.7.1" or "registry.example.com/team/k6@sha256:…", got "registry.example.com/K6:latest!"`,
    ],
    [
      { ...runner, pushSecret: undefined },
      `'runner.pushSecret' must name a docker-config Secret in namespace k6-build when runner.extensions are built in-cluster (the build Job pushes to runner.registry), got nothing`,
    ],
    [
      { ...runner, registry: 'https://registry.example.com' },
      `'runner.registry' must be a registry host[:port] without a scheme, such as "registry.example.com" (drop the "https://"), got "https://registry.example.com"`,
    ],
    [
      { ...runner, repository: undefined },
      `'runner.repository' must be set when runner.extensions are declared (the built image is pushed there), got nothing`,
    ],
    [
      { ...runner, image: 'grafana/k6:1.6.0' },
      `'runner.image' must not be set when runner.extensions are declared: the image is built from runner.k6Version and runner.extensions; remove one, got "grafana/k6:1.6.0"`,
    ],
    [
      { image: 'grafana/k6:1.6.0', k6Version: '1.6.1' },
      `'runner.k6Version' must not be set together with runner.image (grafana/k6:1.6.0): the explicit image decides the k6 version; remove one, got "1.6.1"`,
    ],
    [
      { ...runner, extensions: [FAKER, FAKER] },
      `'runner.extensions[1].module' must be unique, already used by 'runner.extensions[0]', got "github.com/grafana/xk6-faker"`,
    ],
    [
      { ...runner, buildEgress: { registryCidrs: ['10.0.0.1'] } },
      `'runner.buildEgress.registryCidrs[0]' must be a CIDR such as "203.0.113.0/24" or "2001:db8::/32" (four decimal octets without leading zeros, or IPv6 without a zone and not IPv4-mapped), got "10.0.0.1"`,
    ],
  ])('%#: %j', (r, message) => {
    expect(problemsOf({ runner: r })).toEqual([message]);
  });

  test('a local build needs no push Secret (the operator pushes with their own docker login)', () => {
    expect(() => parsePlatformConfig({ runner: { ...runner, pushSecret: undefined, build: 'local' } })).not.toThrow();
  });
});

describe('platform composition', () => {
  const scriptsDir = path.join(repoRoot, 'scripts');
  const runner = { extensions: [FAKER], registry: 'registry.example.com', repository: 'load-testing/k6', pushSecret: { name: 'registry-push' } };
  const components = (objs: readonly Manifest[]) => objs.map((o) => o.metadata?.labels?.['app.kubernetes.io/component']);

  test('no extensions (dev defaults): no build anywhere, runners get the pinned official image', () => {
    // WHEN
    const { app, charts } = buildEnvironment(parsePlatformConfig({}), scriptsDir);
    // THEN
    expect(charts.runnerImage.imageRef).toBe(`grafana/k6:${versions.k6}`);
    expect(charts.runnerImageBuild).toBeUndefined();
    expect(app.charts.flatMap((c) => components(c.toJson() as Manifest[]))).not.toContain('runner-image-build');
  });

  test('declared extensions: a build chart before the load tests, and the built reference for the runners', () => {
    // GIVEN
    const out = mkdtempSync(path.join(os.tmpdir(), 'runner-image-'));
    try {
      // WHEN
      const { app, charts } = buildEnvironment(parsePlatformConfig({ runner }), scriptsDir, out);
      app.synth();
      // THEN
      expect(charts.runnerImage.imageRef).toBe(`registry.example.com/load-testing/k6:${runnerImageTag({ extensions: [FAKER] })}`);
      const build = charts.runnerImageBuild!.toJson() as Manifest[];
      expect(build.map((o) => o.kind)).toEqual(['Namespace', 'ServiceAccount', 'ConfigMap', 'NetworkPolicy', 'Job']);
      expect(validateManifests(build)).toEqual([]);
      expect(charts.loadTests.node.dependencies).toContain(charts.runnerImageBuild);
      expect(readdirSync(out)).toEqual([
        '0000-namespaces.k8s.yaml',
        '0001-monitoring.k8s.yaml',
        '0002-runnerimage.k8s.yaml',
        '0003-loadtests.k8s.yaml',
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('declared in Pulumi.dev.yaml (the dev config synth reads), with errors named by stack key', () => {
    // GIVEN
    const root = mkdtempSync(path.join(os.tmpdir(), 'runner-image-dev-'));
    const stackFile = (r: unknown) => writeFileSync(path.join(root, 'Pulumi.dev.yaml'), YAML.stringify({ config: { 'k6platform:runner': r } }));
    try {
      stackFile(runner);
      // WHEN
      const { charts } = buildEnvironment(loadEnvironmentConfig(root, 'dev'), scriptsDir);
      // THEN
      expect(charts.runnerImage.imageRef).toBe(`registry.example.com/load-testing/k6:${runnerImageTag({ extensions: [FAKER] })}`);
      expect((charts.runnerImageBuild!.toJson() as Manifest[]).map((o) => o.kind)).toContain('Job');
      stackFile({ ...runner, registry: 'https://registry.example.com' });
      expect(errorOf(() => loadEnvironmentConfig(root, 'dev'))).toBe(
        `Invalid Pulumi.dev.yaml (1 problem):\n  - 'k6platform:runner.registry' must be a registry host[:port] without a scheme, such as "registry.example.com" (drop the "https://"), got "https://registry.example.com"`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a local build emits nothing in the cluster but still hands runners the built reference', () => {
    const { charts } = buildEnvironment(parsePlatformConfig({ runner: { ...runner, build: 'local', pushSecret: undefined } }), scriptsDir);
    expect(charts.runnerImageBuild).toBeUndefined();
    expect(charts.runnerImage.imageRef).toBe(`registry.example.com/load-testing/k6:${runnerImageTag({ extensions: [FAKER] })}`);
    expect(components(charts.loadTests.toJson() as Manifest[])).not.toContain('runner-image-build');
  });
});
