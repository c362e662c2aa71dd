import {
  CONFIG_MAP_KEY,
  DNS_LABEL,
  DNS_SUBDOMAIN,
  GO_MODULE_PATH,
  IMAGE_REFERENCE,
  MODULE_VERSION,
  REGISTRY_HOST,
  REPOSITORY_PATH,
  SEMVER,
} from '../config/platform-config';
import { CIDR_RULE, isCanonicalCidr } from '../network/network-rules';
import type { RunnerImageProps } from './props';

/**
 * Checks RunnerImage props and throws at once with the field named: `RunnerImage: '<field>' <rule>, got <value>`.
 * (Platform config goes through parsePlatformConfig first, which reports the same problems with config paths.)
 */
export function validateRunnerImageProps(props: RunnerImageProps): void {
  const fail = (field: string, rule: string, got: unknown): never => {
    throw new Error(`RunnerImage: '${field}' ${rule}, got ${JSON.stringify(got) ?? 'nothing'}`);
  };
  if (props.k6Version !== undefined && !SEMVER.test(props.k6Version)) {
    fail('k6Version', 'must be a semantic version such as "1.7.1" (no leading "v", never "latest")', props.k6Version);
  }
  if (props.xk6Version !== undefined && !SEMVER.test(props.xk6Version)) {
    fail('xk6Version', 'must be a semantic version such as "1.4.14" (no leading "v", never "latest")', props.xk6Version);
  }
  const seen = new Map<string, number>();
  (props.extensions ?? []).forEach((e, i) => {
    if (!GO_MODULE_PATH.test(e.module)) {
      fail(
        `extensions[${i}].module`,
        'must be a Go module path such as "github.com/grafana/xk6-faker" (lower-case host with a dot, no scheme, no "@version")',
        e.module,
      );
    }
    if (!MODULE_VERSION.test(e.version)) {
      fail(
        `extensions[${i}].version`,
        'must be a released semantic version such as "v0.4.0" ("latest", branches and commits are not reproducible)',
        e.version,
      );
    }
    const first = seen.get(e.module);
    if (first !== undefined) fail(`extensions[${i}].module`, `must be unique, already used by 'extensions[${first}]'`, e.module);
    seen.set(e.module, i);
  });
  if (props.k6ImageRepository !== undefined && (!IMAGE_REFERENCE.test(props.k6ImageRepository) || /[:@][^/]*$/.test(props.k6ImageRepository))) {
    fail('k6ImageRepository', 'must be an image repository without tag or digest, such as "grafana/k6"', props.k6ImageRepository);
  }
  if (props.goProxy !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(props.goProxy)) {
    fail('goProxy', 'must be an http(s) URL such as "https://proxy.golang.org"', props.goProxy);
  }
  for (const key of ['registryCidrs', 'upstreamCidrs'] as const) {
    (props.egress?.[key] ?? []).forEach((c, i) => {
      if (!isCanonicalCidr(c)) fail(`egress.${key}[${i}]`, CIDR_RULE, c);
    });
  }
  for (const key of ['image', 'goBuilderImage', 'builderImage'] as const) {
    const v = props[key];
    if (v !== undefined && !IMAGE_REFERENCE.test(v)) fail(key, 'must be an OCI image reference such as "grafana/k6:1.7.1"', v);
  }
  if (props.registry !== undefined) {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(props.registry)) {
      fail('registry', 'must be a registry host[:port] without a scheme, such as "registry.example.com" (drop the "https://")', props.registry);
    }
    if (!REGISTRY_HOST.test(props.registry))
      fail('registry', 'must be a registry host[:port] such as "registry.example.com" or "localhost:5000" (no path)', props.registry);
  }
  if (props.repository !== undefined && !REPOSITORY_PATH.test(props.repository)) {
    fail('repository', 'must be a repository path such as "team/k6" (lower-case, "/"-separated)', props.repository);
  }
  if (props.namespace !== undefined && !DNS_LABEL.test(props.namespace)) fail('namespace', 'must be a DNS label', props.namespace);
  if (props.pushSecret !== undefined) {
    if (!DNS_SUBDOMAIN.test(props.pushSecret.name)) fail('pushSecret.name', 'must be a Secret name (DNS subdomain)', props.pushSecret.name);
    if (props.pushSecret.key !== undefined && !CONFIG_MAP_KEY.test(props.pushSecret.key))
      fail('pushSecret.key', 'must be a valid Secret key', props.pushSecret.key);
  }
  if ((props.extensions ?? []).length === 0) return;
  if (props.image !== undefined) {
    fail('image', 'must not be set together with extensions: the image is built from k6Version and extensions; remove one', props.image);
  }
  if (props.registry === undefined) fail('registry', 'must be set when extensions are declared (the built image is pushed there)', undefined);
  if (props.repository === undefined) fail('repository', 'must be set when extensions are declared (the built image is pushed there)', undefined);
  if ((props.build ?? 'in-cluster') === 'in-cluster' && props.pushSecret === undefined) {
    fail('pushSecret', 'must name a docker-config Secret when extensions are built in-cluster (the build Job pushes to the registry)', undefined);
  }
  const ref = `${props.registry}/${props.repository}:tag`;
  if (!IMAGE_REFERENCE.test(ref))
    fail('repository', `must form an OCI image reference with registry (${props.registry}/${props.repository} does not parse)`, props.repository);
}
