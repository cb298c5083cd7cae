// Which capabilities a process lacks, and what an EPERM says about them (docs/adr/0020).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CAP,
  type CapabilityName,
  effectiveCapabilities,
  missingCapabilities,
  NEEDED_CAPABILITIES,
  permissionHint,
} from "./capabilities.ts";
import { BpfError, BpfErrorCode } from "./errors.ts";

const set = (...caps: CapabilityName[]): bigint => caps.reduce((s, c) => s | (1n << BigInt(CAP[c])), 0n);

describe("capabilities", () => {
  it("reads CapEff", () => {
    assert.equal(
      effectiveCapabilities("Name:\tx\nCapEff:\t000000c000201000\n"),
      set("BPF", "PERFMON", "SYS_ADMIN", "NET_ADMIN"),
    );
    assert.equal(effectiveCapabilities("Name:\tx\n"), 0n);
  });

  it("needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON; CAP_SYS_ADMIN stands in for the first and last, as in the kernel", () => {
    assert.deepEqual([...NEEDED_CAPABILITIES], ["BPF", "NET_ADMIN", "PERFMON"]);
    assert.deepEqual(missingCapabilities(NEEDED_CAPABILITIES, set("BPF", "NET_ADMIN", "PERFMON")), []);
    assert.deepEqual(missingCapabilities(NEEDED_CAPABILITIES, set("SYS_ADMIN", "NET_ADMIN")), []);
    assert.deepEqual(missingCapabilities(NEEDED_CAPABILITIES, set("SYS_ADMIN")), ["CAP_NET_ADMIN"]);
    assert.deepEqual(missingCapabilities(NEEDED_CAPABILITIES, set("BPF", "NET_ADMIN")), ["CAP_PERFMON"]);
  });

  it("names what a refused step lacks", () => {
    const three = set("BPF", "NET_ADMIN", "PERFMON");
    assert.equal(
      permissionHint("open prog id 7", three),
      "this process lacks CAP_SYS_ADMIN, for which alone the kernel opens a BPF object by id",
    );
    assert.equal(
      permissionHint("load /x.o", set("BPF", "NET_ADMIN")),
      "this process lacks CAP_PERFMON, which this step needs; xdp-counter needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON",
    );
    assert.match(permissionHint("load /x.o", set("PERFMON")), /lacks CAP_BPF and CAP_NET_ADMIN, which/);
    assert.match(permissionHint("attach XDP program", set("BPF")), /lacks CAP_NET_ADMIN, which/);
    assert.equal(
      permissionHint("load /x.o", three),
      "this process has CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, so something else refused: a seccomp filter, an LSM or kernel lockdown",
    );
  });

  it("puts the hint into an EPERM's message, and only an EPERM's or EACCES's", () => {
    const denied = new BpfError({ code: BpfErrorCode.PermissionDenied, op: "load /x.o", errno: 1 });
    assert.match(
      denied.message,
      /^load \/x\.o failed: EPERM \(Operation not permitted\); this process (lacks|has) /,
    );
    const other = new BpfError({ code: BpfErrorCode.ReadFailed, op: "load /x.o", errno: 2 });
    assert.doesNotMatch(other.message, /this process/);
  });
});
