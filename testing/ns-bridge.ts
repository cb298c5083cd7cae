// Reaches a TCP server of the test process (an API server on the host's 127.0.0.1) from inside a test
// network namespace, without adding anything to the host's network: the test listens on a Unix socket
// (filesystem sockets cross network namespaces), and a forwarder inside the namespace listens on its own
// 127.0.0.1 and pipes each connection there. `setDown(true)` cuts every connection and refuses new ones, and
// `setHang(true)` holds new ones unanswered: API server outages as the agent sees them, while the server
// keeps its state.
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { inNs, nsExec } from "./netns.ts";

let seq = 0;

export interface Bridge {
  /** the port on the namespace's 127.0.0.1 */
  port: number;
  setDown(down: boolean): void;
  /** accept connections and never answer (a black hole: requests run into their timeouts) */
  setHang(hang: boolean): void;
  stop(): Promise<void>;
}

export async function startBridge(ns: string, target: { host: string; port: number }): Promise<Bridge> {
  // a new namespace's loopback is down
  await nsExec(ns, ["ip", "link", "set", "lo", "up"]);
  const socketPath = join(tmpdir(), `xct-bridge-${process.pid}-${seq++}.sock`);
  rmSync(socketPath, { force: true });
  const sockets = new Set<Socket>();
  let down = false;
  let hang = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    if (hang) {
      sockets.add(client);
      client.on("close", () => sockets.delete(client));
      client.on("error", () => client.destroy());
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  const [cmd, ...args] = inNs(ns, [
    process.execPath,
    new URL("./ns-forward.ts", import.meta.url).pathname,
    socketPath,
  ]);
  const child: ChildProcess = spawn(cmd as string, args, { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`ns-forward exited with ${code}`)));
  });
  return {
    port,
    setDown(value: boolean) {
      down = value;
      if (value) for (const s of sockets) s.destroy();
    },
    setHang(value: boolean) {
      hang = value;
      if (value) for (const s of sockets) s.destroy();
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(socketPath, { force: true });
    },
  };
}
