import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as YAML from 'yaml';
import { stackFileEntries } from '../../constructs/src/config/platform-config';

/**
 * Runs the Pulumi program under `pulumi.runtime.setMocks` for one stack file, the way `pulumi up` would feed it:
 * config from Pulumi.<stack>.yaml (structured values as JSON strings, as the CLI passes them) plus the secrets a user
 * sets with `pulumi config set --secret`. Records every registered resource with its inputs (secrets still marked)
 * and its explicit dependencies.
 */

export const ROOT = path.resolve(__dirname, '..', '..');

/** A resource the program registered. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  /** Inputs as the mock monitor receives them: a secret value is wrapped as `{<sig key>: SECRET_SIG, value}`. */
  readonly inputs: Record<string, unknown>;
  /** Names of the resources it depends on (`dependsOn`, resolved to URNs by the SDK). */
  readonly dependsOn: readonly string[];
}

/** The stack config of a committed stack file as the Pulumi CLI hands it to the program. */
export function stackFileConfig(stack: string): Record<string, string> {
  return toCliConfig(stackFileEntries(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), 'utf8'), `Pulumi.${stack}.yaml`));
}

/** Structured values become JSON strings, scalars strings: the shape of `pulumi.runtime.allConfig()`. */
export function toCliConfig(config: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]));
}

/** Pulumi's marker of a secret value on the wire. */
export const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
const SIG_KEY = '4dabf18193072939515e22adb298388d';

/** True when a wire value is a secret. */
export function isWireSecret(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

interface RegisterRequest {
  getName(): string;
  getType(): string;
  getDependenciesList(): string[];
}
interface Monitor {
  registerResource(req: RegisterRequest, cb: unknown): void;
}

/** One declaration of Pulumi.yaml's `config:` block. */
export interface ConfigDeclaration {
  readonly type?: string;
  readonly items?: { readonly type: string };
  readonly description?: string;
  readonly default?: unknown;
  readonly secret?: boolean;
}

/** Pulumi.yaml's `config:` block, keys as written (`environment`, not `k6platform:environment`). */
export function projectConfigDeclarations(): Record<string, ConfigDeclaration> {
  const project = YAML.parse(readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8')) as { config?: Record<string, ConfigDeclaration> };
  return project.config ?? {};
}

/**
 * What the Pulumi CLI does with the project's config declarations before the program runs, emulated from
 * pulumi/pulumi v3.248.0 sdk/go/common/workspace/config.go (`mergeConfig`, `validateStackConfigValue`): a declared
 * project key the stack lacks gets its `default` (objects as JSON, as `createConfigValue` stores them); without a
 * default the stack is missing it; a key declared `secret: true` must be set as a secret. Values are not type-checked
 * here (the CLI checks the YAML value's type; these tests pass structured values as JSON text already).
 */
export function applyProjectConfig(stack: string, config: Record<string, string>, secretKeys: readonly string[]): Record<string, string> {
  const out = { ...config };
  const missing: string[] = [];
  for (const [declared, d] of Object.entries(projectConfigDeclarations())) {
    const key = declared.includes(':') ? declared : `k6platform:${declared}`;
    if (out[key] === undefined) {
      if (d.default === undefined) missing.push(declared);
      else out[key] = typeof d.default === 'object' && d.default !== null ? JSON.stringify(d.default) : String(d.default as string);
    } else if (d.secret === true && !secretKeys.includes(key)) {
      throw new Error(`Stack '${stack}' with configuration key '${declared}' must be encrypted as it's secret`);
    }
  }
  if (missing.length > 0) throw new Error(`Stack '${stack}' is missing configuration ${missing.map((k) => `'${k}'`).join(', ')}`);
  return out;
}

/**
 * Sets config (with Pulumi.yaml's defaults applied, as the CLI does) and mocks for `stack`, recording registrations
 * into the returned array. Call before requiring the program (`require('../stack')`).
 */
export async function mockStack(stack: string, config: Record<string, string>, secretKeys: readonly string[]): Promise<Registered[]> {
  const registered: Registered[] = [];
  const pending = new Map<string, { dependsOn: string[] }>();
  pulumi.runtime.setAllConfig(applyProjectConfig(stack, config, secretKeys), [...secretKeys]);
  await pulumi.runtime.setMocks(
    {
      newResource: (args: pulumi.runtime.MockResourceArgs) => {
        const seen = pending.get(`${args.type}::${args.name}`) ?? { dependsOn: [] };
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, ...seen });
        return { id: args.inputs?.metadata?.name ?? `${args.name}-id`, state: args.inputs };
      },
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    },
    'k6platform',
    stack,
  );
  // Wrap the mock monitor to see what newResource is not given: the explicit dependencies.
  const monitor = (pulumi.runtime as unknown as { getMonitor(): Monitor }).getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    pending.set(`${req.getType()}::${req.getName()}`, {
      dependsOn: req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf('::') + 2)),
    });
    original(req, cb);
  };
  return registered;
}

/** Resolves an output's value (mocks run the program for real; nothing sleeps). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}
