import {
  CONFIG_NAMESPACE,
  parsePlatformConfig,
  parseStackConfig,
  platformInputFromStackConfig,
  PlatformConfigError,
  stackFileEntries,
} from '../src/config/platform-config';
import { defaultK6Image, versions } from '../src/contract/versions';

/** The problems a bad input produces (the test fails if it parses). */
function problemsOf(input: unknown, keyPrefix = ''): readonly string[] {
  try {
    parsePlatformConfig(input, { keyPrefix });
  } catch (e) {
    if (e instanceof PlatformConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

describe('parsePlatformConfig', () => {
  test('defaults: dev works with no file at all', () => {
    // WHEN
    const cfg = parsePlatformConfig(undefined);
    // THEN
    expect(cfg.environment).toBe('dev');
    expect(cfg.namespaces).toEqual({ monitoring: 'monitoring', loadTests: 'k6' });
    expect(cfg.monitoring.enabled).toBe(true);
    expect(cfg.monitoring.releaseName).toBe('kube-prometheus-stack');
    expect(cfg.monitoring.chart).toEqual({ version: versions.kubePrometheusStack.version, repository: versions.kubePrometheusStack.repository });
    expect(cfg.monitoring.prometheus).toEqual({
      retention: '15d',
      retentionSize: '45GB',
      storage: { size: '50Gi' },
      resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '4Gi' } },
    });
    expect(cfg.monitoring.grafana.adminSecret).toEqual({ name: 'grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(cfg.monitoring.alertmanager.enabled).toBe(false);
    expect(cfg.runner.image).toBe(defaultK6Image);
    expect(cfg.runner.pushInterval).toBe('5s');
    expect(cfg.runner.nativeHistograms).toBe(true);
    expect(cfg.tests.map((t) => [t.name, t.script, t.parallelism, t.mode])).toEqual([['sample', 'sample.js', 2, 'jobs']]);
  });

  test('all options are kept as given', () => {
    // GIVEN
    const input = {
      environment: 'prod',
      namespaces: { monitoring: 'obs', loadTests: 'perf' },
      monitoring: {
        releaseName: 'kps',
        chart: { version: '88.5.4', path: './charts/kps.tgz' },
        prometheus: { retention: '30d', retentionSize: '180GB', storage: { size: '200Gi', storageClassName: 'fast-ssd' } },
        grafana: { adminSecret: { name: 'admin' }, ingress: { enabled: true, host: 'grafana.example.com', className: 'nginx' } },
        alertmanager: { enabled: true },
      },
      runner: {
        image: 'registry.example.com:5000/team/k6:1.7.1',
        pushInterval: '10s',
        nativeHistograms: false,
        remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: 'token' } },
      },
      tests: [{ name: 'api', script: 'api.js', parallelism: 8, env: { TARGET_URL: 'http://api' }, mode: 'operator' }],
    };
    // WHEN
    const cfg = parsePlatformConfig(input);
    // THEN
    expect(cfg.namespaces).toEqual({ monitoring: 'obs', loadTests: 'perf' });
    expect(cfg.monitoring.chart).toEqual({ version: '88.5.4', repository: versions.kubePrometheusStack.repository, path: './charts/kps.tgz' });
    expect(cfg.monitoring.prometheus.storage).toEqual({ size: '200Gi', storageClassName: 'fast-ssd' });
    expect(cfg.monitoring.grafana.adminSecret).toEqual({ name: 'admin', userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(cfg.runner.remoteWriteAuth).toEqual({ type: 'bearer', token: { name: 'rw', key: 'token' } });
    expect(cfg.tests[0]).toMatchObject({ name: 'api', parallelism: 8, env: { TARGET_URL: 'http://api' }, mode: 'operator' });
  });

  test.each([
    [{ environment: 'Prod' }, `'environment' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "Prod"`],
    [
      { namespaces: { loadTests: 'k6_tests' } },
      `'namespaces.loadTests' must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric, got "k6_tests"`,
    ],
    [
      { monitoring: { chart: { version: 'v88' } } },
      `'monitoring.chart.version' must be a semantic version such as "88.5.3" (no leading "v"), got "v88"`,
    ],
    [
      { monitoring: { prometheus: { retention: '2 weeks' } } },
      `'monitoring.prometheus.retention' must be a Prometheus duration such as "15d", "12h" or "1w", got "2 weeks"`,
    ],
    [
      { monitoring: { prometheus: { retention: '' } } },
      `'monitoring.prometheus.retention' must be a Prometheus duration such as "15d", "12h" or "1w", got ""`,
    ],
    [
      { monitoring: { prometheus: { retentionSize: '45G' } } },
      `'monitoring.prometheus.retentionSize' must be a byte size such as "45GB" or "512MiB", got "45G"`,
    ],
    [
      { monitoring: { prometheus: { storage: { size: 'big' } } } },
      `'monitoring.prometheus.storage.size' must be a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi", got "big"`,
    ],
    [
      { monitoring: { prometheus: { resources: { limits: { gpu: '1' } } } } },
      `'monitoring.prometheus.resources.limits.gpu' is not a known setting (allowed here: cpu, memory, ephemeral-storage)`,
    ],
    [
      { runner: { image: 'https://docker.io/grafana/k6' } },
      expect.stringMatching(/^'runner.image' must be an OCI image reference .*, got "https:\/\/docker.io\/grafana\/k6"$/),
    ],
    [{ runner: { pushInterval: '5 seconds' } }, `'runner.pushInterval' must be a k6 duration such as "30s", "1m30s" or "2h", got "5 seconds"`],
    [
      { runner: { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'user' }, password: { name: 'rw' } } } },
      `'runner.remoteWriteAuth.password.key' must name the key inside the Secret, got nothing`,
    ],
    [
      { runner: { remoteWriteAuth: { type: 'oauth' } } },
      `'runner.remoteWriteAuth.type' must be {type: "basic", username, password} or {type: "bearer", token}, each a Secret reference {name, key}, or {type: "none"}, got {"type":"oauth"}`,
    ],
    [{ tests: [{ name: 'a', script: 'a.js', parallelism: 0 }] }, `'tests[0].parallelism' must be at least 1, got 0`],
    [{ tests: [{ name: 'a', script: 'a.js', parallelism: 1.5 }] }, `'tests[0].parallelism' must be an integer, got 1.5`],
    [{ tests: [{ name: 'a', script: 'a.js', mode: 'k8s' }] }, `'tests[0].mode' must be one of "jobs", "operator", got "k8s"`],
    [
      { tests: [{ name: 'a', script: 'a.js', env: { 'BAD-NAME': 'x' } }] },
      `'tests[0].env.BAD-NAME' must be an environment variable name, got "BAD-NAME"`,
    ],
    [{ tests: [{ name: 'a' }] }, `'tests[0].script' is required (string), got nothing`],
    [{ bogus: true }, `'bogus' is not a known setting (allowed here: environment, namespaces, monitoring, runner, network, tests)`],
  ])('rejects %j naming the field, the value and the rule', (input, expected) => {
    expect(problemsOf(input)).toContainEqual(expected);
  });

  test('cross-field rules: duplicate test names, external monitoring without URL, ingress without host', () => {
    // WHEN
    const problems = problemsOf({
      monitoring: { enabled: false, grafana: { ingress: { enabled: true } } },
      tests: [
        { name: 'a', script: 'a.js' },
        { name: 'a', script: 'b.js' },
      ],
    });
    // THEN
    expect(problems).toEqual([
      `'tests[1].name' must be unique, already used by 'tests[0]', got "a"`,
      `'monitoring.remoteWriteUrl' must be set when monitoring.enabled is false (runners need a Prometheus to write to), got nothing`,
      `'monitoring.grafana.ingress.host' must be set when the ingress is enabled, got nothing`,
    ]);
  });

  test('collects every problem and throws once, naming the source', () => {
    // WHEN
    const run = () =>
      parsePlatformConfig({ environment: 'X', tests: [{ name: 'a', script: 'a.js', parallelism: -1 }] }, { description: 'Pulumi.dev.yaml' });
    // THEN
    expect(run).toThrow(PlatformConfigError);
    expect(run).toThrow(
      /^Invalid Pulumi.dev.yaml \(2 problems\):\n {2}- 'environment' .*\n {2}- 'tests\[0\]\.parallelism' must be at least 1, got -1$/,
    );
  });

  test('names stack config keys with the Pulumi namespace', () => {
    expect(problemsOf({ runner: { pushInterval: 'soon' }, typo: 1 }, 'k6platform:')).toEqual([
      `'k6platform:runner.pushInterval' must be a k6 duration such as "30s", "1m30s" or "2h", got "soon"`,
      `'k6platform:typo' is not a known setting (allowed here: k6platform:environment, k6platform:namespaces, k6platform:monitoring, k6platform:runner, k6platform:network, k6platform:tests)`,
    ]);
  });
});

describe('parsePlatformConfig: security settings', () => {
  const DIGEST = `sha256:${'a1'.repeat(32)}`;

  test('network: cluster ranges and DNS pods default to private ranges and kube-system/kube-dns, and can be set', () => {
    // WHEN
    const defaults = parsePlatformConfig({}).network;
    const custom = parsePlatformConfig({
      network: { clusterCidrs: ['10.96.0.0/12', '2001:db8::/64'], dns: { namespace: 'dns', podLabels: { app: 'coredns' } } },
    }).network;
    // THEN
    expect(defaults).toEqual({
      clusterCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'],
      dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
    });
    expect(custom).toEqual({ clusterCidrs: ['10.96.0.0/12', '2001:db8::/64'], dns: { namespace: 'dns', podLabels: { app: 'coredns' } } });
    expect(problemsOf({ network: { clusterCidrs: ['10.0.0.0/33'], dns: { podLabels: {} } } })).toEqual([
      `'network.clusterCidrs[0]' must be a CIDR such as "203.0.113.0/24" or "2001:db8::/32" (four decimal octets without leading zeros, or IPv6 without a zone and not IPv4-mapped), got "10.0.0.0/33"`,
      `'network.dns.podLabels' must name at least one label (an empty selector selects every pod of the namespace), got {}`,
    ]);
  });

  test('a remote-write URL outside the cluster needs credentials, or the explicit opt-out {type: "none"}', () => {
    // GIVEN an external endpoint without credentials
    const external = { monitoring: { enabled: false, remoteWriteUrl: 'https://prom.example.com/api/v1/write' } };
    // THEN
    expect(problemsOf(external)).toEqual([
      `'runner.remoteWriteAuth' is required when monitoring.remoteWriteUrl (https://prom.example.com/api/v1/write) is outside the cluster: ` +
        'set {type: "basic", username, password} or {type: "bearer", token} (Secret references), or {type: "none"} to send without credentials, got nothing',
    ]);
    expect(parsePlatformConfig({ ...external, runner: { remoteWriteAuth: { type: 'none' } } }).runner.remoteWriteAuth).toEqual({ type: 'none' });
    expect(
      parsePlatformConfig({ ...external, runner: { remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: 't' } } } }).runner.remoteWriteAuth
        ?.type,
    ).toBe('bearer');
    // AND in-cluster Service names need none: <svc>.<ns>.svc[.<domain>], or <svc>.<ns> over http
    for (const url of [
      'http://prometheus-operated.observability:9090/api/v1/write',
      'http://prometheus-operated.observability.svc:9090/api/v1/write',
      'https://mimir.obs.svc.cluster.local/api/v1/push',
    ]) {
      expect(parsePlatformConfig({ monitoring: { enabled: false, remoteWriteUrl: url } }).runner.remoteWriteAuth).toBeUndefined();
    }
    // AND the platform's own Prometheus needs none
    expect(parsePlatformConfig({}).runner.remoteWriteAuth).toBeUndefined();
    expect(problemsOf({ monitoring: { enabled: false, remoteWriteUrl: 'https://example.com/api/v1/write' } })[0]).toMatch(
      /^'runner.remoteWriteAuth' is required/,
    );
  });

  test('image digests: tags by default; digests validated, in runner.image or runner.imageDigests', () => {
    // WHEN
    const cfg = parsePlatformConfig({ runner: { imageDigests: { k6: DIGEST, starter: DIGEST } } });
    // THEN
    expect(parsePlatformConfig({}).runner.imageDigests).toEqual({});
    expect(cfg.runner.imageDigests).toEqual({ k6: DIGEST, starter: DIGEST });
    expect(parsePlatformConfig({ runner: { image: `grafana/k6:1.7.1@${DIGEST}` } }).runner.image).toBe(`grafana/k6:1.7.1@${DIGEST}`);
    expect(problemsOf({ runner: { imageDigests: { k6: 'sha256:abc', starter: `sha256:${'A1'.repeat(32)}` } } })).toEqual([
      `'runner.imageDigests.k6' must be an image digest "sha256:" followed by 64 lower-case hex digits (\`crane digest <image>\`), got "sha256:abc"`,
      `'runner.imageDigests.starter' must be an image digest "sha256:" followed by 64 lower-case hex digits (\`crane digest <image>\`), got "sha256:${'A1'.repeat(32)}"`,
    ]);
    expect(problemsOf({ runner: { image: `grafana/k6:1.7.1@sha256:${'ab'.repeat(20)}` } })).toEqual([
      `'runner.image' must have a sha256 digest after "@" ("@sha256:" and 64 lower-case hex digits, as \`crane digest <image>\` prints it), got "grafana/k6:1.7.1@sha256:${'ab'.repeat(20)}"`,
    ]);
    expect(problemsOf({ runner: { image: `grafana/k6@${DIGEST}`, imageDigests: { k6: DIGEST } } })).toEqual([
      `'runner.imageDigests.k6' must not be set when runner.image already has a digest (grafana/k6@${DIGEST}); remove one, got "${DIGEST}"`,
    ]);
  });
});

