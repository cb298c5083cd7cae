import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { issueCert, makeCa } from "../e2e/local/controlplane/pki.ts";
import { ApiClient, readLines } from "./api-client.ts";
import { RuntimeError, RuntimeErrorCode } from "./errors.ts";
import type { ClusterAccess, TlsSettings } from "./kubeconfig.ts";

// a CA and a serving certificate it signed for 127.0.0.1, and a second CA that vouches for nothing here
const pkiDir = mkdtempSync(join(tmpdir(), "api-client-test-"));
const ca = await makeCa(pkiDir, "ca", "api-client-test-ca", 1);
const otherCa = await makeCa(pkiDir, "other-ca", "api-client-test-other-ca", 1);
const serving = await issueCert(pkiDir, "serving", ca, "/CN=api-client-test", "serverAuth", ["127.0.0.1"], 1);
const cert = {
  ca: readFileSync(ca.cert, "utf8"),
  cert: readFileSync(serving.cert, "utf8"),
  key: readFileSync(serving.key, "utf8"),
};
const otherCaPem = readFileSync(otherCa.cert, "utf8");
rmSync(pkiDir, { recursive: true, force: true });
const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

interface Served {
  url: string;
  /** sockets the server accepted */
  connections: Socket[];
  requests: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[];
}

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  tls = true,
): Promise<Served> {
  const served: Served = { url: "", connections: [], requests: [] };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      served.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, res, body);
    });
  };
  const server: Server = tls
    ? (createServer({ cert: cert.cert, key: cert.key }, onRequest) as unknown as Server)
    : createHttpServer(onRequest);
  server.on(tls ? "secureConnection" : "connection", (s: Socket) => served.connections.push(s));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  served.url = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return served;
}

