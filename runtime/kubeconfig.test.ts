import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { stringify } from "yaml";
import { RuntimeError, RuntimeErrorCode } from "./errors.ts";
import { loadClusterAccess, loadInCluster, loadKubeconfigFiles, loadKubeconfigText } from "./kubeconfig.ts";

const dir = mkdtempSync(join(tmpdir(), "runtime-kubeconfig-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
/** A fresh folder under the test's temporary folder. */
function folder(): string {
  const d = join(dir, String(++seq));
  mkdirSync(d, { recursive: true });
  return d;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

function kubeconfig(o: {
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  context?: Record<string, unknown>;
  name?: string;
  current?: string | null;
}): string {
  const name = o.name ?? "local";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: o.cluster ?? { server: "https://127.0.0.1:6443/" } }],
    users: [{ name, user: o.user ?? { token: "t0k" } }],
    contexts: [{ name, context: { cluster: name, user: name, ...o.context } }],
    ...(o.current === null ? {} : { "current-context": o.current ?? name }),
  });
}

async function rejectsWith(p: Promise<unknown>, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RuntimeError, String(err));
    assert.equal(err.code, RuntimeErrorCode.KubeConfig);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test("a token kubeconfig with -data fields: server, CA, namespace, bearer token", async () => {
  const access = await loadKubeconfigText(
    kubeconfig({
      cluster: {
        server: "https://10.0.0.1:6443/",
        "certificate-authority-data": b64("CA PEM"),
        "tls-server-name": "kubernetes",
      },
      user: { token: "abc" },
      context: { namespace: "ops" },
    }),
  );
  assert.equal(access.server, "https://10.0.0.1:6443");
  assert.equal(access.namespace, "ops");
  assert.equal(access.viaClientNode, false);
  const c = await access.credentials();
  assert.deepEqual(c.headers, { Authorization: "Bearer abc" });
  assert.equal(c.tls.ca?.toString(), "CA PEM");
  assert.equal(c.tls.servername, "kubernetes");
  assert.equal(c.tls.rejectUnauthorized, true);
  assert.equal((await access.credentials()).tls, c.tls, "the same TLS settings object each time");
});

test("file fields are read relative to the kubeconfig's folder; a tokenFile is re-read as it rotates", async () => {
  const d = folder();
  writeFileSync(join(d, "ca.crt"), "CA FILE");
  writeFileSync(join(d, "client.crt"), "CERT FILE");
  writeFileSync(join(d, "client.key"), "KEY FILE");
  writeFileSync(join(d, "token"), "first\n");
  const path = join(d, "config");
  writeFileSync(
    path,
    kubeconfig({
      cluster: { server: "https://h:1", "certificate-authority": "ca.crt", "insecure-skip-tls-verify": true },
      user: {
        "client-certificate": "client.crt",
        "client-key": "./client.key",
        tokenFile: "token",
        token: "x",
      },
    }),
  );
  const access = await loadKubeconfigFiles([path], { tokenCacheMs: 0 });
  const first = await access.credentials();
  assert.equal(first.tls.ca?.toString(), "CA FILE");
  assert.equal(first.tls.cert?.toString(), "CERT FILE");
  assert.equal(first.tls.key?.toString(), "KEY FILE");
  assert.equal(first.tls.rejectUnauthorized, false);
  assert.deepEqual(first.headers, { Authorization: "Bearer first" }, "tokenFile takes precedence over token");
  writeFileSync(join(d, "token"), "second\n");
  assert.deepEqual((await access.credentials()).headers, { Authorization: "Bearer second" });

  const cached = await loadKubeconfigFiles([path], { tokenCacheMs: 60_000 });
  assert.deepEqual((await cached.credentials()).headers, { Authorization: "Bearer second" });
  writeFileSync(join(d, "token"), "third\n");
  assert.deepEqual(
    (await cached.credentials()).headers,
    { Authorization: "Bearer second" },
    "within the cache",
  );
});

test("client certificate and key as -data; no user at all", async () => {
  const certs = await loadKubeconfigText(
    kubeconfig({ user: { "client-certificate-data": b64("C"), "client-key-data": b64("K") } }),
  );
  const c = await certs.credentials();
  assert.equal(c.tls.cert?.toString(), "C");
  assert.equal(c.tls.key?.toString(), "K");
  assert.deepEqual(c.headers, {});
  const anonymous = await loadKubeconfigText(
    stringify({
      clusters: [{ name: "c", cluster: { server: "http://127.0.0.1:8080" } }],
      contexts: [{ name: "x", context: { cluster: "c" } }],
      "current-context": "x",
    }),
  );
  assert.equal(anonymous.server, "http://127.0.0.1:8080");
  assert.deepEqual((await anonymous.credentials()).headers, {});
});

