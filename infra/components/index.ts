/**
 * The platform's Pulumi components, for a platform team's own Pulumi program (examples/pulumi-team-program): build a
 * `PlatformConfig` with `parsePlatformConfig` from `@k6-platform/constructs`, then create a {@link Platform}.
 *
 * They live here, in the Pulumi program's folder, and not in `@k6-platform/constructs`: that package depends on cdk8s
 * only (no `@pulumi/*`; test/package-boundary.test.ts), so cdk8s users do not install Pulumi, and a component needs
 * `@pulumi/pulumi` and `@pulumi/kubernetes` at the versions the program pins. Not Pulumi.yaml's `main` (infra/index.ts
 * is): every export of that module becomes a stack output.
 */
export { Platform, type PlatformArgs } from './platform';
export { RunnerImageBuild, type RunnerImageBuildArgs } from './runner-image-build';
