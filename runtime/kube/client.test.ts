// The Kubernetes client's watch against a plain HTTP server that plays the API server: a watch that asked for
// bookmarks and hears nothing for its idle time is taken for a dead connection (a cut link sends no FIN) and
// fails with a Connection error, so that the informer reconnects; one without bookmarks waits for the
// server's own timeout.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { RuntimeError, RuntimeErrorCode } from "../errors.ts";
import type { ClusterAccess } from "../kubeconfig.ts";
import { HttpKubeClient } from "./client.ts";

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A server whose watches answer 200 with one event, then fall silent without closing. */
async function silentAfterOneEvent(): Promise<string> {
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.write(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } })}\n`);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function access(server: string): ClusterAccess {
  return {
    server,
    namespace: undefined,
    source: "test",
    viaClientNode: false,
    credentials: async () => ({ tls: { rejectUnauthorized: true }, headers: {} }),
  };
}

test("a watch with bookmarks that falls silent for its idle time fails as a broken connection", async () => {
  const client = new HttpKubeClient(access(await silentAfterOneEvent()), { watchIdleMs: 300 });
  const events: string[] = [];
  const stop = new AbortController();
  const began = Date.now();
  await assert.rejects(
    client.watch(
      "/api/v1/configmaps",
      { allowWatchBookmarks: true, timeoutSeconds: 600 },
      (event) => events.push(event.type),
      stop.signal,
    ),
    (error: unknown) =>
      error instanceof RuntimeError &&
      error.code === RuntimeErrorCode.Connection &&
      /no response within 300 ms/.test(error.message),
  );
  assert.deepEqual(events, ["ADDED"]);
  assert.ok(Date.now() - began < 5_000, "noticed after the idle time, not the server's 600 s");
});

test("a watch without bookmarks waits for the server's timeout, not the idle time", async () => {
  const client = new HttpKubeClient(access(await silentAfterOneEvent()), { watchIdleMs: 300 });
  const stop = new AbortController();
  let failed: unknown;
  const watching = client
    .watch("/api/v1/configmaps", { timeoutSeconds: 600 }, () => {}, stop.signal)
    .catch((error: unknown) => {
      failed = error;
    });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(failed, undefined, "still open after three idle times");
  stop.abort();
  await watching;
});
