/**
 * The platform's shared facts, one spelling each: k6's ports, exit codes and env names, label and tag names, the run-id
 * grammar and the names of a run's objects, the run → test mapping, Prometheus' port and PromQL quoting, the version
 * pins. constructs/, cli/ and dashboards/ import them from here (through the package entry).
 */
export * from './k6';
export * from './labels';
export * from './prometheus';
export * from './runs';
export * from './versions';
