// The standalone CLI on real veth pairs, as root: exact counts, drop, restarts, detach, and bad input.
// Every test makes its own namespaces and removes them (t.after), on failure too.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, startCli, statusOf } from "../../testing/cli.ts";
import { sh, VethPair } from "../../testing/netns.ts";
import { DEFAULT_PIN_ROOT, STANDALONE_OWNER } from "../bpf/index.ts";

const pinDir = (iface: string): string => join(DEFAULT_PIN_ROOT, STANDALONE_OWNER, iface);

async function pair(t: { after: (fn: () => Promise<void>) => void }, gro = false): Promise<VethPair> {
  const p = await VethPair.create({ gro });
  // Detach every counter of this pair's namespace before the namespace goes: the node's end and the extra
  // interfaces a test makes beside it, whose names share the node end's prefix (a bridge, a macvlan).
  t.after(async () => {
    const prefix = p.node.iface.slice(0, -1);
    const pinned = existsSync(pinDir("")) ? readdirSync(pinDir("")).filter((n) => n.startsWith(prefix)) : [];
    for (const iface of new Set([p.node.iface, ...pinned]))
      await runCli(p.node.ns, ["detach", "--iface", iface]);
    await p.destroy();
  });
  return p;
}

test("pass: every packet counted once, bytes are the frames' lengths, and the stack gets them all", async (t) => {
  const p = await pair(t);
  const attach = await runCli(p.node.ns, ["attach", "--iface", p.node.iface, "--mode", "native"]);
  assert.equal(attach.code, 0, attach.stderr);
  assert.match(attach.stdout, /attached \(native mode, action pass\)/);

  const rx0 = await p.stats(p.node);
  const ip0 = await p.ipInReceives(p.node);
  const small = await p.send(70_000, 64);
  const large = await p.send(30_001, 1514);
  const n = BigInt(small + large);
  assert.equal(n, 100_001n);

  const s = await statusOf(p.node.ns, p.node.iface);
  const rx1 = await p.stats(p.node);
  assert.equal(s.packets.pass, n);
  assert.equal(s.packets.pass, rx1.rxPackets - rx0.rxPackets);
  assert.equal(s.bytes.pass, 70_000n * 64n + 30_001n * 1514n);
  for (const a of ["aborted", "drop", "tx", "redirect"]) assert.equal(s.packets[a], 0n, `${a} packets`);
  assert.equal((await p.ipInReceives(p.node)) - ip0, n, "the IP stack received every packet");
  assert.deepEqual([s.attached, s.mode, s.action], [true, "native", "pass"]);
});

test("generic mode counts as exactly as native", async (t) => {
  const p = await pair(t, true);
  const attach = await runCli(p.node.ns, ["attach", "--iface", p.node.iface, "--mode", "generic"]);
  assert.equal(attach.code, 0, attach.stderr);
  const sent = await p.send(100_000, 128);
  const s = await statusOf(p.node.ns, p.node.iface);
  assert.equal(s.mode, "generic");
  assert.equal(s.packets.pass, BigInt(sent));
  assert.equal(s.bytes.pass, BigInt(sent) * 128n);
});

test("drop: every packet dropped and counted, nothing reaches the stack, no replies", async (t) => {
  const p = await pair(t);
  const attach = await runCli(p.node.ns, ["attach", "--iface", p.node.iface, "--action", "drop"]);
  assert.equal(attach.code, 0, attach.stderr);
  const ip0 = await p.ipInReceives(p.node);
  const peer0 = await p.stats(p.peer);
  const sent = BigInt(await p.send(100_000, 64));
  const s = await statusOf(p.node.ns, p.node.iface);
  assert.equal(s.packets.drop, sent);
  assert.equal(s.bytes.drop, sent * 64n);
  assert.equal(s.packets.pass, 0n);
  assert.equal((await p.ipInReceives(p.node)) - ip0, 0n, "no packet reached the node's IP stack");
  assert.equal((await p.stats(p.peer)).rxPackets - peer0.rxPackets, 0n, "the peer got no replies");
});