test("KUBECONFIG lists files merged as kubectl merges them: the first definition wins", async () => {
  const d = folder();
  const a = join(d, "a");
  const b = join(d, "b");
  writeFileSync(a, kubeconfig({ name: "one", cluster: { server: "https://one:1" }, user: { token: "A" } }));
  writeFileSync(
    b,
    stringify({
      clusters: [
        { name: "one", cluster: { server: "https://ignored:1" } },
        { name: "two", cluster: { server: "https://two:2" } },
      ],
      users: [{ name: "two", user: { token: "B" } }],
      contexts: [{ name: "two", context: { cluster: "two", user: "two" } }],
      "current-context": "two",
    }),
  );
  const env = { KUBECONFIG: `${a}:${b}`, HOME: d };
  const first = await loadClusterAccess({ env });
  assert.equal(first.server, "https://one:1");
  assert.match(first.source, /context "one"/);
  const onlyB = await loadClusterAccess({ env: { KUBECONFIG: `:${b}` } });
  assert.equal(onlyB.server, "https://two:2");
  assert.deepEqual((await onlyB.credentials()).headers, { Authorization: "Bearer B" });
  // a's cluster "one" wins over b's; b's context "two" still resolves.
  writeFileSync(a, kubeconfig({ name: "one", cluster: { server: "https://one:1" }, current: "two" }));
  assert.equal((await loadClusterAccess({ env })).server, "https://two:2");
});

function serviceAccount(token = "sa-token"): string {
  const d = folder();
  writeFileSync(join(d, "token"), token);
  writeFileSync(join(d, "ca.crt"), "SA CA");
  writeFileSync(join(d, "namespace"), "xdp-counter-system");
  return d;
}

test("in-cluster: host and port from the environment, token, CA and namespace from the service account", async () => {
  const sa = serviceAccount();
  const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
  const access = await loadClusterAccess({ env, serviceAccountDir: sa, tokenCacheMs: 0 });
  assert.equal(access.server, "https://10.96.0.1:443");
  assert.equal(access.source, "in-cluster");
  assert.equal(access.namespace, "xdp-counter-system");
  const c = await access.credentials();
  assert.deepEqual(c.headers, { Authorization: "Bearer sa-token" });
  assert.equal(c.tls.ca?.toString(), "SA CA");
  writeFileSync(join(sa, "token"), "rotated");
  assert.deepEqual((await access.credentials()).headers, { Authorization: "Bearer rotated" });

  const v6 = loadInCluster({
    env: { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" },
    serviceAccountDir: sa,
  });
  assert.equal(v6.server, "https://[fd00::1]:6443");
  const plain = loadInCluster({
    env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: "8080" },
    serviceAccountDir: sa,
  });
  assert.equal(plain.server, "http://127.0.0.1:8080");
  await rejectsWith(
    loadClusterAccess({ env: {}, serviceAccountDir: sa }),
    `in-cluster configuration (${sa}): KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set`,
  );
  writeFileSync(join(sa, "token"), "");
  await assert.rejects(access.credentials(), (err: unknown) => {
    assert.ok(err instanceof RuntimeError);
    assert.equal(err.code, RuntimeErrorCode.Credentials);
    assert.equal(err.message, `token file ${join(sa, "token")} is empty`);
    return true;
  });
});

test("precedence: KUBECONFIG, then ~/.kube/config, then in-cluster, else a clear error", async () => {
  const sa = serviceAccount();
  const home = folder();
  const inCluster = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
  const explicit = join(folder(), "config");
  writeFileSync(explicit, kubeconfig({ cluster: { server: "https://explicit:1" } }));
  assert.equal(
    (await loadClusterAccess({ env: { ...inCluster, HOME: home }, serviceAccountDir: sa })).source,
    "in-cluster",
  );
  mkdirSync(join(home, ".kube"));
  writeFileSync(join(home, ".kube", "config"), kubeconfig({ cluster: { server: "https://home:1" } }));
  const opts = { serviceAccountDir: sa };
  assert.equal(
    (await loadClusterAccess({ ...opts, env: { ...inCluster, HOME: home } })).server,
    "https://home:1",
  );
  assert.equal(
    (await loadClusterAccess({ ...opts, env: { ...inCluster, HOME: home, KUBECONFIG: explicit } })).server,
    "https://explicit:1",
  );
  await rejectsWith(
    loadClusterAccess({ env: { HOME: folder() }, serviceAccountDir: folder() }),
    "no Kubernetes API server configured: set KUBECONFIG, or run in a pod with a service account",
  );
});

