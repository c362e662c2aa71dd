/**
 * A platform team's Pulumi program: its own project, config and namespaces, the platform's {@link Platform} component
 * doing the rest (kube-prometheus-stack as a Helm Release, the Grafana Secret, dashboards, scripts, the load tests).
 *
 * The cluster is the DEFAULT Kubernetes provider's: it reads `kubernetes:context` and `kubernetes:kubeconfig` from the
 * stack config itself (pulumi/pulumi v3.248.0 pkg/resource/deploy/default_providers.go), so the program creates no
 * provider; the context is read here only to print it in the run commands.
 */
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parsePlatformConfig, type TestInput } from '@k6-platform/constructs';
// In this repository the component is imported from its folder; see README.md for a team's own repository.
import { Platform } from '../../infra/components';

const config = new pulumi.Config();
const stack = pulumi.getStack();

/** The team's platform config: the same schema as the platform's own stacks, errors named `payments-loadtests:<key>`. */
export const platformConfig = parsePlatformConfig(
  {
    environment: stack,
    namespaces: { monitoring: 'payments-monitoring', loadTests: 'payments-k6' },
    monitoring: { prometheus: { retention: '7d' }, grafana: { persistence: { enabled: false } } },
    tests: config.requireObject<TestInput[]>('tests'),
  },
  { description: `Pulumi.${stack}.yaml`, keyPrefix: `${pulumi.getProject()}:` },
);

const kubeContext = new pulumi.Config('kubernetes').get('context');

export const platform = new Platform(stack, {
  config: platformConfig,
  scriptsDir: path.join(__dirname, 'scripts'),
  secrets: { grafanaAdminPassword: config.requireSecret('grafanaAdminPassword') },
  ...(kubeContext !== undefined && kubeContext !== '' ? { kubeContext } : {}),
});

/** Grafana (in-cluster Service URL; no ingress here). */
export const grafanaUrl = platform.grafanaUrl;
/** Reach Grafana from a workstation on http://localhost:3000. */
export const grafanaPortForwardCommand = platform.grafanaPortForwardCommand;
/** The command that starts a run, by test name. */
export const runCommands = platform.runCommands;
