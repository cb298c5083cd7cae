import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RuntimeError, RuntimeErrorCode } from "../../runtime/errors.ts";
import { createLogger } from "../../runtime/index.ts";
import { EventRecorder, type EventRegarding, MAX_NOTE_BYTES, microTime, TokenBucket } from "./events.ts";

const regarding: EventRegarding = {
  apiVersion: "xdpcounter.dev/v1alpha1",
  kind: "XdpCounter",
  name: "edge",
  uid: "uid-edge",
  resourceVersion: "7",
};
const warning = {
  type: "Warning",
  reason: "NodesNotReady",
  action: "Reconcile",
  note: "n2 not ready",
} as const;

type Call = { verb: "create" | "patch"; path: string; body: Record<string, unknown> };

function setup(
  options: { fail?: (call: Call) => Error | undefined; burst?: number; refillMs?: number } = {},
) {
  const calls: Call[] = [];
  const lines: { level: string; msg: string }[] = [];
  let now = new Date("2026-11-25T12:00:00.123Z");
  const answer = async (call: Call) => {
    calls.push(call);
    const error = options.fail?.(call);
    if (error) throw error;
    return { metadata: { name: "x" } };
  };
  const recorder = new EventRecorder({
    client: {
      create: (path, body) => answer({ verb: "create", path, body: body as Record<string, unknown> }),
      patch: (path, body) => answer({ verb: "patch", path, body: body as Record<string, unknown> }),
    },
    reportingInstance: "operator-pod-0",
    log: createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line)) }),
    now: () => now,
    ...(options.burst ? { burst: options.burst } : {}),
    ...(options.refillMs ? { refillMs: options.refillMs } : {}),
  });
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };
  return { recorder, calls, lines, advance };
}

