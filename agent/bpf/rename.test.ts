// pinnedLinkIfindex and renameCounter on the kernel: a counter whose interface was renamed is found by
// index and moved to the new name, where attachCounter adopts it with its totals. The core runs inside the
// node's namespace (interface names are per namespace), as a script; root and bpffs needed.
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { test } from "node:test";
import { inNs } from "../../testing/bpf-core.ts";
import { sh, VethPair } from "../../testing/netns.ts";

const inNode = (pair: VethPair, body: string): Promise<Record<string, unknown>> => inNs(pair.node.ns, body);

test("a renamed interface's counter is found by index and moved to the new name, totals kept", async (t) => {
  const pair = await VethPair.create();
  const pinRoot = `/sys/fs/bpf/xdp-counter-test-rename-${process.pid}`;
  mkdirSync(pinRoot, { recursive: true });
  t.after(async () => {
    await pair.destroy();
    rmSync(pinRoot, { recursive: true, force: true });
  });
  const old = pair.node.iface;
  const renamed = `${old}r`;
  const loc = `{ owner: "t", pinRoot: ${JSON.stringify(pinRoot)} }`;
  const attached = await inNode(
    pair,
    `const c = core.attachCounter({ ...${loc}, iface: ${JSON.stringify(old)}, mode: "auto", action: "pass" });
     out.ifindex = c.ifindex; out.progId = c.progId; c.close();`,
  );
  const sent = await pair.send(100, 64);
  await sh("ip", ["-n", pair.node.ns, "link", "set", old, "down"]);
  await sh("ip", ["-n", pair.node.ns, "link", "set", old, "name", renamed]);
  const moved = await inNode(
    pair,
    `out.before = core.pinnedLinkIfindex({ ...${loc}, iface: ${JSON.stringify(old)} });
     out.none = core.pinnedLinkIfindex({ ...${loc}, iface: "nothing" }) ?? null;
     core.renameCounter({ ...${loc}, iface: ${JSON.stringify(old)} }, ${JSON.stringify(renamed)});
     try { core.renameCounter({ ...${loc}, iface: ${JSON.stringify(renamed)} }, ${JSON.stringify(renamed)}); } catch (e) { out.refused = e.code; }
     const c = core.attachCounter({ ...${loc}, iface: ${JSON.stringify(renamed)}, mode: "auto", action: "pass" });
     out.outcome = c.outcome; out.progId = c.progId; out.pass = c.read().pass.packets; c.close();
     out.pinned = core.pinnedInterfaces(${JSON.stringify(pinRoot)}, "t");`,
  );
  assert.equal(moved.before, attached.ifindex);
  assert.equal(moved.none, null);
  assert.equal(moved.refused, "PinFailed");
  assert.equal(moved.outcome, "adopted");
  assert.equal(moved.progId, attached.progId);
  assert.equal(moved.pass, String(sent));
  assert.deepEqual(moved.pinned, [renamed]);
});
