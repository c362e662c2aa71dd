/**
 * `@k6-platform/constructs/output`: the application side of the package. It reads an environment's stack file
 * (`Pulumi.<env>.yaml`), builds its charts and writes them to disk (dist/, the Helm bundle). The constructs and their
 * props are the package's main entry; this subpath is for the tools around them (`cdk8s synth`, the `loadtest` CLI,
 * the Pulumi program).
 *
 * @packageDocumentation
 */
export * from './synth';
export * from './layout';
export * from './environment-files';
export * from './helm-bundle';
