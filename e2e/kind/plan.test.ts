// The kind run's pure parts (e2e/kind/plan.ts): the cluster configuration, the traffic network and the pods.
// The run itself needs Docker and kind and is not faked here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Script } from "node:vm";
import { parse } from "yaml";
import { clientPod, kindConfig, serverPod, tokenKubeconfig, trafficNet, UDP_PORT } from "./plan.ts";

type Pod = {
  spec: {
    nodeName: string;
    hostNetwork: boolean;
    restartPolicy: string;
    containers: { command: string[] }[];
  };
};

test("kind config: one control plane and two workers", () => {
  const config = parse(kindConfig()) as { kind: string; apiVersion: string; nodes: { role: string }[] };
  assert.equal(config.kind, "Cluster");
  assert.equal(config.apiVersion, "kind.x-k8s.io/v1alpha4");
  assert.deepEqual(
    config.nodes.map((n) => n.role),
    ["control-plane", "worker", "worker"],
  );
});

test("traffic network: two addresses in its subnet, named after the cluster", () => {
  const net = trafficNet("xdpc-e2e-1", 210);
  assert.equal(net.name, "xdpc-e2e-1-traffic");
  assert.equal(net.subnet, "172.31.210.0/24");
  for (const ip of net.ips) assert.ok(ip.startsWith("172.31.210."));
  assert.notEqual(net.ips[0], net.ips[1]);
});

test("sink and sender pods: host network, pinned to their node, valid scripts", () => {
  const sink = serverPod("w1", "xdp-counter:e2e") as Pod;
  const sender = clientPod("s", "w2", "xdp-counter:e2e", "172.31.210.10", 1234, 100) as Pod;
  assert.equal(sink.spec.nodeName, "w1");
  assert.equal(sender.spec.nodeName, "w2");
  assert.equal(sink.spec.hostNetwork && sender.spec.hostNetwork, true);
  assert.equal(sender.spec.restartPolicy, "Never", "a sender runs once: a restart would send twice");
  for (const pod of [sink, sender]) {
    const [node, flag, script] = pod.spec.containers[0]?.command ?? [];
    assert.equal(node, "node");
    assert.equal(flag, "-e");
    assert.doesNotThrow(() => new Script(script ?? ""), "the script parses");
    assert.ok(script?.includes(String(UDP_PORT)));
  }
  const script = sender.spec.containers[0]?.command[2] ?? "";
  assert.match(script, /i < 1234/);
  assert.match(script, /Buffer\.alloc\(100\)/);
  assert.match(script, /"172\.31\.210\.10"/);
});

test("a ServiceAccount kubeconfig carries the token, server and CA", () => {
  const k = JSON.parse(tokenKubeconfig("https://127.0.0.1:6443", "Q0E=", "tok"));
  assert.equal(k.clusters[0].cluster.server, "https://127.0.0.1:6443");
  assert.equal(k.clusters[0].cluster["certificate-authority-data"], "Q0E=");
  assert.equal(k.users[0].user.token, "tok");
  assert.equal(k["current-context"], "sa");
});
