// Runs inside a test namespace (see ns-bridge.ts): listens on 127.0.0.1:0 there and pipes every connection
// to the Unix socket given as argument. Prints {"port":N} once listening; runs until killed.
import { connect, createServer } from "node:net";

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write("usage: ns-forward.ts SOCKET\n");
  process.exit(2);
}
const server = createServer((client) => {
  const upstream = connect(socketPath);
  const end = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", end).on("close", end);
  upstream.on("error", end).on("close", end);
  client.pipe(upstream).pipe(client);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" ? address?.port : 0 })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
