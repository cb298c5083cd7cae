// What the nodes need from the control plane (e2e/local/controlplane) that its interface does not give yet,
// kept apart here so that it can go once the control plane offers it:
//
//   - the CA's key, to sign each node's certificates: the launcher keeps its CA in `<dir>/pki/ca.{crt,key}`
//     and exports only the certificate (caPem);
//   - the API server at an address the nodes can reach: it listens on 127.0.0.1 only, and advertises that
//     address as the `kubernetes` Service's endpoint, which no pod can reach. So the API server is started with
//     `--advertise-address=<the host's cluster address>` (through the launcher's extraFlags, which come after
//     its own flags and so win; with it the `kubernetes` Service's endpoint reconciler, which the launcher turns
//     off for a loopback address), and a forwarder process (forwarder.ts) listens on that address and the API
//     server's port and splices each connection to loopback.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ControlPlane } from "../controlplane/index.ts";
import type { CertFiles } from "./pki.ts";
import type { ClusterPlan } from "./plan.ts";
import { isRunning, type ProcessIdentity, processIdentity, writePidFile } from "./state.ts";

/** The control plane's CA, certificate and key. */
export function controlPlaneCa(cp: ControlPlane): CertFiles {
  const ca = { cert: join(cp.dir, "pki", "ca.crt"), key: join(cp.dir, "pki", "ca.key") };
  for (const file of [ca.cert, ca.key]) {
    if (!existsSync(file))
      throw new Error(`the control plane's CA is not where the nodes look for it: ${file}`);
  }
  return ca;
}

/** The flags that make the API server advertise the host's address on the cluster network. */
export function apiServerFlags(plan: ClusterPlan): string[] {
  return [
    `--advertise-address=${plan.hostIp}`,
    // the launcher turns the endpoint reconciler off for its loopback address; with an address the nodes reach,
    // the `kubernetes` Service gets its endpoint again (the default reconciler)
    "--endpoint-reconciler-type=lease",
  ];
}

/** The API server's URL as the nodes use it. */
export function nodeApiServerUrl(cp: ControlPlane, plan: ClusterPlan): string {
  return `https://${plan.hostIp}:${cp.ports.apiServer}`;
}

export interface ApiForwarder {
  identity: ProcessIdentity;
  stop(): Promise<void>;
}

/** Starts the forwarder from the host's cluster address to the API server; resolves once it listens. */
export async function startApiForwarder(
  cp: ControlPlane,
  plan: ClusterPlan,
  dir: string,
): Promise<ApiForwarder> {
  const port = cp.ports.apiServer;
  const logPath = join(dir, "api-forwarder.log");
  const pidPath = join(dir, "api-forwarder.pid");
  const log = openSync(logPath, "a");
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, "forwarder.ts"),
      "--listen",
      `${plan.hostIp}:${port}`,
      "--to",
      `127.0.0.1:${port}`,
    ],
    { detached: true, stdio: ["ignore", "pipe", log] },
  );
  closeSync(log);
  const identity = (child.pid !== undefined && processIdentity(child.pid)) || {
    pid: child.pid ?? 0,
    start: "",
  };
  writePidFile(pidPath, identity);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.unref();
  const stop = async () => {
    if (isRunning(identity)) {
      // unref'd at start (a forgotten forwarder must not keep its owner alive); waiting for it must
      child.ref();
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(pidPath, { force: true });
  };
  await new Promise<void>((resolve, reject) => {
    let out = "";
    // only while starting: a later exit (its folder removed with the cluster on Ctrl-C) is no start failure
    const failed = (code: number | null) =>
      reject(new Error(`the API forwarder exited (${code}): ${readFileSync(logPath, "utf8").trim()}`));
    child.once("exit", failed);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (!out.includes("listening")) return;
      child.off("exit", failed);
      resolve();
    });
  });
  child.stdout?.destroy();
  return { identity, stop };
}
