// A test run that is aborted: starts a cluster with a probe DaemonSet, prints the cluster's name and its pods'
// pids as JSON once they run, then waits to be killed by a signal without calling stop().
import { startCluster } from "../index.ts";
import { commands, probeDaemonSet, probeRbac, until } from "./probe.ts";

const c = await startCluster({ nodes: [{ labels: { probe: "yes" } }], commands });
await c.kubectl(["apply", "-f", probeRbac]);
await c.kubectl(["apply", "-f", "-"], {
  input: probeDaemonSet({ name: "aborted", nodeSelector: { probe: "yes" } }),
});
const pods = await until("the pod to run", () => (c.pods().some((p) => p.ready) ? c.pods() : undefined));
process.stdout.write(`${JSON.stringify({ name: c.name, dir: c.dir, pids: pods.map((p) => p.pid) })}\n`);
setInterval(() => {}, 1000);