describe('platformInputFromStackConfig', () => {
  test('takes k6platform keys, parses JSON strings, skips other namespaces and deploy-only keys', () => {
    // GIVEN
    const entries = {
      [`${CONFIG_NAMESPACE}:runner`]: '{"pushInterval":"10s"}',
      [`${CONFIG_NAMESPACE}:monitoring`]: { alertmanager: { enabled: true } },
      [`${CONFIG_NAMESPACE}:grafanaAdminPassword`]: { secure: 'v1:abc' },
      [`${CONFIG_NAMESPACE}:context`]: 'kind-k6',
      'kubernetes:context': 'kind-k6',
    };
    // WHEN
    const input = platformInputFromStackConfig(entries, 'staging');
    // THEN
    expect(input).toEqual({ environment: 'staging', runner: { pushInterval: '10s' }, monitoring: { alertmanager: { enabled: true } } });
  });
});

describe('values the Kubernetes API would reject are rejected here, naming the field, the value and the rule', () => {
  const test1 = (extra: Record<string, unknown>) => ({ tests: [{ name: 'a', script: 'a.js', ...extra }] });
  const QUANTITY_RULE = 'must be a Kubernetes quantity such as "500m", "1", "512Mi" or "2Gi"';
  const LABEL_KEY =
    'must be a label key: an optional DNS-subdomain prefix (at most 253 characters) and "/", then a name of at most 63 characters (letters, digits, "-", "_", "."; starting and ending alphanumeric)';
  test.each([
    // quantities: the grammar of k8s.io/apimachinery/pkg/api/resource/quantity.go, and never negative
    [
      { monitoring: { prometheus: { resources: { requests: { memory: '-512Mi' } } } } },
      `'monitoring.prometheus.resources.requests.memory' must not be negative (Kubernetes rejects negative resource quantities), got "-512Mi"`,
    ],
    [{ monitoring: { prometheus: { storage: { size: '.' } } } }, `'monitoring.prometheus.storage.size' ${QUANTITY_RULE}, got "."`],
    [{ monitoring: { prometheus: { storage: { size: '1MiMi' } } } }, `'monitoring.prometheus.storage.size' ${QUANTITY_RULE}, got "1MiMi"`],
    [{ runner: { resources: { limits: { cpu: '1e1.5' } } } }, `'runner.resources.limits.cpu' ${QUANTITY_RULE}, got "1e1.5"`],
    [{ runner: { resources: { limits: { cpu: '1m2' } } } }, `'runner.resources.limits.cpu' ${QUANTITY_RULE}, got "1m2"`],
    // time zones: the IANA database the runtime knows, spelled exactly
    [
      test1({ schedule: '@daily', timeZone: 'Mars/Base' }),
      `'tests[0].timeZone' must be an IANA time zone such as "Europe/Berlin" or "UTC"; it is not in the IANA time zone database, got "Mars/Base"`,
    ],
    [
      test1({ schedule: '@daily', timeZone: 'europe/berlin' }),
      `'tests[0].timeZone' must be an IANA time zone such as "Europe/Berlin" or "UTC", spelled "Europe/Berlin" (names are case-sensitive), got "europe/berlin"`,
    ],
    // node selectors, tolerations
    [test1({ nodeSelector: { 'pool type': 'load' } }), `'tests[0].nodeSelector.pool type' ${LABEL_KEY}, got "pool type"`],
    [
      test1({ nodeSelector: { [`${'a'.repeat(254)}/pool`]: 'load' } }),
      expect.stringMatching(/^'tests\[0\]\.nodeSelector\.a{254}\/pool' must be a label key: .*, got "a{76}\.\.\.$/),
    ],
    [
      test1({ nodeSelector: { [`example.com/${'n'.repeat(64)}`]: 'load' } }),
      expect.stringMatching(/^'tests\[0\]\.nodeSelector\.example\.com\/n{64}' must be a label key: /),
    ],
    [
      test1({ nodeSelector: { pool: 'v'.repeat(64) } }),
      `'tests[0].nodeSelector.pool' must be a label value: at most 63 characters, empty or letters, digits, "-", "_", "." starting and ending alphanumeric, got "${'v'.repeat(64)}"`,
    ],
    [
      test1({ tolerations: [{ key: 'dedicated', operator: 'Exists', value: 'load' }] }),
      `'tests[0].tolerations[0].value' must be empty when "operator" is "Exists", got "load"`,
    ],
    [
      test1({ tolerations: [{ key: 'dedicated', value: 'load', effect: 'NoSchedule', tolerationSeconds: 60 }] }),
      `'tests[0].tolerations[0].tolerationSeconds' must only be set with effect "NoExecute" (effect is "NoSchedule"), got 60`,
    ],
    [
      test1({ tolerations: [{ operator: 'Equal', value: 'x' }] }),
      `'tests[0].tolerations[0].operator' must be "Exists" when "key" is empty (an empty key matches all keys and all values), got "Equal"`,
    ],
    [test1({ tolerations: [{ key: 'bad key', operator: 'Exists' }] }), `'tests[0].tolerations[0].key' ${LABEL_KEY}, got "bad key"`],
    // affinity, field by field
    [
      test1({ affinity: { nodeAfinity: {} } }),
      `'tests[0].affinity.nodeAfinity' is not a known setting (allowed here: nodeAffinity, podAffinity, podAntiAffinity)`,
    ],
    [
      test1({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In' }] }] },
          },
        },
      }),
      `'tests[0].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values' must list at least one value with operator "In", got nothing`,
    ],
    [
      test1({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } }),
      `'tests[0].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms' must list at least one term, got []`,
    ],
    [
      test1({
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 1, preference: { matchFields: [{ key: 'cpu', operator: 'Gt', values: ['a'] }] } },
            ],
          },
        },
      }),
      `'tests[0].affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchFields[0].values' must be exactly one integer with operator "Gt", got ["a"]`,
    ],
    [
      test1({
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }],
          },
        },
      }),
      `'tests[0].affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight' must be an integer from 1 to 100, got 0`,
    ],
    [
      test1({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'api' } } }] } } }),
      `'tests[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey' is required (string), got nothing`,
    ],
    // int32 fields say the range
    [test1({ ttlSecondsAfterFinished: 2147483648 }), `'tests[0].ttlSecondsAfterFinished' must be an integer from 0 to 2147483647, got 2147483648`],
    [test1({ ttlSecondsAfterFinished: -1 }), `'tests[0].ttlSecondsAfterFinished' must be an integer from 0 to 2147483647, got -1`],
    // the runners' deadline (activeDeadlineSeconds = startTimeout + duration + gracePeriod)
    [
      test1({ duration: '0s', startTimeout: '0s', gracePeriod: '0s' }),
      `'tests[0].duration' must make the runners' deadline (startTimeout 0s + duration 0s + gracePeriod 0s = 0 seconds, activeDeadlineSeconds) an integer from 1 to 2147483647, got "0s"`,
    ],
    [
      test1({ duration: '1000000h' }),
      `'tests[0].duration' must make the runners' deadline (startTimeout 5m + duration 1000000h + gracePeriod 2m = 3600000420 seconds, activeDeadlineSeconds) an integer from 1 to 2147483647, got "1000000h"`,
    ],
    // cross-field rules
    [
      {
        tests: [
          { name: 'a', script: 'a.js', runId: 'nightly' },
          { name: 'b', script: 'b.js', runId: 'nightly' },
        ],
      },
      `'tests[1].runId' must be unique, already the run id of 'tests[0]' (both runs would share their objects and testid), got "nightly"`,
    ],
    [
      { namespaces: { monitoring: 'k6' } },
      `'namespaces.loadTests' must differ from namespaces.monitoring (the load-test namespace gets its own restricted Pod Security level and NetworkPolicies), got "k6"`,
    ],
  ])('rejects %j', (input, expected) => {
    expect(problemsOf(input)).toContainEqual(expected);
  });

  test.each([['1'], ['0.5'], ['500m'], ['2Gi'], ['1.5Ei'], ['1e3'], ['1E-3'], ['+1k'], ['.5'], ['1.'], ['0'], ['-0']])(
    'accepts the quantity %s',
    (q) => {
      expect(parsePlatformConfig({ runner: { resources: { requests: { cpu: q } } } }).runner.resources.requests?.cpu).toBe(q);
    },
  );

  test('accepts real Kubernetes placement: aliases of time zones, prefixed label keys, a full affinity', () => {
    // WHEN
    const cfg = parsePlatformConfig(
      test1({
        schedule: '0 2 * * *',
        timeZone: 'US/Pacific',
        nodeSelector: { 'node.kubernetes.io/instance-type': 'm5.large', pool: '' },
        tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { operator: 'Exists' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-west-1a'] }] }],
            },
          },
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'api' } } } },
            ],
          },
        },
      }),
    );
    // THEN
    expect(cfg.tests[0]!.timeZone).toBe('US/Pacific');
    expect(cfg.tests[0]!.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.weight).toBe(100);
  });
});

