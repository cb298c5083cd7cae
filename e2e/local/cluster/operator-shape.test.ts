// The agent DaemonSet exactly as the operator renders it (operator/daemonset), owned by a real XdpCounter of
// the project's CRD, runs on the nodes its spec selects: the program of the image is mapped to a local command,
// the env (agent configuration, NODE_NAME) reaches the process, the readiness probe on the agent port gates
// the status, and deleting the XdpCounter takes the DaemonSet and its processes away (garbage collection).
// The agent's cluster mode is not built yet: a probe stands in for it. Needs root.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AGENT_CONFIG_ENV, NODE_NAME_ENV, type XdpCounter } from "../../../api/v1alpha1/index.ts";
import { parseOperatorConfig } from "../../../operator/config/index.ts";
import { renderDaemonSet } from "../../../operator/daemonset/index.ts";
import { type Cluster, startCluster } from "./index.ts";
import { getJson, isReady, kubectlOk, type Pod, probePod, processAlive, until } from "./testdata/probe.ts";

const repo = join(import.meta.dirname, "..", "..", "..");
let c: Cluster;

before(async () => {
  c = await startCluster({
    nodes: [{ labels: { "xdp-counter.dev/edge": "true" } }, {}],
    crds: [join(repo, "crds", "xdpcounters.xdpcounter.dev.yaml")],
    // The image's program: the probe, serving /readyz on the operator's default agent port.
    commands: { "xdp-counter": ["env", "PORT=9731", process.execPath, probePod] },
  });
});

after(async () => {
  await c?.stop();
});

/** The environment a process was started with. */
function environ(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

test("the operator's agent DaemonSet runs on the selected nodes and goes with its XdpCounter", async () => {
  await kubectlOk(c, ["create", "namespace", "xdp-counter"]);
  await kubectlOk(c, ["create", "serviceaccount", "-n", "xdp-counter", "xdp-counter-agent"]);
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      metadata: { name: "edge" },
      spec: { interfaces: ["eth1"], nodeSelector: { "xdp-counter.dev/edge": "true" } },
    }),
  );
  const xdpc = await getJson<XdpCounter>(c, ["xdpcounter", "edge"]);
  const config = parseOperatorConfig({
    XDP_COUNTER_NAMESPACE: "xdp-counter",
    XDP_COUNTER_AGENT_IMAGE: "ghcr.io/example/xdp-counter:0.1.0",
  });
  const ds = renderDaemonSet(xdpc, config);
  await kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(ds));

  const pods = await until("the agent pod ready", async () => {
    const items = (
      await getJson<{ items: Pod[] }>(c, [
        "pods",
        "-n",
        "xdp-counter",
        "-l",
        "xdpcounter.dev/xdpcounter=edge",
      ])
    ).items;
    return items.length === 1 && items.every(isReady) ? items : undefined;
  });
  assert.equal(pods[0]?.spec.nodeName, "node-1");
  const proc = c.podsOn("node-1")[0];
  assert.ok(proc?.pid);
  const env = environ(proc.pid);
  assert.equal(env[NODE_NAME_ENV], "node-1");
  const agentConfig = JSON.parse(env[AGENT_CONFIG_ENV] ?? "{}") as {
    xdpCounter?: string;
    interfaces?: string[];
  };
  assert.deepEqual(agentConfig.interfaces, ["eth1"]);
  assert.match(env.KUBECONFIG ?? "", /kubeconfig$/);
  assert.match(readFileSync(env.KUBECONFIG ?? "", "utf8"), new RegExp(c.clusterUrl.replaceAll(".", "\\.")));

  await kubectlOk(c, ["delete", "xdpcounter", "edge"]);
  await until("the DaemonSet to be collected", async () => {
    const r = await c.kubectl(["get", "daemonset", "-n", "xdp-counter", ds.metadata.name]);
    return r.code !== 0 && r.stderr.includes("NotFound");
  });
  await until("the agent's process to exit", () => !processAlive(proc.pid));
  await until("the pod to be gone", async () => c.pods().length === 0);
});
