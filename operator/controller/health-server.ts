// The operator's HTTP endpoints: /healthz (alive), /readyz (caches synced), /metrics (Prometheus).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export type HealthSource = { healthy(): boolean; ready(): boolean };

export type HealthServer = { server: Server; port: number; close(): Promise<void> };

export async function startHealthServer(
  port: number,
  source: HealthSource,
  registry: Registry,
  host = "0.0.0.0",
): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const answer = (ok: boolean) => {
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(ok ? "ok\n" : "not ok\n");
    };
    if (path === "/healthz") return answer(source.healthy());
    if (path === "/readyz") return answer(source.ready());
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "Content-Type": registry.contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
          res.end(`${String(error)}\n`);
        },
      );
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