describe('credentials in a URL are refused without being printed', () => {
  test('a remote-write URL with user:password@ names the field and masks the credentials', () => {
    // GIVEN
    const input = { monitoring: { enabled: false, remoteWriteUrl: 'https://load:s3cr3t-pw@metrics.example.com/api/v1/write' } };
    // WHEN
    const problems = problemsOf(input);
    // THEN
    expect(problems).toContainEqual(
      `'monitoring.remoteWriteUrl' must not hold credentials (user:password@): give them as Secret references in runner.remoteWriteAuth, got "https://***@metrics.example.com/api/v1/write"`,
    );
    expect(problems.join('\n')).not.toContain('s3cr3t-pw');
  });

  test('Secret keys follow the ConfigMap key rule: not ".", "..", nor starting with ".."', () => {
    for (const key of ['.', '..', '..data']) {
      expect(problemsOf({ runner: { remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key } } } })).toEqual([
        expect.stringMatching(/^'runner\.remoteWriteAuth\.token\.key' must be a valid Secret key/),
      ]);
    }
    expect(() => parsePlatformConfig({ runner: { remoteWriteAuth: { type: 'bearer', token: { name: 'rw', key: '.token' } } } })).not.toThrow();
  });
});

describe('secrets are never echoed', () => {
  const SECRET_VALUE = 'hunter2-do-not-print';
  test.each([
    [
      { tests: [{ name: 'a', script: 'a.js', secretEnv: { API_TOKEN: SECRET_VALUE } }] },
      `'tests[0].secretEnv.API_TOKEN' must be a Secret reference {name, key}, not the secret value itself (the value given is not shown)`,
    ],
    [
      { tests: [{ name: 'a', script: 'a.js', secretEnv: { key: SECRET_VALUE } }] },
      `'tests[0].secretEnv.key' must be a Secret reference {name, key}, not the secret value itself (the value given is not shown)`,
    ],
    [
      { runner: { remoteWriteAuth: { type: 'bearer', token: SECRET_VALUE } } },
      `'runner.remoteWriteAuth.token' must be a Secret reference {name, key}, not the secret value itself (the value given is not shown)`,
    ],
    [
      { runner: { remoteWriteAuth: { type: 'basic', username: { name: 'rw', key: 'user' }, password: SECRET_VALUE } } },
      `'runner.remoteWriteAuth.password' must be a Secret reference {name, key}, not the secret value itself (the value given is not shown)`,
    ],
    [
      { runner: { remoteWriteAuth: { type: 'oauth', token: SECRET_VALUE } } },
      `'runner.remoteWriteAuth.type' must be {type: "basic", username, password} or {type: "bearer", token}, each a Secret reference {name, key}, or {type: "none"}, got {"type":"oauth","token":"***"}`,
    ],
  ])('%j names the field and says what belongs there', (input, expected) => {
    // WHEN
    const problems = problemsOf(input, 'k6platform:');
    // THEN
    expect(problems).toContainEqual(expected.replace(/^'/, "'k6platform:"));
    expect(problems.join('\n')).not.toContain(SECRET_VALUE);
  });

  test('names of a Secret reference are still shown, they are not secret', () => {
    expect(problemsOf({ runner: { remoteWriteAuth: { type: 'bearer', token: { name: 'Bad_Name', key: 'token' } } } })).toEqual([
      `'runner.remoteWriteAuth.token.name' must be a DNS subdomain: lower-case letters, digits, "-" and ".", got "Bad_Name"`,
    ]);
  });
});

describe('stack config problems name the key and never show the value', () => {
  test('a key in an unknown namespace is refused with the namespace it was probably meant for', () => {
    // WHEN
    const run = () => platformInputFromStackConfig({ 'k6platfrom:tests': '[]', 'kubernetes:context': 'kind' }, 'dev');
    // THEN
    expect(run).toThrow(PlatformConfigError);
    expect(run).toThrow(
      `Invalid stack config of dev (1 problem):\n  - 'k6platfrom:tests' is in an unknown config namespace "k6platfrom" (did you mean 'k6platform:tests'?); known namespaces: k6platform, kubernetes, docker-build, pulumi`,
    );
  });

  test('an unknown namespace far from every known one is listed without a guess', () => {
    const problems: string[] = [];
    platformInputFromStackConfig({ 'aws:region': 'eu-west-1' }, 'dev', problems);
    expect(problems).toEqual([
      `'aws:region' is in an unknown config namespace "aws"; known namespaces: k6platform, kubernetes, docker-build, pulumi`,
    ]);
  });

  test.each([
    ['{"pushInterval": 10s}', `'k6platform:runner' must be valid JSON (a value starting with "{" or "[" is read as JSON): it breaks at character 19`],
    [
      '{"pushInterval": "secret-ish',
      `'k6platform:runner' must be valid JSON (a value starting with "{" or "[" is read as JSON): it breaks at character 28`,
    ],
    ['[1,', `'k6platform:runner' must be valid JSON (a value starting with "{" or "[" is read as JSON): it ends too early`],
  ])('a JSON string that does not parse names the key: %s', (raw, expected) => {
    // WHEN
    const problems: string[] = [];
    platformInputFromStackConfig({ 'k6platform:runner': raw }, 'dev', problems);
    // THEN
    expect(problems).toEqual([expected]);
    expect(problems.join('\n')).not.toContain('secret-ish');
  });

  test('parseStackConfig reports namespace, JSON and schema problems together', () => {
    const run = () =>
      parseStackConfig({ 'k6platfrom:tests': '[]', 'k6platform:runner': '{', 'k6platform:environment': 'Qa' }, 'qa', {
        description: 'Pulumi.qa.yaml',
        keyPrefix: 'k6platform:',
      });
    expect(run).toThrow(
      /^Invalid Pulumi\.qa\.yaml \(3 problems\):\n {2}- 'k6platfrom:tests' is in an unknown config namespace .*\n {2}- 'k6platform:runner' must be valid JSON .*: it breaks at character 1\n {2}- 'k6platform:environment' must be a DNS label: .*, got "Qa"$/,
    );
  });
});

describe('stackFileEntries: a stack file read as Pulumi reads it', () => {
  const problemsOfFile = (text: string): readonly string[] => {
    try {
      stackFileEntries(text, 'Pulumi.qa.yaml');
    } catch (e) {
      if (e instanceof PlatformConfigError) return e.problems;
      throw e;
    }
    throw new Error('expected the file to be rejected');
  };

  test.each([
    ['hello\n', 'Pulumi.qa.yaml must be a YAML mapping with a "config:" section (Pulumi stack settings), got a string'],
    ['', 'Pulumi.qa.yaml must be a YAML mapping with a "config:" section (Pulumi stack settings), got nothing'],
    ['- a\n- b\n', 'Pulumi.qa.yaml must be a YAML mapping with a "config:" section (Pulumi stack settings), got a list'],
    ['encryptionsalt: v1:abc\n', 'Pulumi.qa.yaml must have a "config:" section (the stack\'s settings, keys such as k6platform:tests)'],
    ['config: hello\n', `'config' must be a mapping of keys such as k6platform:tests to values, got a string`],
    [
      'conifg:\n  k6platform:tests: []\n',
      `'conifg' is not a stack file setting (did you mean 'config'?); allowed: config, encryptionsalt, secretsprovider, encryptedkey, environment`,
    ],
    ['config:\n  k6platform:runner:\n    image: a: b\n', 'Pulumi.qa.yaml:3:12: Nested mappings are not allowed in compact mappings'],
    ['config:\n  k6platform:grafanaAdminPassword: "hunter2\n', 'Pulumi.qa.yaml:3:1: Missing closing "quote'],
    ['config:\n  k6platform:tests: []\n  k6platform:tests: []\n', 'Pulumi.qa.yaml:3:3: Map keys must be unique'],
  ])('%j is refused', (text, expected) => {
    const problems = problemsOfFile(text);
    expect(problems).toContainEqual(expected);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  test('merge keys work as in Pulumi: a base test reused with <<: *anchor', () => {
    // GIVEN
    const text = [
      'config:',
      '  k6platform:tests:',
      '    - &base',
      '      name: api',
      '      script: api.js',
      '      parallelism: 4',
      '    - <<: *base',
      '      name: api-soak',
      '      duration: 1h',
    ].join('\n');
    // WHEN
    const cfg = parseStackConfig(stackFileEntries(text, 'Pulumi.qa.yaml'), 'qa', { keyPrefix: 'k6platform:' });
    // THEN
    expect(cfg.tests.map((t) => [t.name, t.script, t.parallelism, t.duration])).toEqual([
      ['api', 'api.js', 4, undefined],
      ['api-soak', 'api.js', 4, '1h'],
    ]);
  });

  test('config: with nothing under it is an empty config', () => {
    expect(stackFileEntries('config:\n', 'Pulumi.qa.yaml')).toEqual({});
  });
});
