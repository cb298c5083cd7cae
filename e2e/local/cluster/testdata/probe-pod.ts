// A pod for the local cluster's tests: reports where it runs (node name, the interfaces in its /sys/class/net,
// whether /sys/fs/bpf is a bpffs and what is pinned there), asks the API server for its own Node with the
// pod's ServiceAccount kubeconfig, and serves /readyz on $PORT.
import { mkdirSync, readdirSync, readFileSync, statfsSync } from "node:fs";
import { createServer } from "node:http";
import { request } from "node:https";
import { parse } from "yaml";

const BPF_FS_MAGIC = 0xcafe4a11;
const node = process.env.NODE_NAME ?? "";
const pod = process.env.POD_NAME ?? "";

function say(what: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(what)}\n`);
}

// Only on a node (a DaemonSet pod): a host pod would pin into the host's bpffs.
if (node) mkdirSync(`/sys/fs/bpf/probe-${pod}`, { recursive: true });
say({
  node,
  pod,
  podIP: process.env.POD_IP,
  interfaces: readdirSync("/sys/class/net").sort(),
  bpffs: statfsSync("/sys/fs/bpf").type === BPF_FS_MAGIC,
  pins: readdirSync("/sys/fs/bpf").filter((n) => n.startsWith("probe-")),
  extra: process.env.EXTRA ?? "",
});

type Kubeconfig = {
  clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  users: { user: { token: string } }[];
};
const kc = parse(readFileSync(process.env.KUBECONFIG ?? "", "utf8")) as Kubeconfig;
const cluster = kc.clusters[0]?.cluster;
if (cluster) {
  const url = new URL(`/api/v1/nodes/${node}`, cluster.server);
  const req = request(
    url,
    {
      ca: Buffer.from(cluster["certificate-authority-data"], "base64"),
      headers: { Authorization: `Bearer ${kc.users[0]?.user.token}` },
    },
    (res) => {
      res.resume();
      say({ api: url.host, status: res.statusCode });
    },
  );
  req.on("error", (err) => say({ api: url.host, error: err.message }));
  req.end();
}

const server = createServer((req, res) => {
  res.writeHead(req.url === "/readyz" || req.url === "/healthz" ? 200 : 404).end("ok");
});
// A node's pod listens in the node's namespace; a host pod (a Deployment's) on loopback only.
server.listen(Number(process.env.PORT ?? 18080), node ? "0.0.0.0" : "127.0.0.1");
process.on("SIGTERM", () => {
  say({ signal: "SIGTERM" });
  server.close();
  process.exit(0);
});