function access(server: string, tls: Partial<TlsSettings> = {}, token = "tok"): ClusterAccess {
  const settings: TlsSettings = { ca: Buffer.from(cert.ca), rejectUnauthorized: true, ...tls };
  return {
    server,
    namespace: undefined,
    source: "test",
    viaClientNode: false,
    credentials: async () => ({ tls: settings, headers: { Authorization: `Bearer ${token}` } }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));

test("requests carry JSON, content type, user agent and token, and reuse one kept-alive connection", async () => {
  const s = await serve((req, res, body) => json(res, req.method === "PATCH" ? 200 : 404, { echo: body }));
  const client = new ApiClient(access(s.url), { userAgent: "xdp-counter-test" });
  try {
    const patched = await client.call("PATCH", "/apis/x/v1/things/a/status?fieldManager=m", {
      body: { status: { n: 1 } },
      contentType: "application/merge-patch+json",
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body, { echo: '{"status":{"n":1}}' });
    const missing = await client.call("GET", "/api/v1/nodes/n1");
    assert.equal(missing.status, 404);
    for (let i = 0; i < 3; i++) await client.call("GET", "/api/v1/nodes/n1");
    assert.equal(s.connections.length, 1, "every request went over the first connection");
    const [first, second] = s.requests;
    assert.equal(first?.url, "/apis/x/v1/things/a/status?fieldManager=m");
    assert.equal(first?.headers["content-type"], "application/merge-patch+json");
    assert.equal(first?.headers["user-agent"], "xdp-counter-test");
    assert.equal(first?.headers.authorization, "Bearer tok");
    assert.equal(first?.headers.accept, "application/json");
    assert.equal(second?.headers["content-type"], undefined, "no body, no content type");
  } finally {
    client.close();
  }
});

test("a body that is not JSON is kept as text; plain HTTP servers work too", async () => {
  const s = await serve((_req, res) => res.writeHead(500).end("boom"), false);
  const client = new ApiClient(access(s.url), { userAgent: "t" });
  const res = await client.call("GET", "/x");
  assert.deepEqual(
    { status: res.status, body: res.body, text: res.text },
    { status: 500, body: "boom", text: "boom" },
  );
  client.close();
});

test("no response within the timeout: a Connection error naming the request", async () => {
  const s = await serve(() => {});
  const client = new ApiClient(access(s.url), { userAgent: "t", timeoutMs: 5_000 });
  await assert.rejects(client.call("GET", "/slow", { timeoutMs: 150 }), (err: unknown) => {
    assert.ok(err instanceof RuntimeError);
    assert.equal(err.code, RuntimeErrorCode.Connection);
    assert.equal(err.message, "GET /slow: no response within 150 ms");
    return true;
  });
  client.close();
});

test("a server the CA does not vouch for, or no server at all: Connection errors", async () => {
  const s = await serve((_req, res) => json(res, 200, {}));
  const wrongCa = new ApiClient(access(s.url, { ca: Buffer.from(otherCaPem) }), {
    userAgent: "t",
  });
  await assert.rejects(wrongCa.call("GET", "/"), { name: "RuntimeError", code: RuntimeErrorCode.Connection });
  const insecure = new ApiClient(access(s.url, { rejectUnauthorized: false, ca: undefined }), {
    userAgent: "t",
  });
  assert.equal((await insecure.call("GET", "/")).status, 200);
  const closed = await serve(() => {});
  const port = new URL(closed.url).port;
  servers.pop()?.close();
  const refused = new ApiClient(access(`https://127.0.0.1:${port}`), { userAgent: "t" });
  await assert.rejects(refused.call("GET", "/"), /GET \/: connect ECONNREFUSED/);
  for (const c of [wrongCa, insecure, refused]) c.close();
});

test("a kept-alive connection the server dropped is replaced, and the request sent once more", async () => {
  let drop = false;
  const s = await serve((req, res) => {
    if (drop) {
      drop = false;
      req.socket.destroy();
      return;
    }
    json(res, 200, { ok: true });
  });
  const client = new ApiClient(access(s.url), { userAgent: "t" });
  assert.equal((await client.call("GET", "/a")).status, 200);
  drop = true;
  assert.equal((await client.call("GET", "/b")).status, 200);
  assert.equal(s.connections.length, 2);
  assert.deepEqual(
    s.requests.map((r) => r.url),
    ["/a", "/b", "/b"],
  );
  client.close();
});

test("when the server dropped several kept-alive connections, the retry goes on a new one", async () => {
  // two requests at once leave two idle connections, which the server then takes for closed
  let hold: (() => void)[] | undefined = [];
  const closed = new Set<unknown>();
  const s = await serve((req, res) => {
    if (hold) {
      hold.push(() => json(res, 200, { ok: true }));
      if (hold.length === 2) for (const answer of hold.splice(0)) answer();
      return;
    }
    if (closed.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    json(res, 200, { ok: true });
  });
  const client = new ApiClient(access(s.url), { userAgent: "t" });
  try {
    const both = await Promise.all([client.call("GET", "/a"), client.call("GET", "/b")]);
    assert.deepEqual(
      both.map((r) => r.status),
      [200, 200],
    );
    assert.equal(s.connections.length, 2);
    hold = undefined;
    for (const c of s.connections) closed.add(c);
    // without dropping the idle connections first, the retry would be sent on the other closed one
    assert.equal((await client.call("GET", "/c")).status, 200);
    assert.equal(s.connections.length, 3, "the retry opened a new connection");
    assert.deepEqual(
      s.requests.map((r) => r.url),
      ["/a", "/b", "/c", "/c"],
    );
  } finally {
    client.close();
  }
});

test("streaming: lines as they come, the end, an abort, and a broken stream", async () => {
  let open: ServerResponse | undefined;
  const s = await serve((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.write('{"type":"ADDED","n":1}\n{"type":"MOD');
    setTimeout(() => res.write('IFIED","n":2}\n\n'), 20);
    open = res;
  });
  const client = new ApiClient(access(s.url), { userAgent: "t" });

  const lines: string[] = [];
  let res = await client.open("GET", "/watch?watch=true", { timeoutMs: 5_000 });
  const ended = readLines(res, (line) => {
    lines.push(line);
    if (lines.length === 2) open?.end();
  });
  await ended;
  assert.deepEqual(
    lines.map((l) => JSON.parse(l).type),
    ["ADDED", "MODIFIED"],
  );

  const stop = new AbortController();
  res = await client.open("GET", "/watch?watch=true", { signal: stop.signal });
  await readLines(res, () => stop.abort(), stop.signal);

  res = await client.open("GET", "/watch?watch=true");
  await assert.rejects(
    readLines(res, () => open?.socket?.destroy()),
    (err: unknown) => err instanceof RuntimeError && err.code === RuntimeErrorCode.Connection,
  );

  res = await client.open("GET", "/watch?watch=true");
  await assert.rejects(
    readLines(res, () => {
      throw new Error("handler failed");
    }),
    /handler failed/,
  );

  res = await client.open("GET", "/watch?watch=true", { timeoutMs: 100 });
  await assert.rejects(
    readLines(res, () => {}),
    /no response within 100 ms/,
  );
  client.close();
});

test("new TLS settings get a new connection; a stream on the old one goes on", async () => {
  let stream: ServerResponse | undefined;
  const s = await serve((req, res) => {
    if (req.url === "/watch") {
      res.writeHead(200);
      res.write("a\n");
      stream = res;
    } else json(res, 200, {});
  });
  let tls: TlsSettings = { ca: Buffer.from(cert.ca), rejectUnauthorized: true };
  const rotating: ClusterAccess = { ...access(s.url), credentials: async () => ({ tls, headers: {} }) };
  const client = new ApiClient(rotating, { userAgent: "t" });
  const lines: string[] = [];
  const res = await client.open("GET", "/watch");
  const watching = readLines(res, (line) => lines.push(line));
  await client.call("GET", "/a");
  tls = { ...tls };
  await client.call("GET", "/b");
  stream?.end("b\n");
  await watching;
  assert.deepEqual(lines, ["a", "b"]);
  assert.equal(s.connections.length, 3, "the watch's, the first pool's idle one, the new pool's");
  client.close();
});
