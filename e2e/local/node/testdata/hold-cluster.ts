// Starts a one-node cluster with a running pod (so containerd has a shim and containers), prints what it made
// as one JSON line, and waits to be killed: the clean-up test SIGKILLs it to leave everything behind.
import { pauseImage, startCluster } from "../index.ts";

const cluster = await startCluster({ nodes: [{ name: "held" }] });
const pause = pauseImage();
const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "held", namespace: "default" },
  spec: { containers: [{ name: "pause", image: pause.name, imagePullPolicy: "Never" }] },
};
const applied = await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(pod) });
if (applied.code !== 0) throw new Error(applied.stderr);
const waited = await cluster.kubectl(["wait", "--for=condition=Ready", "pod/held", "--timeout=60s"]);
if (waited.code !== 0) throw new Error(waited.stderr);
process.stdout.write(
  `${JSON.stringify({ index: cluster.plan.index, dir: cluster.dir, controlPlane: cluster.controlPlane.dir })}\n`,
);
setInterval(() => {}, 60_000);
