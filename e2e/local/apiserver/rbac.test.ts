import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call, widgetsCrd } from "./testclient.ts";

test("RBAC: ServiceAccount tokens are authorised by Roles and ClusterRoles; refusals are 403 with Kubernetes' message", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  await call(s, "POST", "/api/v1/namespaces", { body: { metadata: { name: "ops" } } });
  await call(s, "POST", "/api/v1/namespaces/ops/serviceaccounts", { body: { metadata: { name: "agent" } } });
  const token = s.tokenFor("ops", "agent");
  const widgets = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets";
  await call(s, "POST", widgets, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      metadata: { name: "x" },
      spec: { action: "pass" },
    },
  });

  const denied = await call(s, "PATCH", `${widgets}/x/status`, {
    body: { status: { nodeCount: 1 } },
    contentType: "application/merge-patch+json",
    token,
  });
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.body, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message:
      'widgets.test.xdpcounter.dev "x" is forbidden: User "system:serviceaccount:ops:agent" cannot patch resource "widgets/status" in API group "test.xdpcounter.dev" in the namespace "default"',
    reason: "Forbidden",
    details: { name: "x", group: "test.xdpcounter.dev", kind: "widgets" },
    code: 403,
  });

  await call(s, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
    body: {
      metadata: { name: "widget-status" },
      rules: [
        {
          apiGroups: ["test.xdpcounter.dev"],
          resources: ["widgets/status"],
          verbs: ["patch"],
          resourceNames: ["x"],
        },
        { apiGroups: ["test.xdpcounter.dev"], resources: ["widgets"], verbs: ["get", "list", "watch"] },
      ],
    },
  });
  await call(s, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    body: {
      metadata: { name: "widget-status" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "widget-status" },
      subjects: [{ kind: "ServiceAccount", name: "agent", namespace: "ops" }],
    },
  });
  const allowed = await call(s, "PATCH", `${widgets}/x/status`, {
    body: { status: { nodeCount: 1 } },
    contentType: "application/merge-patch+json",
    token,
  });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.body.status.nodeCount, 1);
  assert.equal((await call(s, "GET", widgets, { token })).status, 200);
  const otherName = await call(s, "PATCH", `${widgets}/y/status`, {
    body: {},
    contentType: "application/merge-patch+json",
    token,
  });
  assert.equal(otherName.status, 403, "resourceNames restricts the rule");
  const mainPatch = await call(s, "PATCH", `${widgets}/x`, {
    body: {},
    contentType: "application/merge-patch+json",
    token,
  });
  assert.equal(mainPatch.status, 403, "widgets/status does not grant widgets");

  const cluster = await call(s, "GET", "/api/v1/nodes", { token });
  assert.equal(cluster.status, 403);
  assert.equal(
    cluster.body.message,
    'nodes is forbidden: User "system:serviceaccount:ops:agent" cannot list resource "nodes" in API group "" at the cluster scope',
  );

  // a namespaced Role through a RoleBinding
  await call(s, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/ops/roles", {
    body: { metadata: { name: "cm" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["*"] }] },
  });
  await call(s, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/ops/rolebindings", {
    body: {
      metadata: { name: "cm" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm" },
      subjects: [{ kind: "Group", name: "system:serviceaccounts:ops" }],
    },
  });
  assert.equal(
    (await call(s, "POST", "/api/v1/namespaces/ops/configmaps", { body: { metadata: { name: "c" } }, token }))
      .status,
    201,
  );
  assert.equal((await call(s, "GET", "/api/v1/namespaces/default/configmaps", { token })).status, 403);

  // discovery is open to every authenticated user
  assert.equal((await call(s, "GET", "/apis", { token })).status, 200);
  assert.equal((await call(s, "GET", "/version", { token })).status, 200);
});

test("authentication: missing or unknown tokens and tokens of deleted ServiceAccounts are 401", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const none = await call(s, "GET", "/api/v1/namespaces", { token: null });
  assert.equal(none.status, 401);
  assert.equal(none.body.reason, "Unauthorized");
  assert.equal(none.body.message, "Unauthorized");
  assert.equal((await call(s, "GET", "/api/v1/namespaces", { token: "bogus" })).status, 401);
  const token = s.tokenFor("default", "ghost");
  assert.equal((await call(s, "GET", "/apis", { token })).status, 401, "the ServiceAccount does not exist");
  await call(s, "POST", "/api/v1/namespaces/default/serviceaccounts", {
    body: { metadata: { name: "ghost" } },
  });
  assert.equal((await call(s, "GET", "/apis", { token })).status, 200);
  assert.match(s.kubeconfigFor({ namespace: "default", serviceAccount: "ghost" }), /token: \S+/);
});

