// The API server's addresses as clients see them: TCP listeners on the cluster network (for the nodes) and on
// loopback (for the test, kubectl, Helm and Deployments), forwarding to the in-memory API server. Stopping the
// front refuses new connections and resets open ones, as an API server outage does, while the server and its
// store live on, so a restart comes back on the same addresses and ports with the same objects.
import { connect, createServer, type Server, type Socket } from "node:net";

interface Listener {
  host: string;
  port: number;
  server: Server | undefined;
}

export class ApiFront {
  readonly #target: number;
  readonly #listeners: Listener[] = [];
  readonly #sockets = new Set<Socket>();

  constructor(targetPort: number) {
    this.#target = targetPort;
  }

  get up(): boolean {
    return this.#listeners.some((l) => l.server !== undefined);
  }

  /** Adds a listener (port 0: any free port; remembered for restarts). Returns the port. */
  async listen(host: string, port = 0): Promise<number> {
    const l: Listener = { host, port, server: undefined };
    await this.#open(l);
    this.#listeners.push(l);
    return l.port;
  }

  #open(l: Listener): Promise<void> {
    const server = createServer((client) => this.#forward(client));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(l.port, l.host, () => {
        server.off("error", reject);
        const addr = server.address();
        if (addr && typeof addr === "object") l.port = addr.port;
        l.server = server;
        resolve();
      });
    });
  }

  #forward(client: Socket): void {
    const upstream = connect(this.#target, "127.0.0.1");
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Closes the listeners and resets every open connection. */
  async stop(): Promise<void> {
    const closing = this.#listeners.map(
      (l) =>
        new Promise<void>((resolve) => {
          if (!l.server) return resolve();
          l.server.close(() => resolve());
          l.server = undefined;
        }),
    );
    for (const s of this.#sockets) s.resetAndDestroy();
    this.#sockets.clear();
    await Promise.all(closing);
  }

  /** Listens again on the same addresses and ports. */
  async start(): Promise<void> {
    for (const l of this.#listeners) if (!l.server) await this.#open(l);
  }
}
