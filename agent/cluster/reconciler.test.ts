import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BpfError, BpfErrorCode } from "../bpf/index.ts";
import type { NetInterface } from "../interfaces/index.ts";
import { dropRefusal, problemFor } from "./reconciler.ts";

const iface = (over: Partial<NetInterface>): NetInterface => ({
  name: "eth1",
  ifindex: 3,
  class: "physical",
  kind: undefined,
  up: true,
  addresses: [],
  defaultRoute: false,
  xdpProgId: 0,
  ...over,
});

describe("safety and problems", () => {
  it("refuses drop on the default-route interface and on the one holding the node's InternalIP", () => {
    assert.match(dropRefusal(iface({ defaultRoute: true }), new Set()) ?? "", /default route/);
    assert.match(
      dropRefusal(iface({ addresses: ["10.0.0.5", "fe80::1"] }), new Set(["10.0.0.5"])) ?? "",
      /InternalIP 10\.0\.0\.5/,
    );
    assert.equal(dropRefusal(iface({ addresses: ["10.0.1.5"] }), new Set(["10.0.0.5"])), undefined);
  });

  it("names why an interface cannot count", () => {
    const foreign = new BpfError({
      code: BpfErrorCode.ForeignProgram,
      op: "attach XDP program",
      iface: "eth1",
      detail: "program 'xdp_lb' (id 7, tag ab, native mode) is already attached",
    });
    assert.equal(problemFor(foreign).reason, "ForeignXdpProgram");
    assert.match(problemFor(foreign).error, /xdp_lb/);
    assert.equal(problemFor(new Error("boom")).reason, "AttachFailed");
  });
});
