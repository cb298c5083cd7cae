// The server as a process: prints its URL, writes a kubeconfig, stops cleanly on SIGTERM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { widgetsCrd } from "./testclient.ts";

test("main.ts runs the server as a process", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "apiserver-main-"));
  const kubeconfig = join(dir, "kubeconfig");
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "main.ts"), "--port", "0", "--kubeconfig", kubeconfig, "--crd", widgetsCrd],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve(line.trim());
    });
    child.on("exit", (code) => reject(new Error(`exited early with ${code}`)));
  });
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const config = parse(readFileSync(kubeconfig, "utf8"));
  const token = config.users[0].user.token as string;
  const ca = Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString();
  assert.equal(config.clusters[0].cluster.server, url);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      `${url}/apis/test.xdpcounter.dev/v1alpha1`,
      { ca, headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        let text = "";
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve(text));
      },
    );
    req.on("error", reject);
    req.end();
  });
  assert.equal(JSON.parse(body).resources[0].name, "widgets");
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
});
