// A minimal HTTPS client for tests of the server: raw requests with status and parsed body, and watches.
import { execFile } from "node:child_process";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import type { ApiServer } from "./server.ts";

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected freely
  body: any;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is when a string or Buffer, else as JSON. */
  contentType?: string;
  accept?: string;
  /** Bearer token; default the admin's; null sends none. */
  token?: string | null;
}

export function call(
  server: ApiServer,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<Response> {
  const payload =
    opts.body === undefined
      ? undefined
      : typeof opts.body === "string" || Buffer.isBuffer(opts.body)
        ? opts.body
        : JSON.stringify(opts.body);
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? server.adminToken : opts.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (payload !== undefined) {
    headers["Content-Type"] = opts.contentType ?? "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(payload));
  }
  if (opts.accept) headers.Accept = opts.accept;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, server.url), { method, headers, ca: server.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export interface WatchEvent {
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: test events are inspected freely
  object: any;
}

export interface WatchStream {
  status: number;
  events: WatchEvent[];
  /** Resolves when at least n events arrived (rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<WatchEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function openWatch(server: ApiServer, path: string, token?: string): Promise<WatchStream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token ?? server.adminToken}` };
    const req = httpsRequest(new URL(path, server.url), { headers, ca: server.ca }, (res) => {
      const events: WatchEvent[] = [];
      let buffer = "";
      let waiters: (() => void)[] = [];
      let endResolve: () => void = () => {};
      const ended = new Promise<void>((r) => {
        endResolve = r;
      });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let nl = buffer.indexOf("\n");
        while (nl >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) events.push(JSON.parse(line) as WatchEvent);
          nl = buffer.indexOf("\n");
        }
        for (const w of waiters) w();
      });
      res.on("end", () => endResolve());
      res.on("close", () => endResolve());
      res.on("error", () => endResolve());
      resolve({
        status: res.statusCode ?? 0,
        events,
        ended,
        waitFor(n, timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const check = () => {
              if (events.length >= n) {
                clearTimeout(timer);
                waiters = waiters.filter((w) => w !== check);
                ok(events.slice(0, n));
              }
            };
            const timer = setTimeout(() => {
              waiters = waiters.filter((w) => w !== check);
              fail(
                new Error(
                  `expected ${n} watch events, got ${events.length}: ${JSON.stringify(events.map((e) => e.type))}`,
                ),
              );
            }, timeoutMs);
            waiters.push(check);
            check();
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** Polls until fn returns a truthy value or the time is up. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!last && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    last = await fn();
  }
  if (!last) throw new Error("condition not met in time");
  return last;
}

/** The test CRD of these tests (group test.xdpcounter.dev, kind Widget). */
export const widgetsCrd = join(import.meta.dirname, "testdata", "widgets-crd.yaml");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client binary without blocking the event loop (the server under test lives in this process). */
export function run(file: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