describe("EventRecorder", () => {
  it("creates an events.k8s.io/v1 Event in default about the cluster-scoped object", async () => {
    const { recorder, calls } = setup();
    recorder.emit(regarding, warning);
    await recorder.flush();
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call?.verb, "create");
    assert.equal(call?.path, "/apis/events.k8s.io/v1/namespaces/default/events");
    const body = call?.body as Record<string, unknown> & { metadata: { name: string } };
    assert.match(body.metadata.name, /^edge\.[0-9a-f]+$/);
    assert.deepEqual(
      { ...body, metadata: { ...body.metadata, name: "?" } },
      {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name: "?", namespace: "default" },
        eventTime: "2026-11-25T12:00:00.123000Z",
        reportingController: "xdpcounter.dev/operator",
        reportingInstance: "operator-pod-0",
        action: "Reconcile",
        reason: "NodesNotReady",
        regarding,
        note: "n2 not ready",
        type: "Warning",
      },
    );
  });

  it("counts the same Event again within the window in its series, by a patch; a different one is new", async () => {
    const { recorder, calls, advance } = setup();
    recorder.emit(regarding, warning);
    await recorder.flush();
    advance(1_000);
    recorder.emit(regarding, warning);
    await recorder.flush();
    advance(1_000);
    recorder.emit({ ...regarding, resourceVersion: "8" }, warning);
    await recorder.flush();
    const name = (calls[0]?.body.metadata as { name?: string } | undefined)?.name;
    assert.deepEqual(
      calls.map((c) => [c.verb, c.path]),
      [
        ["create", "/apis/events.k8s.io/v1/namespaces/default/events"],
        ["patch", `/apis/events.k8s.io/v1/namespaces/default/events/${name}`],
        ["patch", `/apis/events.k8s.io/v1/namespaces/default/events/${name}`],
      ],
    );
    assert.deepEqual(calls[1]?.body, {
      series: { count: 2, lastObservedTime: "2026-11-25T12:00:01.123000Z" },
    });
    assert.deepEqual(calls[2]?.body, {
      series: { count: 3, lastObservedTime: "2026-11-25T12:00:02.123000Z" },
    });

    recorder.emit(regarding, { ...warning, note: "n3 not ready" });
    recorder.emit({ ...regarding, uid: "uid-other", name: "other" }, warning);
    advance(11 * 60_000);
    recorder.emit(regarding, warning);
    await recorder.flush();
    assert.deepEqual(
      calls.slice(3).map((c) => c.verb),
      ["create", "create", "create"],
      "another note, another object, and the same Event after the window are new Events",
    );
  });

  it("caps writes per object; occurrences meanwhile are counted and carried by the next allowed patch", async () => {
    const { recorder, calls, advance } = setup({ burst: 3, refillMs: 60_000 });
    for (let i = 0; i < 50; i++) {
      recorder.emit(regarding, warning);
      recorder.emit(regarding, { ...warning, note: `flap ${i}` });
      await recorder.flush();
    }
    await recorder.flush();
    assert.equal(calls.length, 3, "a flapping condition makes at most `burst` writes");
    assert.deepEqual(
      calls.map((c) => c.verb),
      ["create", "create", "patch"],
    );
    recorder.emit({ ...regarding, uid: "uid-other", name: "other" }, warning);
    await recorder.flush();
    assert.equal(calls.length, 4, "another object has its own bucket");

    advance(60_000);
    recorder.emit(regarding, warning);
    await recorder.flush();
    assert.equal(calls.length, 5);
    assert.deepEqual(calls[4]?.body, {
      series: { count: 51, lastObservedTime: "2026-11-25T12:01:00.123000Z" },
    });
  });

  it("folds occurrences made before the first write into the Event it creates", async () => {
    const { recorder, calls } = setup();
    for (let i = 0; i < 4; i++) recorder.emit(regarding, warning);
    await recorder.flush();
    assert.deepEqual(
      calls.map((c) => c.verb),
      ["create"],
    );
    assert.deepEqual(calls[0]?.body.series, { count: 4, lastObservedTime: "2026-11-25T12:00:00.123000Z" });
  });

  it("swallows failures: emit never throws or waits, a failure is a log line, the next occurrence starts afresh", async () => {
    let failing = true;
    const { recorder, calls, lines } = setup({
      fail: () =>
        failing ? new RuntimeError(RuntimeErrorCode.ApiStatus, "forbidden", { statusCode: 403 }) : undefined,
    });
    assert.equal(recorder.emit(regarding, warning), undefined);
    await recorder.flush();
    assert.equal(calls.length, 1);
    assert.ok(lines.some((l) => l.level === "warn" && l.msg === "event write failed"));
    failing = false;
    recorder.emit(regarding, warning);
    await recorder.flush();
    assert.deepEqual(
      calls.map((c) => c.verb),
      ["create", "create"],
    );
  });

  it("creates the Event again when its series patch finds it gone", async () => {
    const { recorder, calls } = setup({
      fail: (call) =>
        call.verb === "patch"
          ? new RuntimeError(RuntimeErrorCode.ApiStatus, "not found", { statusCode: 404 })
          : undefined,
    });
    recorder.emit(regarding, warning);
    await recorder.flush();
    recorder.emit(regarding, warning);
    await recorder.flush();
    assert.deepEqual(
      calls.map((c) => c.verb),
      ["create", "patch", "create"],
    );
    assert.deepEqual(calls[2]?.body.series, {
      count: 2,
      lastObservedTime: "2026-11-25T12:00:00.123000Z",
    });
  });

  it("cuts a note to 1 KiB", async () => {
    const { recorder, calls } = setup();
    recorder.emit(regarding, { ...warning, note: "é".repeat(2000) });
    await recorder.flush();
    const note = calls[0]?.body.note as string;
    assert.ok(Buffer.byteLength(note) <= MAX_NOTE_BYTES);
    assert.ok(note.endsWith("…"));
  });
});

describe("TokenBucket", () => {
  it("gives burst tokens, then one per refill period", () => {
    const bucket = new TokenBucket(2, 1_000, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, false]);
    assert.equal(bucket.take(500), false);
    assert.equal(bucket.take(1_000), true);
    assert.equal(bucket.take(1_000), false);
    assert.deepEqual([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)], [true, true, false]);
  });
});

describe("microTime", () => {
  it("writes microseconds as the API server does", () => {
    assert.equal(microTime(new Date("2026-11-25T12:00:00Z")), "2026-11-25T12:00:00.000000Z");
  });
});
