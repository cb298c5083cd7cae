// The standalone demo: makes a node and a peer namespace joined by a veth pair, runs `xdp-counter watch` on
// the node's end, and sends bursts of UDP frames from the peer, until Ctrl-C (or --seconds N). Then it stops
// the watch (which detaches the counter) and removes everything it made.
import { parseArgs } from "node:util";
import { startCli } from "../testing/cli.ts";
import { VethPair } from "../testing/netns.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string" }, action: { type: "string", default: "pass" } },
});
const seconds = values.seconds === undefined ? Number.POSITIVE_INFINITY : Number(values.seconds);
if (!(seconds > 0)) {
  console.error("demo: --seconds must be a positive number");
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error("demo: run as root: it creates network namespaces and loads an XDP program");
  process.exit(3);
}

const log = (text: string): void => {
  process.stderr.write(`demo: ${text}\n`);
};
log("creating namespaces and a veth pair (node <-> peer)");
const pair = await VethPair.create();
let stopping = false;
const stop = new AbortController();
const finish = (): void => {
  stopping = true;
  stop.abort();
};
process.on("SIGINT", finish);
process.on("SIGTERM", finish);

try {
  log(
    `node ${pair.node.ns}: ${pair.node.iface} ${pair.node.ip}; peer ${pair.peer.ns}: ${pair.peer.iface} ${pair.peer.ip}`,
  );
  log(`starting: xdp-counter watch --iface ${pair.node.iface} --action ${values.action}`);
  const watch = startCli(pair.node.ns, [
    "watch",
    "--iface",
    pair.node.iface,
    "--action",
    String(values.action),
  ]);
  watch.stdout.pipe(process.stdout);
  watch.stderr.pipe(process.stderr);
  const exited = new Promise<number | null>((r) => watch.on("exit", (code) => r(code)));
  const deadline = Date.now() + seconds * 1000;
  const sizes = [64, 512, 1514];
  let round = 0;
  while (!stopping && Date.now() < deadline && watch.exitCode === null) {
    await pair.send(20_000 + 10_000 * (round % 3), sizes[round % sizes.length] ?? 64);
    round++;
    await new Promise((r) => {
      const timer = setTimeout(r, 1000);
      stop.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        r(undefined);
      });
    });
  }
  log("stopping the watch (it detaches the counter)");
  watch.kill("SIGINT");
  const code = await exited;
  if (code !== 0) process.exitCode = code ?? 1;
} finally {
  log("removing the namespaces");
  await pair.destroy();
}
