import * as pulumi from '@pulumi/pulumi';
import { deploySecrets, DEPLOY_ONLY_KEYS } from '@k6-platform/constructs/internal';
import { readKubeTarget, type KubeTarget } from './kube';
import { CONFIG_NAMESPACE, parseStackConfig, PlatformConfigError, type ConfigSource, type PlatformConfig } from '@k6-platform/constructs/internal';

/**
 * Stack config (`Pulumi.<stack>.yaml` plus `pulumi config set`) to the platform config: the SAME parse as synth
 * (`loadEnvironmentConfig`), so a bad value gets the same message whichever way it arrives, plus the deploy-only keys
 * (kube provider settings and secrets) that synth ignores. Values are read through `pulumi.Config`, key by key, as
 * Pulumi.yaml declares them ({@link STACK_CONFIG_KEYS}); the zod schema stays the one validator.
 */

/** The type a key has in Pulumi.yaml's `config:` block (project config declarations). */
export type DeclaredType = 'string' | 'object' | 'array';

/** How the program reads one `k6platform:` key; Pulumi.yaml declares each with this type (a test checks both ways). */
export interface KeyDeclaration {
  readonly type: DeclaredType;
  /** Marked `secret: true` in Pulumi.yaml: the CLI then requires the key on every stack, encrypted. */
  readonly secret?: true;
  /** Read as a secret output without being marked (Pulumi requires a marked key on every stack; these are optional). */
  readonly secretValue?: true;
}

/**
 * Every `k6platform:` key the program reads: the schema's sections (the platform config, shared with synth) and
 * {@link DEPLOY_ONLY_KEYS} (provider settings and secrets).
 */
export const STACK_CONFIG_KEYS: Readonly<Record<string, KeyDeclaration>> = {
  environment: { type: 'string' },
  namespaces: { type: 'object' },
  monitoring: { type: 'object' },
  runner: { type: 'object' },
  network: { type: 'object' },
  tests: { type: 'array' },
  kubeconfig: { type: 'string', secretValue: true },
  context: { type: 'string' },
  grafanaAdminPassword: { type: 'string', secret: true },
  remoteWriteUsername: { type: 'string', secretValue: true },
  remoteWritePassword: { type: 'string', secretValue: true },
  remoteWriteToken: { type: 'string', secretValue: true },
};

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
 * Reads and validates a stack's config from the Pulumi runtime (what the language host passes, or what
 * `pulumi.runtime.setAllConfig` set in tests). Throws a {@link PlatformConfigError} naming each bad key as
 * `k6platform:<path>`: first the platform config problems (identical to synth's), then every secret the config needs
 * but the stack lacks.
 *
 * @param stack the stack name; also the default environment name
 */
export function readStackConfig(stack: string = pulumi.getStack()): StackConfig {
  const source = stackConfigSource(stack);
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const platform = parseStackConfig(platformEntries(config), stack, source);
  const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;

  const problems: string[] = [];
  const secrets: Record<string, pulumi.Output<string>> = {};
  for (const s of deploySecrets(platform)) {
    for (const e of s.entries) {
      if (e.configKey === undefined) continue;
      const value = config.getSecret(e.configKey);
      // Pulumi.yaml declares the optional secrets with the default "": empty is unset.
      if (value === undefined || config.get(e.configKey) === '') {
        problems.push(
          `'${key(e.configKey)}' is required (a secret: Secret '${s.namespace}/${s.name}' key '${e.key}'); ` +
            `set it with \`pulumi config set --secret ${e.configKey} <value>\``,
        );
      } else {
        secrets[e.configKey] = value;
      }
    }
  }
  if (problems.length > 0) throw new PlatformConfigError(problems, source.description ?? stack);
  return { stack, platform, kube: readKubeTarget(), secrets };
}

/**
 * The platform sections as stack config entries for the shared parser: each declared key read with the accessor of its
 * type (`get`, `getObject`), an empty string being unset (Pulumi.yaml's default ""). A value `getObject` cannot parse
 * is passed on as text, so the parser names the key and where the JSON breaks (`getObject`'s own error would quote the
 * value). The NAMES of undeclared keys are added too: Pulumi validates only the keys Pulumi.yaml declares (pulumi/pulumi
 * v3.248.0 sdk/go/common/workspace/config.go, `validateStackConfigValues` loops over `project.Config`), so a misspelt
 * `k6platform:grafanaPassword` would otherwise be ignored; the parser reports it exactly as synth does.
 */
function platformEntries(config: pulumi.Config): Record<string, unknown> {
  const entries: Record<string, unknown> = {};
  for (const [name, declaration] of Object.entries(STACK_CONFIG_KEYS)) {
    if (DEPLOY_ONLY_KEYS.includes(name)) continue;
    const text = config.get(name);
    if (text === undefined || text === '') continue;
    if (declaration.type === 'string') entries[`${CONFIG_NAMESPACE}:${name}`] = text;
    else {
      try {
        entries[`${CONFIG_NAMESPACE}:${name}`] = config.getObject<unknown>(name);
      } catch {
        entries[`${CONFIG_NAMESPACE}:${name}`] = text;
      }
    }
  }
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    const [ns, name] = fullKey.includes(':') ? [fullKey.slice(0, fullKey.indexOf(':')), fullKey.slice(fullKey.indexOf(':') + 1)] : ['', fullKey];
    if (ns === CONFIG_NAMESPACE && name in STACK_CONFIG_KEYS) continue;
    entries[fullKey] = null;
  }
  return entries;
}
