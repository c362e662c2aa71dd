/** Labels every object of the platform carries (Kubernetes recommended labels plus the environment). */
export const PART_OF = 'k6-platform';

/** Label keys used across constructs (one spelling each). */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  environment: 'k6.platform/environment',
  test: 'k6.platform/test',
  runId: 'k6.platform/run-id',
} as const;

/** The labels every object of an environment gets (set once on each cdk8s Chart). */
export function platformLabels(environment: string): Record<string, string> {
  return {
    [LABELS.name]: 'k6-platform',
    [LABELS.partOf]: PART_OF,
    [LABELS.managedBy]: 'cdk8s',
    [LABELS.environment]: environment,
  };
}

/**
 * The k6 run tags (and so Prometheus labels) the platform sets on every runner's samples: the run id, the test, and
 * the runner. A script must not set them (synth refuses it); dashboards, the verdict and the CLI select by them.
 */
export const RUN_TAGS = { testid: 'testid', test: 'test', instance: 'instance_id' } as const;

/** The platform's namespaces when the config names none: kube-prometheus-stack and dashboards, and the load tests. */
export const DEFAULT_NAMESPACES = { monitoring: 'monitoring', loadTests: 'k6' } as const;
