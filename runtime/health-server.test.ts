import assert from "node:assert/strict";
import { test } from "node:test";
import { startHealthServer } from "./health-server.ts";

test("healthz, readyz and metrics answer from their sources; other paths and methods do not", async () => {
  let healthy = true;
  let ready = false;
  let metrics: () => string | Promise<string> = () => "m 1\n";
  const server = await startHealthServer({
    host: "127.0.0.1",
    port: 0,
    healthy: () => healthy,
    ready: () => ready,
    metrics: () => metrics(),
    metricsContentType: "text/plain; version=0.0.4; charset=utf-8",
  });
  const base = `http://127.0.0.1:${server.port}`;
  const get = async (path: string, method = "GET") => {
    const res = await fetch(`${base}${path}`, { method });
    return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
  };
  try {
    assert.deepEqual(await get("/healthz"), { status: 200, text: "ok\n", type: "text/plain; charset=utf-8" });
    assert.equal((await get("/readyz")).status, 503);
    assert.equal((await get("/readyz")).text, "not ready\n");
    ready = true;
    healthy = false;
    assert.equal((await get("/readyz?verbose")).status, 200);
    assert.deepEqual(await get("/healthz"), {
      status: 503,
      text: "not healthy\n",
      type: "text/plain; charset=utf-8",
    });
    assert.deepEqual(await get("/metrics"), {
      status: 200,
      text: "m 1\n",
      type: "text/plain; version=0.0.4; charset=utf-8",
    });
    metrics = async () => "m 2\n";
    assert.equal((await get("/metrics")).text, "m 2\n");
    metrics = async () => {
      throw new Error("registry broke");
    };
    assert.deepEqual((await get("/metrics")).text, "registry broke\n");
    metrics = () => {
      throw new Error("sync broke");
    };
    assert.equal((await get("/metrics")).status, 500);
    assert.equal((await get("/nothing")).status, 404);
    assert.equal((await get("/healthz", "POST")).status, 405);
    assert.equal((await get("/healthz", "HEAD")).status, 503);
  } finally {
    await server.close();
  }
});

test("a port in use fails the start", async () => {
  const first = await startHealthServer({
    host: "127.0.0.1",
    port: 0,
    healthy: () => true,
    ready: () => true,
    metrics: () => "",
    metricsContentType: "text/plain",
  });
  try {
    await assert.rejects(
      startHealthServer({
        host: "127.0.0.1",
        port: first.port,
        healthy: () => true,
        ready: () => true,
        metrics: () => "",
        metricsContentType: "text/plain",
      }),
      /EADDRINUSE/,
    );
  } finally {
    await first.close();
  }
});
