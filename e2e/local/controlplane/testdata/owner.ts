// A process that starts a control plane and keeps it until it is killed: the tests SIGKILL or SIGINT it and
// check what is left. Prints one JSON line when ready: the state folder and the components' pids.
//   node owner.ts <state root>
import { startControlPlane } from "../index.ts";

const stateRoot = process.argv[2];
if (!stateRoot) throw new Error("usage: owner.ts <state root>");
const cp = await startControlPlane({ stateRoot });
const components = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;
process.stdout.write(`${JSON.stringify({ dir: cp.dir, pids: components.map((c) => cp.pid(c)) })}\n`);
setInterval(() => {}, 60_000);
