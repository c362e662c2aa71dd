import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
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

/**
 * Sets config and mocks for `stack`, recording registrations into the returned array. Call before requiring the
 * program (`require('../stack')`).
 */
export async function mockStack(stack: string, config: Record<string, string>, secretKeys: readonly string[]): Promise<Registered[]> {
  const registered: Registered[] = [];
  const pending = new Map<string, { dependsOn: string[] }>();
  pulumi.runtime.setAllConfig(config, [...secretKeys]);
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
