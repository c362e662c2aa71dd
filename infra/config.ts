import * as pulumi from '@pulumi/pulumi';
import { deploySecrets } from '@k6-platform/constructs';
import { readKubeTarget, type KubeTarget } from './kube';
import { CONFIG_NAMESPACE, parseStackConfig, PlatformConfigError, type ConfigSource, type PlatformConfig } from '@k6-platform/constructs';

/**
 * Stack config (`Pulumi.<stack>.yaml` plus `pulumi config set`) to the platform config: the SAME parse as synth
 * (`loadEnvironmentConfig`), so a bad value gets the same message whichever way it arrives, plus the deploy-only keys
 * (kube provider settings and secrets) that synth ignores.
 */

/** Everything the Pulumi program needs from stack config. */
export interface StackConfig {
  /** The stack name (`dev`, `staging`, `prod`). */
  readonly stack: string;
  /** The validated, defaulted platform configuration. */
  readonly platform: PlatformConfig;
  /**
   * Kube provider settings: `k6platform:context` / `k6platform:kubeconfig` when set, else `kubernetes:context` /
   * `kubernetes:kubeconfig`, else the ambient kubeconfig ({@link readKubeTarget}).
   */
  readonly kube: KubeTarget;
  /** Secret values by config key (`grafanaAdminPassword`, `remoteWritePassword`, ...), always secret outputs. */
  readonly secrets: Readonly<Record<string, pulumi.Output<string>>>;
}

/** How stack config is named in errors: the file and the `k6platform:` key prefix, exactly as synth names them. */
export function stackConfigSource(stack: string): ConfigSource {
  return { description: `Pulumi.${stack}.yaml`, keyPrefix: `${CONFIG_NAMESPACE}:` };
}

/**
 * Reads and validates a stack's config. Throws a {@link PlatformConfigError} naming each bad key as `k6platform:<path>`:
 * first the platform config problems (identical to synth's), then every secret the config needs but the stack lacks.
 *
 * @param stack the stack name; also the default environment name
 * @param entries all config of the stack, as `pulumi.runtime.allConfig()` returns it
 */
export function readStackConfig(
  stack: string = pulumi.getStack(),
  entries: Readonly<Record<string, string>> = pulumi.runtime.allConfig(),
): StackConfig {
  const source = stackConfigSource(stack);
  const platform = parseStackConfig(entries, stack, source);
  const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;

  const problems: string[] = [];
  const secrets: Record<string, pulumi.Output<string>> = {};
  for (const s of deploySecrets(platform)) {
    for (const e of s.entries) {
      if (e.configKey === undefined) continue;
      const value = entries[key(e.configKey)];
      if (value === undefined || value === '') {
        problems.push(
          `'${key(e.configKey)}' is required (a secret: Secret '${s.namespace}/${s.name}' key '${e.key}'); ` +
            `set it with \`pulumi config set --secret ${e.configKey} <value>\``,
        );
      } else {
        secrets[e.configKey] = pulumi.secret(value);
      }
    }
  }
  if (problems.length > 0) throw new PlatformConfigError(problems, source.description ?? stack);

  return { stack, platform, kube: readKubeTarget(), secrets };
}