test("impersonation needs the impersonate verb; access reviews answer from RBAC", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  await call(s, "POST", "/api/v1/namespaces/default/serviceaccounts", { body: { metadata: { name: "a" } } });
  await call(s, "POST", "/api/v1/namespaces/default/serviceaccounts", { body: { metadata: { name: "b" } } });
  const token = s.tokenFor("default", "a");
  const impersonating = (as: string, tok = s.adminToken) =>
    new Promise<{ status: number; body: { message?: string } }>((resolve, reject) => {
      import("node:https").then(({ request }) => {
        const req = request(
          new URL("/api/v1/namespaces/default/pods", s.url),
          { ca: s.ca, headers: { Authorization: `Bearer ${tok}`, "Impersonate-User": as } },
          (res) => {
            let text = "";
            res.on("data", (c) => {
              text += c;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on("error", reject);
        req.end();
      });
    });
  const asB = await impersonating("system:serviceaccount:default:b");
  assert.equal(asB.status, 403);
  assert.match(asB.body.message ?? "", /User "system:serviceaccount:default:b" cannot list resource "pods"/);
  const byA = await impersonating("system:serviceaccount:default:b", token);
  assert.equal(byA.status, 403);
  assert.equal(
    byA.body.message,
    'serviceaccounts "b" is forbidden: User "system:serviceaccount:default:a" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "default"',
  );

  const review = (user: string, verb: string) =>
    call(s, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: { user, resourceAttributes: { namespace: "default", verb, resource: "pods" } },
      },
    });
  assert.equal((await review("system:serviceaccount:default:a", "list")).body.status.allowed, false);
  await call(s, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", {
    body: { metadata: { name: "r" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }] },
  });
  await call(s, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", {
    body: {
      metadata: { name: "r" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
      subjects: [{ kind: "ServiceAccount", name: "a", namespace: "default" }],
    },
  });
  const allowed = await review("system:serviceaccount:default:a", "list");
  assert.equal(allowed.status, 201);
  assert.equal(allowed.body.status.allowed, true);
  const self = await call(s, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
    body: { spec: { resourceAttributes: { namespace: "default", verb: "delete", resource: "pods" } } },
    token,
  });
  assert.equal(self.status, 201);
  assert.equal(self.body.status.allowed, false);
  assert.equal((await call(s, "GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).status, 405);
});

test("cluster-admin exists at start and grants everything when bound", async (t) => {
  const s = await startApiServer({ logUnknown: () => {} });
  t.after(() => s.stop());
  await call(s, "POST", "/api/v1/namespaces/default/serviceaccounts", {
    body: { metadata: { name: "root" } },
  });
  const token = s.tokenFor("default", "root");
  assert.equal((await call(s, "GET", "/api/v1/nodes", { token })).status, 403);
  await call(s, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    body: {
      metadata: { name: "root" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: "root", namespace: "default" }],
    },
  });
  assert.equal((await call(s, "GET", "/api/v1/nodes", { token })).status, 200);
  assert.equal((await call(s, "GET", "/metrics", { token })).status, 404, "allowed, but not served");
});

test("RBAC escalation: granting or binding permissions one does not hold is forbidden", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  await call(s, "POST", "/api/v1/namespaces/default/serviceaccounts", {
    body: { metadata: { name: "deployer" } },
  });
  const token = s.tokenFor("default", "deployer");
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  await call(s, "POST", `${rbac}/clusterroles`, {
    body: {
      metadata: { name: "role-writer" },
      rules: [
        {
          apiGroups: ["rbac.authorization.k8s.io"],
          resources: ["roles", "rolebindings"],
          verbs: ["create", "get"],
        },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] },
      ],
    },
  });
  await call(s, "POST", `${rbac}/clusterrolebindings`, {
    body: {
      metadata: { name: "deployer" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "role-writer" },
      subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: "default" }],
    },
  });
  const held = await call(s, "POST", `${rbac}/namespaces/default/roles`, {
    body: {
      metadata: { name: "reader" },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
    },
    token,
  });
  assert.equal(held.status, 201, JSON.stringify(held.body));
  const escalating = await call(s, "POST", `${rbac}/namespaces/default/roles`, {
    body: {
      metadata: { name: "writer" },
      rules: [{ apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "delete"] }],
    },
    token,
  });
  assert.equal(escalating.status, 403);
  assert.equal(
    escalating.body.message,
    'roles.rbac.authorization.k8s.io "writer" is forbidden: user "system:serviceaccount:default:deployer" (groups=["system:serviceaccounts" "system:serviceaccounts:default" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["configmaps"], Verbs:["delete"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}',
  );
  const bindHeld = await call(s, "POST", `${rbac}/namespaces/default/rolebindings`, {
    body: {
      metadata: { name: "ok" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
      subjects: [{ kind: "User", name: "someone" }],
    },
    token,
  });
  assert.equal(bindHeld.status, 201);
  const bindAdmin = await call(s, "POST", `${rbac}/namespaces/default/rolebindings`, {
    body: {
      metadata: { name: "root" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "User", name: "someone" }],
    },
    token,
  });
  assert.equal(bindAdmin.status, 403);
});
