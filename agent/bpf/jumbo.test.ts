// Jumbo frames and multi-buffer XDP, on the kernel (root, bpffs): the counter is an xdp.frags program that
// counts whole frames, attaches natively at MTU 9000 on veth, keeps counting across an MTU change, replaces
// an earlier single-buffer build in place, and `auto` falls back to generic with the driver's reason when
// native XDP is refused. Each test makes its own namespaces and pin root and removes them, on failure too.
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { inNs } from "../../testing/bpf-core.ts";
import { sh, VethPair } from "../../testing/netns.ts";
import { CounterReader } from "./counters.ts";
import { BpfError, BpfErrorCode } from "./errors.ts";
import { COMPAT_OBJECT_PATH, DEFAULT_OBJECT_PATH } from "./layout.ts";
import { LoadedCounter, needsCompat } from "./object.ts";
import { testRun } from "./test-run.ts";

/** The counter as an earlier build shipped it: single-buffer, counting only a frame's linear part. */
const LINEAR = join(import.meta.dirname, "..", "..", "bench", "bpf", "xdp_counter_linear.o");
/** The frame mix of the tests: minimum, standard and jumbo frames, sizes on the wire. */
const MIX: Array<[number, number]> = [
  [64, 200],
  [1500, 150],
  [9000, 100],
];
const MIX_PACKETS = 450n;
const ETH_HLEN = 14n;
const MIX_BYTES = 200n * 64n + 150n * 1500n + 100n * 9000n;

type T = { after: (fn: () => Promise<void> | void) => void };

async function setup(t: T, mtu?: number): Promise<{ pair: VethPair; loc: string; pinRoot: string }> {
  const pair = await VethPair.create({ mtu });
  const pinRoot = `/sys/fs/bpf/xdp-counter-test-jumbo-${process.pid}-${pair.node.iface}`;
  mkdirSync(pinRoot, { recursive: true });
  t.after(async () => {
    await pair.destroy();
    rmSync(pinRoot, { recursive: true, force: true });
  });
  const loc = `owner: "t", pinRoot: ${JSON.stringify(pinRoot)}, iface: ${JSON.stringify(pair.node.iface)}`;
  return { pair, loc, pinRoot };
}

const attach = (loc: string, mode: string, objectPath?: string): string =>
  `const c = core.attachCounter({ ${loc}, mode: "${mode}", action: "pass"${objectPath ? `, objectPath: ${JSON.stringify(objectPath)}` : ""} });
   out.mode = c.mode; out.outcome = c.outcome; out.progId = c.progId; out.fallback = c.fallback ?? null;
   out.pass = c.read().pass; c.close();`;

for (const [build, objectPath] of [
  ["the counter", DEFAULT_OBJECT_PATH],
  ["the compat counter (kernels before 6.2)", COMPAT_OBJECT_PATH],
] as const) {
  test(`${build}: a frame larger than a page is counted whole, a small one by its length`, () => {
    using counter = LoadedCounter.load({ action: "pass", objectPath });
    for (const size of [64, 1500, 4000, 9000, 20_000]) {
      const r = testRun(counter.progFd, { data: Buffer.alloc(size, 0xab), repeat: 3 });
      assert.equal(r.retval, 2, "XDP_PASS");
    }
    const c = new CounterReader(counter.mapFd).read();
    assert.deepEqual(c.pass, { packets: 15n, bytes: 3n * (64n + 1500n + 4000n + 9000n + 20_000n) });
  });
}

test("the compat counter is chosen only when the kernel lacks the default object's kfunc", () => {
  // libbpf's words when a kernel has no bpf_cast_to_kern_ctx (Linux before 6.2), as the loader captures them
  const missing = new BpfError({
    code: BpfErrorCode.LoadFailed,
    op: "load bpf/xdp_counter.o",
    errno: 3,
    detail: "libbpf: extern (func ksym) 'bpf_cast_to_kern_ctx': not found in kernel or module BTFs",
  });
  assert.equal(needsCompat(missing), true);
  const verifier = new BpfError({
    code: BpfErrorCode.LoadFailed,
    op: "load",
    errno: 13,
    detail: "R1 invalid mem access",
  });
  assert.equal(needsCompat(verifier), false);
  assert.equal(needsCompat(new Error("bpf_cast_to_kern_ctx")), false);
  // This kernel has it: the default object loads.
  using counter = LoadedCounter.load({ action: "pass" });
  assert.ok(counter.progFd > 0);
});

for (const mode of ["native", "generic"] as const) {
  test(`MTU 9000, ${mode}: 64-, 1,500- and 9,000-byte frames counted exactly, equal to the kernel's rx deltas`, async (t) => {
    const { pair, loc } = await setup(t, 9000);
    const attached = await inNs(pair.node.ns, attach(loc, mode));
    assert.equal(attached.mode, mode);
    assert.equal(attached.fallback, null);
    const rx0 = await pair.stats(pair.node);
    const before = await inNs(pair.node.ns, attach(loc, mode));
    const sent = await pair.sendDatagrams(MIX);
    const after = await inNs(pair.node.ns, attach(loc, mode));
    const rx1 = await pair.stats(pair.node);
    assert.deepEqual(sent, { sent: MIX_PACKETS, bytes: MIX_BYTES });
    const pass = (r: Record<string, unknown>) => r.pass as { packets: string; bytes: string };
    const packets = BigInt(pass(after).packets) - BigInt(pass(before).packets);
    const bytes = BigInt(pass(after).bytes) - BigInt(pass(before).bytes);
    assert.equal(after.outcome, "adopted");
    assert.equal(packets, MIX_PACKETS);
    assert.equal(bytes, MIX_BYTES);
    assert.equal(packets, rx1.rxPackets - rx0.rxPackets, "counter == rx_packets delta");
    // veth's native XDP path counts rx_bytes after eth_type_trans (skb->len without the 14-byte Ethernet
    // header); generic XDP, veth without XDP and NIC drivers count the whole frame, as the counter does.
    const hidden = mode === "native" ? ETH_HLEN * packets : 0n;
    assert.equal(bytes, rx1.rxBytes - rx0.rxBytes + hidden, "counter == rx_bytes delta (+ Ethernet headers)");
  });
}

