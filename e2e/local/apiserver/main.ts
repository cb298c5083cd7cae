// Runs the test API server as a process: node e2e/local/apiserver/main.ts --port 0 --kubeconfig /path [--crd file]...
import { parseArgs } from "node:util";
import { startApiServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    kubeconfig: { type: "string" },
    crd: { type: "string", multiple: true, default: [] },
    "bookmark-interval-ms": { type: "string" },
  },
});

const server = await startApiServer({
  port: Number(values.port),
  host: values.host,
  crds: values.crd,
  ...(values["bookmark-interval-ms"] ? { bookmarkIntervalMs: Number(values["bookmark-interval-ms"]) } : {}),
});
if (values.kubeconfig) server.writeKubeconfig(values.kubeconfig);
console.log(server.url);

const shutdown = () => {
  void server.stop().then(() => process.exit(0));
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
