/**
 * Drives the real client-node adapter (cli/cluster/kube.ts) from a child process (client-node is ESM-only; tsx loads it, jest
 * does not need to). Reads KUBECONFIG, runs each cluster operation once and prints the results as JSON.
 */
import { testRunCrdProblem } from '../../cli/run/follow-operator';
import { connectCluster } from '../../cli/cluster/kube';

async function main(): Promise<void> {
  const cluster = connectCluster();
  await cluster.apply([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'k6', labels: { a: 'b' } }, data: { k: 'v' } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'run-runner', namespace: 'k6' }, spec: {} },
  ]);
  const jobs = await cluster.listJobs('k6', 'k6.platform/run-id=run');
  const pods = await cluster.listPods('k6', 'k6.platform/run-id=run');
  await cluster.deleteJobs('k6', 'k6.platform/run-id=run');
  // mode "operator": the TestRun CRD, a TestRun, and deleting it (a missing one is no error)
  const crd = await cluster.readCrd('testruns.k6.io');
  const noCrd = await cluster.readCrd('none.example.com');
  let crdError = '';
  await cluster.readCrd('forbidden.example.com').catch((e: unknown) => (crdError = e instanceof Error ? e.message : String(e)));
  const testRun = await cluster.getTestRun('k6', 'run');
  const noTestRun = await cluster.getTestRun('k6', 'gone');
  await cluster.deleteTestRun('k6', 'run');
  await cluster.deleteTestRun('k6', 'gone');
  process.stdout.write(
    JSON.stringify({
      description: cluster.description,
      jobs,
      pods,
      crd: { name: crd?.metadata?.name, problem: testRunCrdProblem(crd) ?? null },
      noCrd: noCrd === undefined,
      crdError,
      testRun,
      noTestRun: noTestRun === undefined,
    }),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e));
  process.exitCode = 1;
});
