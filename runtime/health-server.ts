// The HTTP endpoints of a component: /healthz (liveness), /readyz (readiness), /metrics (Prometheus). GET and
// HEAD only; the metrics text may be computed asynchronously (prom-client's registry) or not (the agent's).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HealthEndpoints {
  healthy(): boolean;
  ready(): boolean;
  metrics(): string | Promise<string>;
  /** the Content-Type of the metrics text */
  metricsContentType: string;
}

export interface HealthServerOptions extends HealthEndpoints {
  host: string;
  /** 0 for any free port */
  port: number;
}

export interface HealthServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

const TEXT = { "Content-Type": "text/plain; charset=utf-8" };

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    const fail = (err: unknown) =>
      res.writeHead(500, TEXT).end(`${err instanceof Error ? err.message : String(err)}\n`);
    try {
      if (path === "/healthz") {
        const ok = options.healthy();
        res.writeHead(ok ? 200 : 503, TEXT).end(ok ? "ok\n" : "not healthy\n");
      } else if (path === "/readyz") {
        const ok = options.ready();
        res.writeHead(ok ? 200 : 503, TEXT).end(ok ? "ok\n" : "not ready\n");
      } else if (path === "/metrics") {
        Promise.resolve(options.metrics()).then(
          (text) => res.writeHead(200, { "Content-Type": options.metricsContentType }).end(text),
          fail,
        );
      } else {
        res.writeHead(404, TEXT).end("not found\n");
      }
    } catch (err) {
      fail(err);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
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