test("broken kubeconfigs fail naming the file and the field", async () => {
  const d = folder();
  const write = (name: string, text: string) => {
    const p = join(d, name);
    writeFileSync(p, text);
    return p;
  };
  const load = (p: string) => loadKubeconfigFiles([p]);
  const p1 = write("undefined-cluster", kubeconfig({ context: { cluster: "bar" }, name: "foo" }));
  await rejectsWith(load(p1), `kubeconfig ${p1}: context "foo" names cluster "bar", which is not defined`);
  const p2 = write("undefined-user", kubeconfig({ context: { user: "nobody" } }));
  await rejectsWith(load(p2), `kubeconfig ${p2}: context "local" names user "nobody", which is not defined`);
  const p3 = write("no-current", kubeconfig({ current: null }));
  await rejectsWith(load(p3), `kubeconfig ${p3}: current-context is not set`);
  const p4 = write("unknown-current", kubeconfig({ current: "elsewhere" }));
  await rejectsWith(load(p4), `kubeconfig ${p4}: current-context "elsewhere" is not defined in contexts`);
  const p5 = write("no-server", kubeconfig({ cluster: { "certificate-authority-data": b64("x") } }));
  await rejectsWith(load(p5), `kubeconfig ${p5}: cluster "local": server is not set`);
  const p6 = write(
    "missing-ca",
    kubeconfig({ cluster: { server: "https://h:1", "certificate-authority": "nope.crt" } }),
  );
  await rejectsWith(
    load(p6),
    new RegExp(`^kubeconfig ${p6}: cluster "local": certificate-authority ${join(d, "nope.crt")}: ENOENT`),
  );
  const p7 = write(
    "bad-base64",
    kubeconfig({ user: { "client-key-data": "%%%", "client-certificate-data": "QQ==" } }),
  );
  await rejectsWith(load(p7), `kubeconfig ${p7}: user "local": client-key-data is not base64`);
  const p8 = write("cert-no-key", kubeconfig({ user: { "client-certificate-data": b64("C") } }));
  await rejectsWith(load(p8), `kubeconfig ${p8}: user "local": client-certificate is set without client-key`);
  const p9 = write("not-yaml", "clusters: [\n");
  await rejectsWith(load(p9), new RegExp(`^kubeconfig ${p9}: not valid YAML`));
  const p10 = write("list", "- 1\n- 2\n");
  await rejectsWith(load(p10), `kubeconfig ${p10}: not a YAML mapping`);
  const p11 = write(
    "insecure",
    kubeconfig({ cluster: { server: "https://h:1", "insecure-skip-tls-verify": "yes" } }),
  );
  await rejectsWith(
    load(p11),
    `kubeconfig ${p11}: cluster "local": insecure-skip-tls-verify is not true or false`,
  );
  const p12 = write("impersonate", kubeconfig({ user: { token: "t", as: "admin" } }));
  await rejectsWith(load(p12), `kubeconfig ${p12}: user "local": as (impersonation) is not supported`);
  const missing = join(d, "absent");
  await rejectsWith(
    loadClusterAccess({ env: { KUBECONFIG: missing } }),
    new RegExp(`^kubeconfig ${missing}: cannot read: ENOENT`),
  );
});

test("an exec credential plugin is handed to @kubernetes/client-node, and works", async () => {
  const d = folder();
  const plugin = join(d, "credential.sh");
  writeFileSync(
    plugin,
    `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}'\n`,
  );
  chmodSync(plugin, 0o755);
  const path = join(d, "config");
  writeFileSync(
    path,
    kubeconfig({
      cluster: { server: "https://h:6443", "certificate-authority-data": b64("EXEC CA") },
      user: {
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command: "./credential.sh",
          interactiveMode: "Never",
        },
      },
      context: { namespace: "team" },
    }),
  );
  const access = await loadKubeconfigFiles([path]);
  assert.equal(access.viaClientNode, true);
  assert.equal(access.server, "https://h:6443");
  assert.equal(access.namespace, "team");
  const c = await access.credentials();
  assert.equal(c.headers.Authorization, "Bearer from-exec");
  assert.equal(c.tls.ca?.toString(), "EXEC CA");
  assert.equal((await access.credentials()).tls, c.tls, "unchanged TLS settings are the same object");

  const basic = await loadKubeconfigText(kubeconfig({ user: { username: "u", password: "p" } }));
  assert.equal(basic.viaClientNode, true);
  assert.equal((await basic.credentials()).headers.Authorization, `Basic ${b64("u:p")}`);
});

test("the common cases never load @kubernetes/client-node", () => {
  const d = folder();
  const path = join(d, "config");
  writeFileSync(path, kubeconfig({}));
  const script = `
import { registerHooks } from "node:module";
const loaded = [];
registerHooks({ load(url, ctx, next) { loaded.push(url); return next(url, ctx); } });
const { loadClusterAccess } = await import(${JSON.stringify(join(import.meta.dirname, "index.ts"))});
await (await loadClusterAccess({ env: { KUBECONFIG: ${JSON.stringify(path)} } })).credentials();
process.stdout.write(String(loaded.filter((u) => u.includes("@kubernetes/client-node")).length));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(out, "0");
});
