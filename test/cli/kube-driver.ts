/**
 * Drives the real client-node adapter (cli/kube.ts) from a child process (client-node is ESM-only; tsx loads it, jest
 * does not need to). Reads KUBECONFIG, runs each cluster operation once and prints the results as JSON.
 */
import { connectCluster } from '../../cli/kube';

async function main(): Promise<void> {
  const cluster = connectCluster();
  await cluster.apply([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'k6', labels: { a: 'b' } }, data: { k: 'v' } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'run-runner', namespace: 'k6' }, spec: {} },
  ]);
  const jobs = await cluster.listJobs('k6', 'k6.platform/run-id=run');
  const pods = await cluster.listPods('k6', 'k6.platform/run-id=run');
  await cluster.deleteJobs('k6', 'k6.platform/run-id=run');
  process.stdout.write(JSON.stringify({ description: cluster.description, jobs, pods }));
}

main().catch((e: unknown) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e));
  process.exitCode = 1;
});
