import * as pulumi from '@pulumi/pulumi';
import { CONFIG_NAMESPACE } from '@k6-platform/constructs/internal';

/**
 * Which cluster the program's Kubernetes provider talks to.
 *
 * The program creates an explicit `k8s.Provider`, and the engine gives stack config of the `kubernetes:` namespace only
 * to the DEFAULT provider (pulumi/pulumi v3.248.0 pkg/resource/deploy/default_providers.go,
 * `newRegisterDefaultProviderEvent` builds its inputs from `GetPackageConfig("kubernetes")`); an explicit provider
 * sees its inputs alone (pulumi-kubernetes provider/pkg/provider/provider.go `Configure` reads
 * `kubernetes:config:kubeconfig` / `kubernetes:config:context` from them, and falls back to $KUBECONFIG and the
 * kubeconfig's current context when they are empty). So `kubernetes:context` and `kubernetes:kubeconfig`, the keys
 * Pulumi users already set, reach the cluster only if the program forwards them, which it does here.
 *
 * Precedence, per setting: `k6platform:<key>` when set (non-empty), else `kubernetes:<key>`, else nothing (ambient:
 * $KUBECONFIG or ~/.kube/config, and its current context). When both are set and differ, a warning says which wins.
 */

/** The provider settings and where each came from. */
export interface KubeTarget {
  /** Kubeconfig contents or path, always secret. @default - the ambient kubeconfig */
  readonly kubeconfig?: pulumi.Output<string>;
  /** Kube context. @default - the kubeconfig's current context */
  readonly context?: string;
  /** The config key each setting was read from (`k6platform:context`, `kubernetes:kubeconfig`, ...). */
  readonly sources: { readonly kubeconfig?: string; readonly context?: string };
}

/** The namespace of the Kubernetes provider's own config keys. */
export const KUBERNETES_NAMESPACE = 'kubernetes';

/**
 * Reads `context` and `kubeconfig` from the platform's and the provider's config namespaces and applies the precedence
 * above. A kubeconfig's value never appears in a warning (it may hold credentials); a context's name does.
 */
export function readKubeTarget(warn: (message: string) => void = (m) => pulumi.log.warn(m)): KubeTarget {
  const platform = new pulumi.Config(CONFIG_NAMESPACE);
  const kubernetes = new pulumi.Config(KUBERNETES_NAMESPACE);
  const pick = (key: 'context' | 'kubeconfig'): { value?: string; source?: string } => {
    const own = nonEmpty(platform.get(key));
    const provider = nonEmpty(kubernetes.get(key));
    const ownKey = `${CONFIG_NAMESPACE}:${key}`;
    const providerKey = `${KUBERNETES_NAMESPACE}:${key}`;
    if (own !== undefined && provider !== undefined && own !== provider) {
      const shown = key === 'context' ? ` ('${own}' over '${provider}')` : '';
      warn(
        `'${ownKey}' and '${providerKey}' are both set and differ; the Kubernetes provider uses '${ownKey}'${shown}. ` +
          `Remove one of them (\`pulumi config rm ${key}\` or \`pulumi config rm ${providerKey}\`).`,
      );
    }
    if (own !== undefined) return { value: own, source: ownKey };
    if (provider !== undefined) return { value: provider, source: providerKey };
    return {};
  };
  const context = pick('context');
  const kubeconfig = pick('kubeconfig');
  return {
    ...(kubeconfig.value !== undefined ? { kubeconfig: pulumi.secret(kubeconfig.value) } : {}),
    ...(context.value !== undefined ? { context: context.value } : {}),
    sources: {
      ...(kubeconfig.source !== undefined ? { kubeconfig: kubeconfig.source } : {}),
      ...(context.source !== undefined ? { context: context.source } : {}),
    },
  };
}

/** A config value, or undefined when unset or empty (the provider, too, treats an empty `kubeconfig` as absent). */
function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
