// Which binaries one `go build` makes together (pure logic; the builds themselves run in .ci/install).
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildGroups, type GoBinary } from "./gobuild.ts";

const bin = (name: string, pkg: string, moduleDir = "/m", tags = ["a"], ldflags = ["-s"]): GoBinary => ({
  name,
  pkg,
  moduleDir,
  tags,
  ldflags,
});

test("binaries of one module, tags and flags, named as Go names them, build together", () => {
  const apiserver = bin("kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver");
  const kubectl = bin("kubectl", "k8s.io/kubernetes/cmd/kubectl");
  const etcd = bin("etcd", "go.etcd.io/etcd/server/v3", "/m/etcd");
  const promtool = bin("promtool", "github.com/prometheus/prometheus/cmd/promtool", "/p");
  const other = bin("kubelet", "k8s.io/kubernetes/cmd/kubelet", "/m", ["b"]);
  assert.deepEqual(buildGroups([apiserver, etcd, kubectl, promtool, other]), [
    [apiserver, kubectl],
    [promtool],
    [other],
    // Go would name it v3: built alone, under its own name
    [etcd],
  ]);
});

test("different ldflags or modules never share a build", () => {
  const a = bin("a", "x/a", "/m", [], ["-X=v=1"]);
  const b = bin("b", "x/b", "/m", [], ["-X=v=2"]);
  const c = bin("c", "x/c", "/n", [], ["-X=v=1"]);
  assert.deepEqual(buildGroups([a, b, c]), [[a], [b], [c]]);
  assert.deepEqual(buildGroups([]), []);
});
