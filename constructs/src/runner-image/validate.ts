import { z } from 'zod';
import { defaultK6Image } from '../contract/versions';
import { describeIssues } from '../config/platform-config';
import { imageReference, imageRepository, semver } from '../config/rules';
import { runnerConfigSchema, runnerImageRules, type RunnerFieldNames } from '../config/runner';
import type { RunnerImageProps } from './props';

/**
 * The props named differently from the platform config's `runner` section: prop -> schema field. Every other prop
 * checked here has the schema field's name.
 */
const SCHEMA_FIELD_OF_PROP = { namespace: 'buildNamespace', egress: 'buildEgress' } as const;
const PROP_OF_SCHEMA_FIELD: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SCHEMA_FIELD_OF_PROP).map(([p, f]) => [f, p]));
/** The runner-image rules with fields named as the props name them (`extensions`, `namespace`). */
const PROP_NAMES: RunnerFieldNames = {
  path: (f) => [PROP_OF_SCHEMA_FIELD[f] ?? f],
  name: (f) => PROP_OF_SCHEMA_FIELD[f] ?? f,
};

const runner = runnerConfigSchema.shape;
/**
 * RunnerImage props, checked by the pieces of the platform config's `runner` section where a prop is one of its fields
 * (the same rules and defaults), by rules of config/rules.ts for the build inputs the section does not have, and by
 * the section's runner-image rules across fields.
 */
const runnerImagePropsSchema = z
  .object({
    // Optional, not defaulted: with extensions, an image given at all is a conflict, even the default one.
    image: imageReference.optional(),
    k6Version: runner.k6Version,
    extensions: runner.extensions,
    registry: runner.registry,
    repository: runner.repository,
    pushSecret: runner.pushSecret,
    builderResources: runner.builderResources,
    build: runner.build,
    goProxy: runner.goProxy,
    // Named differently in the props (SCHEMA_FIELD_OF_PROP).
    namespace: runner.buildNamespace,
    egress: runner.buildEgress,
    // Build inputs the platform config does not expose (versions.ts pins them).
    xk6Version: semver.optional(),
    goBuilderImage: imageReference.optional(),
    builderImage: imageReference.optional(),
    k6ImageRepository: imageRepository.optional(),
    createNamespace: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .superRefine((p, ctx) =>
    runnerImageRules({ ...p, image: p.image ?? defaultK6Image, buildNamespace: p.namespace }, ctx, {
      names: PROP_NAMES,
      imageGiven: p.image !== undefined,
    }),
  );

/**
 * Checks RunnerImage props and throws once with every problem, one line each naming the field:
 * `RunnerImage: '<field>' <rule>, got <value>`. (Platform config goes through parsePlatformConfig first, which
 * reports the same problems with config paths.)
 */
export function validateRunnerImageProps(props: RunnerImageProps): void {
  const result = runnerImagePropsSchema.safeParse(props, { reportInput: true });
  if (result.success) return;
  throw new Error(
    describeIssues(result.error, ['runner'])
      .map((line) => `RunnerImage: ${line}`)
      .join('\n'),
  );
}