test("another process continues the pinned counters: restarts and action changes lose nothing", async (t) => {
  const p = await pair(t);
  assert.equal((await runCli(p.node.ns, ["attach", "--iface", p.node.iface])).code, 0);
  const first = BigInt(await p.send(100_000, 64));

  // A second process adopts what the first one attached, and reads the same totals.
  const again = await runCli(p.node.ns, ["attach", "--iface", p.node.iface, "--json"]);
  assert.equal(again.code, 0, again.stderr);
  const adopted = JSON.parse(again.stdout) as { outcome: string; counters: { pass: { packets: string } } };
  assert.equal(adopted.outcome, "adopted");
  assert.equal(adopted.counters.pass.packets, String(first));

  // watch, started later and stopped, leaves a counter it did not attach in place.
  const w = await runCli(p.node.ns, ["watch", "--iface", p.node.iface, "--count", "1", "--json"]);
  assert.equal(w.code, 0, w.stderr);
  assert.ok((await statusOf(p.node.ns, p.node.iface)).attached);

  // Changing the action swaps the program atomically and keeps the counts.
  const progBefore = await p.xdpProgId(p.node);
  const swap = await runCli(p.node.ns, ["attach", "--iface", p.node.iface, "--action", "drop", "--json"]);
  assert.equal((JSON.parse(swap.stdout) as { outcome: string }).outcome, "replaced");
  assert.notEqual(await p.xdpProgId(p.node), progBefore);
  const second = BigInt(await p.send(50_000, 100));
  const s = await statusOf(p.node.ns, p.node.iface);
  assert.equal(s.packets.pass, first);
  assert.equal(s.packets.drop, second);
  assert.equal(s.bytes.drop, second * 100n);
});

test("watch prints live JSON, and Ctrl-C detaches and unpins what it attached", async (t) => {
  const p = await pair(t);
  const child = startCli(p.node.ns, ["watch", "--iface", p.node.iface, "--interval", "200ms", "--json"]);
  t.after(() => {
    child.kill("SIGKILL");
  });
  let buffered = "";
  const lines: string[] = [];
  let notify: () => void = () => {};
  child.stdout.on("data", (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
    notify();
  });
  const waitFor = async (pred: (l: string) => boolean, what: string): Promise<string> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        notify = r;
        setTimeout(r, 200);
      });
    }
  };
  await waitFor((l) => l.includes('"interface"'), "the first sample");
  const sent = await p.send(100_000, 64);
  const line = await waitFor((l) => l.includes(`"pass":{"packets":"${sent}"`), `pass == ${sent}`);
  const sample = JSON.parse(line) as {
    interfaces: Array<{ interface: string; mode: string; rates: { pass: { pps: number } } }>;
  };
  assert.equal(sample.interfaces[0]?.interface, p.node.iface);
  assert.equal(sample.interfaces[0]?.mode, "native");

  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  child.kill("SIGINT");
  assert.equal(await exited, 0);
  assert.equal(await p.xdpProgId(p.node), 0, "no XDP program left on the interface");
  assert.equal(existsSync(pinDir(p.node.iface)), false, "no pins left");
});

test("detach removes the program and the pins, from another process", async (t) => {
  const p = await pair(t);
  assert.equal((await runCli(p.node.ns, ["attach", "--iface", p.node.iface])).code, 0);
  assert.ok(existsSync(join(pinDir(p.node.iface), "link")));
  assert.ok(existsSync(join(pinDir(p.node.iface), "stats")));
  const sent = await p.send(1000, 64);
  const d = await runCli(p.node.ns, ["detach", "--iface", p.node.iface]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, new RegExp(`pass ${sent} packets / ${sent * 64} bytes`));
  assert.equal(await p.xdpProgId(p.node), 0);
  assert.equal(existsSync(pinDir(p.node.iface)), false);
  const s = await runCli(p.node.ns, ["status", "--json"]);
  assert.ok(!s.stdout.includes(p.node.iface), "status no longer lists the interface");
});

test("a missing interface is refused by name with exit 4", async (t) => {
  const p = await pair(t);
  const r = await runCli(p.node.ns, ["attach", "--iface", "xcnosuch0"]);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /xcnosuch0.*no interface of that name/);
});

