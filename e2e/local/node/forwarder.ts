#!/usr/bin/env node
// A TCP forwarder: accepts on one address and port and splices each connection to another. It gives the control
// plane's API server, which listens on loopback only, the host's address on the cluster network, where the
// nodes' kubelets and kube-proxies and (through the `kubernetes` Service) the pods reach it. TLS passes through
// untouched: the API server sees the clients' certificates and tokens as they sent them.
//   node e2e/local/node/forwarder.ts --listen 198.19.192.1:6443 --to 127.0.0.1:6443
// It prints "listening" once it accepts, and exits on SIGTERM or SIGINT.
import { connect, createServer, type Socket } from "node:net";
import { parseArgs } from "node:util";

function hostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(":");
  const port = Number(value.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`not host:port: ${value}`);
  return { host: value.slice(0, i), port };
}

const { values } = parseArgs({ options: { listen: { type: "string" }, to: { type: "string" } } });
if (!values.listen || !values.to) {
  process.stderr.write("usage: forwarder.ts --listen HOST:PORT --to HOST:PORT\n");
  process.exit(2);
}
const listen = hostPort(values.listen);
const to = hostPort(values.to);
const open = new Set<Socket>();

const server = createServer((client) => {
  const upstream = connect(to.port, to.host);
  open.add(client);
  open.add(upstream);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on("error", close);
  upstream.on("error", close);
  client.on("close", close);
  upstream.on("close", close);
});
server.on("error", (err) => {
  process.stderr.write(`forwarder: ${err.message}\n`);
  process.exit(1);
});
server.listen(listen.port, listen.host, () => process.stdout.write("listening\n"));

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    server.close();
    for (const socket of open) socket.destroy();
    process.exit(0);
  });
}
