// RBAC's escalation prevention: a user may write a Role or ClusterRole only with permissions they hold (or
// with the `escalate` verb), and bind a role only if they hold its permissions (or have the `bind` verb).
import {
  type Authorizer,
  nonResourceAllows,
  type PolicyRule,
  type ResourceAttributes,
  ruleAllows,
  type UserInfo,
} from "./auth.ts";
import { ApiError } from "./errors.ts";
import type { Store } from "./store.ts";
import { isObject, type KubeObject, type ResourceInfo } from "./types.ts";

const rbacGroup = "rbac.authorization.k8s.io";

/** One verb on one resource (and name) or one URL: rules broken down as the RBAC validator does. */
type Atom =
  | { kind: "resource"; group: string; resource: string; name?: string; verb: string }
  | { kind: "url"; url: string; verb: string };

function atoms(rules: PolicyRule[]): Atom[] {
  const out: Atom[] = [];
  for (const r of rules) {
    const verbs = r.verbs ?? [];
    for (const group of r.apiGroups ?? [])
      for (const resource of r.resources ?? []) {
        if (r.resourceNames?.length)
          for (const name of r.resourceNames)
            for (const verb of verbs) out.push({ kind: "resource", group, resource, name, verb });
        else for (const verb of verbs) out.push({ kind: "resource", group, resource, verb });
      }
    for (const url of r.nonResourceURLs ?? []) for (const verb of verbs) out.push({ kind: "url", url, verb });
  }
  return out;
}

function covered(atom: Atom, held: PolicyRule[]): boolean {
  if (atom.kind === "url") return held.some((r) => nonResourceAllows(r, atom.verb, atom.url));
  const [resource, subresource] = atom.resource.split("/", 2);
  const attrs: ResourceAttributes = {
    verb: atom.verb,
    apiGroup: atom.group,
    resource: resource ?? "",
    ...(subresource ? { subresource } : {}),
    ...(atom.name ? { name: atom.name } : {}),
  };
  // a wildcard in the granted rule is only covered by the same wildcard
  return held.some((r) => {
    if (atom.resource === "*" && !(r.resources ?? []).includes("*")) return false;
    if (atom.group === "*" && !(r.apiGroups ?? []).includes("*")) return false;
    if (atom.verb === "*" && !(r.verbs ?? []).includes("*")) return false;
    if (!atom.name && (r.resourceNames ?? []).length > 0) return false;
    return ruleAllows(r, attrs);
  });
}

const q = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(" ")}]`;

/** The compact form the API server prints missing rules in: verbs of the same resources joined, sorted. */
function describe(missing: Atom[]): string {
  const lines = new Map<string, { head: string; verbs: string[] }>();
  for (const a of missing) {
    const head =
      a.kind === "url"
        ? `NonResourceURLs:${q([a.url])}`
        : `APIGroups:${q([a.group])}, Resources:${q([a.resource])}${a.name ? `, ResourceNames:${q([a.name])}` : ""}`;
    const line = lines.get(head) ?? { head, verbs: [] };
    if (!line.verbs.includes(a.verb)) line.verbs.push(a.verb);
    lines.set(head, line);
  }
  return [...lines.values()]
    .map((l) => `{${l.head}, Verbs:${q(l.verbs)}}`)
    .sort()
    .join("\n");
}

export function checkEscalation(
  authz: Authorizer,
  store: Store,
  user: UserInfo,
  ri: ResourceInfo,
  obj: KubeObject,
): void {
  if (ri.group !== rbacGroup || user.groups.includes("system:masters")) return;
  const namespace = ri.namespaced ? obj.metadata.namespace : undefined;
  const name = obj.metadata.name ?? "";
  let granted: PolicyRule[];
  if (ri.kind === "Role" || ri.kind === "ClusterRole") {
    const may = authz.allowsResource(user, {
      verb: "escalate",
      apiGroup: rbacGroup,
      resource: ri.plural,
      name,
      ...(namespace ? { namespace } : {}),
    });
    if (may) return;
    granted = Array.isArray(obj.rules) ? (obj.rules as PolicyRule[]) : [];
  } else if (ri.kind === "RoleBinding" || ri.kind === "ClusterRoleBinding") {
    const ref = isObject(obj.roleRef) ? (obj.roleRef as { kind?: string; name?: string }) : {};
    const roleResource = ref.kind === "Role" ? "roles" : "clusterroles";
    const may = authz.allowsResource(user, {
      verb: "bind",
      apiGroup: rbacGroup,
      resource: roleResource,
      name: ref.name ?? "",
      ...(ref.kind === "Role" && namespace ? { namespace } : {}),
    });
    if (may) return;
    const role =
      ref.kind === "Role"
        ? store.get(`${rbacGroup}/roles`, namespace, ref.name ?? "")
        : store.get(`${rbacGroup}/clusterroles`, undefined, ref.name ?? "");
    granted = role && Array.isArray(role.rules) ? (role.rules as PolicyRule[]) : [];
  } else return;
  const held = authz.rulesFor(user, namespace);
  const missing = atoms(granted).filter((a) => !covered(a, held));
  if (missing.length === 0) return;
  throw new ApiError(
    "Forbidden",
    `${ri.plural}.${rbacGroup} "${name}" is forbidden: user "${user.name}" (groups=${q(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${describe(missing)}`,
    { name, group: rbacGroup, kind: ri.plural },
  );
}