test("someone else's XDP program is named, left attached and untouched (exit 5)", async (t) => {
  const p = await pair(t);
  const obj = new URL("../../bpf/xdp_tx.o", import.meta.url).pathname;
  await sh("ip", [
    "-n",
    p.node.ns,
    "link",
    "set",
    "dev",
    p.node.iface,
    "xdpgeneric",
    "obj",
    obj,
    "sec",
    "xdp",
  ]);
  const foreign = await p.xdpProgId(p.node);
  assert.ok(foreign > 0);
  for (const mode of ["auto", "native", "generic"]) {
    const r = await runCli(p.node.ns, ["attach", "--iface", p.node.iface, "--mode", mode]);
    assert.equal(r.code, 5, `${mode}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(`program 'xdp_tx' \\(id ${foreign},.*generic mode\\) is already attached`),
    );
  }
  assert.equal(await p.xdpProgId(p.node), foreign, "the foreign program is still the one attached");
  assert.equal(existsSync(pinDir(p.node.iface)), false);
});

test("native mode demanded on a device without native XDP is refused (exit 4); auto falls back and says why", async (t) => {
  const p = await pair(t);
  const bridge = `${p.node.iface.slice(0, -1)}b`;
  await sh("ip", ["-n", p.node.ns, "link", "add", bridge, "type", "bridge"]);
  const r = await runCli(p.node.ns, ["attach", "--iface", bridge, "--mode", "native"]);
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `${bridge}.*the bridge driver has no native XDP support: "Underlying driver does not support XDP in native mode"`,
    ),
  );
  const auto = await runCli(p.node.ns, ["attach", "--iface", bridge, "--json"]);
  assert.equal(auto.code, 0, auto.stderr);
  const attached = JSON.parse(auto.stdout) as { mode: string; fallback: { reason: string; message: string } };
  assert.equal(attached.mode, "generic");
  assert.equal(attached.fallback.reason, "NativeUnsupported");
  assert.match(attached.fallback.message, /the bridge driver has no native XDP support/);
  const table = await runCli(p.node.ns, ["status"]);
  assert.match(table.stdout, new RegExp(`${bridge}\\s+generic\\*`));
  assert.match(
    table.stdout,
    new RegExp(`\\* ${bridge}: generic, not native: the bridge driver .*\\(NativeUnsupported\\)`),
  );
  assert.equal((await runCli(p.node.ns, ["detach", "--iface", bridge])).code, 0);
});

test("auto on a macvlan (no native XDP) counts exactly in generic mode, and watch shows why it is not native", async (t) => {
  const p = await pair(t, true); // GRO: the node's veth (no XDP of its own) takes frames sent by XDP_TX

  const mv = `${p.node.iface.slice(0, -1)}m`;
  const mac = "02:00:c6:13:00:01";
  const ip = p.node.ip.replace(/\.1$/, ".3");
  await sh("ip", [
    "-n",
    p.node.ns,
    "link",
    "add",
    mv,
    "link",
    p.node.iface,
    "address",
    mac,
    "type",
    "macvlan",
    "mode",
    "bridge",
  ]);
  await sh("ip", ["-n", p.node.ns, "addr", "add", `${ip}/32`, "dev", mv]);
  await sh("ip", ["-n", p.node.ns, "link", "set", mv, "up"]);
  const r = await runCli(p.node.ns, ["watch", "--iface", mv, "--count", "1", "--keep", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const sample = JSON.parse(r.stdout.trim()) as {
    interfaces: Array<{ mode: string; fallback: { reason: string } }>;
  };
  assert.equal(sample.interfaces[0]?.mode, "generic");
  assert.equal(sample.interfaces[0]?.fallback.reason, "NativeUnsupported");
  const rx0 = await p.stats({ ...p.node, iface: mv });
  const sent = await p.send(5_000, 256, { dstMac: mac, dstIp: ip });
  const s = await statusOf(p.node.ns, mv);
  const rx1 = await p.stats({ ...p.node, iface: mv });
  assert.equal(s.packets.pass, BigInt(sent));
  assert.equal(s.bytes.pass, BigInt(sent) * 256n);
  assert.equal(s.packets.pass, rx1.rxPackets - rx0.rxPackets, "counter == the macvlan's rx_packets delta");
  assert.equal(s.bytes.pass, rx1.rxBytes - rx0.rxBytes, "counter == the macvlan's rx_bytes delta");
});

test("no bpffs where pins live: exit 3, nothing attached", async (t) => {
  const p = await pair(t);
  const dir = mkdtempSync(join(tmpdir(), "xdp-counter-nobpffs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await runCli(p.node.ns, ["attach", "--iface", p.node.iface, "--pin-root", join(dir, "pins")]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /is not a BPF filesystem.*mount -t bpf bpf \/sys\/fs\/bpf/);
  assert.equal(await p.xdpProgId(p.node), 0);
});

test("without root's privileges: exit 3 with a message saying what is needed", async (t) => {
  const p = await pair(t);
  // uid 0 with every capability dropped (empty bounding set): what an unprivileged user has, while the
  // checkout stays readable wherever it lives.
  const drop = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--"];
  const r = await runCli(p.node.ns, ["attach", "--iface", p.node.iface], drop);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /needs root \(or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON\)/);
  assert.match(r.stderr, /lacks CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON/);
  assert.equal(await p.xdpProgId(p.node), 0);
});

/** uid 0 with exactly these capabilities (bounding set), as a container that adds them runs its root process. */
const onlyCaps = (caps: string[]): string[] => [
  "setpriv",
  `--bounding-set=-all${caps.map((c) => `,+${c.toLowerCase()}`).join("")}`,
  "--inh-caps=-all",
  "--ambient-caps=-all",
  "--",
];

test("with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON alone: attach, count exactly, adopt, swap the action, status, detach", async (t) => {
  const p = await pair(t);
  const caps = onlyCaps(["BPF", "NET_ADMIN", "PERFMON"]);
  const cli = (args: string[]) => runCli(p.node.ns, [...args, "--iface", p.node.iface], caps);
  const attach = await cli(["attach", "--mode", "native"]);
  assert.equal(attach.code, 0, attach.stderr);
  const sent = await p.send(10_000, 100);
  // a second attach adopts what the first left, as a restarted agent does: through the pins, not by id
  const again = await cli(["attach", "--mode", "native"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already counting; left as it was \(native mode, action pass\)/);
  const drop = await cli(["attach", "--mode", "native", "--action", "drop"]);
  assert.equal(drop.code, 0, drop.stderr);
  assert.match(drop.stdout, /program replaced, counters kept \(native mode, action drop\)/);
  const r = await cli(["status", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const entry = (
    JSON.parse(r.stdout) as {
      interfaces: Array<{ action: string; counters: Record<string, { packets: string }> }>;
    }
  ).interfaces[0];
  assert.equal(entry?.action, "drop");
  assert.equal(entry?.counters.pass?.packets, String(sent));
  const detach = await cli(["detach"]);
  assert.equal(detach.code, 0, detach.stderr);
  assert.equal(await p.xdpProgId(p.node), 0);
  assert.equal(existsSync(pinDir(p.node.iface)), false, "every pin removed, the program's too");
});

test("an earlier build's pins (no program pinned) adopted without CAP_SYS_ADMIN: swapped in place, counts kept", async (t) => {
  const p = await pair(t);
  const attach = await runCli(p.node.ns, ["attach", "--iface", p.node.iface]);
  assert.equal(attach.code, 0, attach.stderr);
  const sent = await p.send(3_000, 100);
  // what an xdp-counter before docs/adr/0020 pinned: link and stats only
  for (const name of ["prog", "config"]) rmSync(join(pinDir(p.node.iface), name));
  const caps = onlyCaps(["BPF", "NET_ADMIN", "PERFMON"]);
  const again = await runCli(p.node.ns, ["attach", "--iface", p.node.iface], caps);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /an earlier build's program; swapped for this one, counters kept/);
  assert.ok(existsSync(join(pinDir(p.node.iface), "prog")), "the program pinned now");
  const s = await runCli(p.node.ns, ["status", "--iface", p.node.iface, "--json"], caps);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /"action": ?"pass"/);
  assert.equal((await statusOf(p.node.ns, p.node.iface)).packets.pass, BigInt(sent));
});

test("without CAP_BPF: exit 3 before the kernel is asked, naming CAP_BPF", async (t) => {
  const p = await pair(t);
  const r = await runCli(p.node.ns, ["attach", "--iface", p.node.iface], onlyCaps(["NET_ADMIN", "PERFMON"]));
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /this process lacks CAP_BPF;/);
  assert.equal(await p.xdpProgId(p.node), 0);
});

test("without CAP_PERFMON the kernel refuses the load, and the error names CAP_PERFMON", async (t) => {
  // The agent attaches with no up-front check of its own (the CLI's would stop first): attachCounter as the
  // agent calls it, under setpriv, so the kernel's EPERM is what the error explains.
  const p = await pair(t);
  const bpf = new URL("../bpf/index.ts", import.meta.url).pathname;
  const script = `import { attachCounter } from ${JSON.stringify(bpf)};
try { attachCounter({ iface: ${JSON.stringify(p.node.iface)}, owner: "_caps_test", mode: "auto", action: "pass" }); }
catch (err) { console.error(err.message); process.exit(3); }`;
  const argv = [...onlyCaps(["BPF", "NET_ADMIN"]), process.execPath, "--input-type=module", "-e", script];
  const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile("nsenter", [`--net=/run/netns/${p.node.ns}`, "--", ...argv], (err, _out, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    /^load \S+ failed: EPERM \(Operation not permitted\); this process lacks CAP_PERFMON, which this step needs; xdp-counter needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON/,
  );
  // and the verifier's own words, from its log
  assert.match(r.stderr, /'struct xdp_buff' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN/);
  assert.equal(await p.xdpProgId(p.node), 0);
});

test("bad flags are refused with exit 2 and the flag named", async () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ["watch", "--iface", "eth0", "--mode", "turbo"],
      /--mode must be one of auto, native, generic, not "turbo"/,
    ],
    [["attach", "--iface", "eth0", "--action", "reject"], /--action must be one of pass, drop/],
    [["watch", "--iface", "eth0", "--interval", "fast"], /--interval "fast" must be a duration/],
    [["attach"], /attach needs at least one --iface/],
    [["attach", "--iface", "a/b"], /--iface "a\/b" is not an interface name/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["status", "--keep"], /status takes no --keep/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(undefined, args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
