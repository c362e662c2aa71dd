/**
 * Pulumi entry point (Pulumi.yaml `main: infra/`). Thin on purpose: the program is infra/stack.ts, and only its
 * outputs are exported here, so they become the stack outputs (`pulumi stack output`).
 */
export { environment, grafanaUrl, grafanaPortForwardCommand, prometheusPortForwardCommand, remoteWriteUrl, namespaces, runCommands } from './stack';