test("MTU 1500 → 9000 while counting natively: the kernel takes it, the same program counts on, exactly", async (t) => {
  const { pair, loc } = await setup(t);
  const first = await inNs(pair.node.ns, attach(loc, "native"));
  const small = await pair.sendDatagrams([[1500, 100]]);
  await pair.setMtu(9000);
  const jumbo = await pair.sendDatagrams([[9000, 100]]);
  const after = await inNs(pair.node.ns, attach(loc, "native"));
  assert.equal(after.progId, first.progId, "the program was not touched");
  const pass = after.pass as { packets: string; bytes: string };
  assert.equal(
    BigInt(pass.packets) - BigInt((first.pass as { packets: string }).packets),
    small.sent + jumbo.sent,
  );
  assert.equal(
    BigInt(pass.bytes) - BigInt((first.pass as { bytes: string }).bytes),
    small.bytes + jumbo.bytes,
  );
});

test("an earlier single-buffer build: the kernel refuses MTU 9000 while it runs; this build swaps in, counts kept", async (t) => {
  const { pair, loc } = await setup(t);
  const old = await inNs(pair.node.ns, attach(loc, "native", LINEAR));
  assert.equal(old.mode, "native");
  const sent1 = await pair.sendDatagrams([[1500, 100]]);
  // While a single-buffer program runs on the node's end, veth caps its peer's MTU: the change is refused
  // and nothing is disturbed.
  const raise = () => sh("ip", ["-n", pair.peer.ns, "link", "set", pair.peer.iface, "mtu", "9000"]);
  await assert.rejects(raise(), /mtu greater than device maximum/);
  const upgraded = await inNs(pair.node.ns, attach(loc, "native"));
  assert.equal(upgraded.outcome, "upgraded");
  assert.notEqual(upgraded.progId, old.progId);
  assert.equal(await pair.xdpProgId(pair.node), upgraded.progId, "the same link now runs this build");
  const sent2 = await pair.sendDatagrams([[1500, 50]]);
  const after = await inNs(pair.node.ns, attach(loc, "native"));
  assert.equal(after.outcome, "adopted", "the swapped-in program is this build's");
  assert.deepEqual(after.pass, {
    packets: String(sent1.sent + sent2.sent),
    bytes: String(sent1.bytes + sent2.bytes),
  });
  // veth computes the cap when a program is first attached, not when a link swaps it: the cap stays until
  // the counter is attached afresh. The kernel keeps refusing, and the counts are untouched.
  await assert.rejects(raise(), /mtu greater than device maximum/);
});

test("native refused for the MTU: `native` fails naming MTU and driver, `auto` falls back and keeps the reason", async (t) => {
  // The single-buffer build stands in for any driver whose XDP cannot take a jumbo MTU.
  const { pair, loc, pinRoot } = await setup(t, 9000);
  const strict = await inNs(
    pair.node.ns,
    `try { ${attach(loc, "native", LINEAR)} } catch (e) { out.code = e.code; out.message = e.message; out.reason = e.refusal?.reason; }`,
  );
  assert.equal(strict.code, "ModeUnsupported");
  assert.equal(strict.reason, "NativeMtuTooLarge");
  assert.match(
    strict.message as string,
    /the veth driver refuses native XDP at MTU 9000: "veth: Peer MTU is too large/,
  );
  assert.equal(await pair.xdpProgId(pair.node), 0, "nothing left attached by the refusal");

  const auto = await inNs(pair.node.ns, attach(loc, "auto", LINEAR));
  assert.equal(auto.mode, "generic");
  assert.equal(auto.outcome, "attached");
  const fallback = auto.fallback as { reason: string; message: string };
  assert.equal(fallback.reason, "NativeMtuTooLarge");
  assert.match(fallback.message, /MTU 9000.*Peer MTU is too large to set XDP.*ERANGE/);
  // A later process adopting the counter reports the same reason (kept beside the pins).
  const adopted = await inNs(
    pair.node.ns,
    `${attach(loc, "auto", LINEAR)} out.status = core.counterStatus({ ${loc} }).fallback;`,
  );
  assert.equal(adopted.outcome, "adopted");
  assert.deepEqual(adopted.fallback, fallback);
  assert.deepEqual(adopted.status, fallback);
  // Detaching removes the note with the other pins.
  const detached = await inNs(
    pair.node.ns,
    `core.detachCounter({ ${loc} }); out.pinned = core.pinnedInterfaces(${JSON.stringify(pinRoot)}, "t");`,
  );
  assert.deepEqual(detached.pinned, []);
});
