// The agent's HTTP endpoints: /metrics (Prometheus), /healthz (liveness: the loop is turning), /readyz
// (readiness: the interfaces are attached).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";

export interface HttpEndpoints {
  metrics: () => string;
  healthy: () => boolean;
  ready: () => boolean;
}

export interface RunningHttpServer {
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(
  host: string,
  port: number,
  endpoints: HttpEndpoints,
): Promise<RunningHttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    try {
      if (path === "/metrics") {
        res.writeHead(200, { "Content-Type": METRICS_CONTENT_TYPE }).end(endpoints.metrics());
      } else if (path === "/healthz" || path === "/readyz") {
        const ok = path === "/healthz" ? endpoints.healthy() : endpoints.ready();
        res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" }).end(ok ? "ok\n" : "not ready\n");
      } else {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      }
    } catch (err) {
      res.writeHead(500, { "Content-Type": "text/plain" }).end(`${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
