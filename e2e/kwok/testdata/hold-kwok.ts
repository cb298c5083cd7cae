// A process that starts a control plane (etcd and kube-apiserver) and kwok beside it, with kwok's pid file in
// the control plane's folder as the scale benchmark keeps it, and holds them until it is killed. Prints one
// JSON line when ready: the folder and kwok's pid.
//   node hold-kwok.ts <state root>
import { startControlPlane } from "../../local/controlplane/index.ts";
import { startKwok } from "../index.ts";

const stateRoot = process.argv[2];
if (!stateRoot) throw new Error("usage: hold-kwok.ts <state root>");
const cp = await startControlPlane({ stateRoot, components: "apiserver" });
const kwok = await startKwok({ kubeconfig: cp.kubeconfig, stateDir: cp.dir });
process.stdout.write(`${JSON.stringify({ dir: cp.dir, kwok: kwok.pid })}\n`);
setInterval(() => {}, 60_000);
