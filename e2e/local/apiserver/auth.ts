// Bearer-token authentication and RBAC authorisation over the stored Roles, ClusterRoles and bindings.
import { randomBytes } from "node:crypto";
import { ApiError } from "./errors.ts";
import type { Store } from "./store.ts";
import { isObject, type KubeObject } from "./types.ts";

export interface UserInfo {
  name: string;
  groups: string[];
  /** For ServiceAccount users: the account, which must still exist. */
  serviceAccount?: { namespace: string; name: string };
}

export interface ResourceAttributes {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

export const adminUser: UserInfo = {
  name: "kubernetes-admin",
  groups: ["system:masters", "system:authenticated"],
};

export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
    serviceAccount: { namespace, name },
  };
}

export function unauthorized(): ApiError {
  return new ApiError("Unauthorized", "Unauthorized");
}

/** Tokens the server accepts: one admin token and any minted for ServiceAccounts or named users. */
export class Authenticator {
  readonly adminToken = randomBytes(24).toString("base64url");
  #tokens = new Map<string, UserInfo>();
  #store: Store;

  constructor(store: Store) {
    this.#store = store;
    this.#tokens.set(this.adminToken, adminUser);
  }

  mint(user: UserInfo): string {
    const token = randomBytes(24).toString("base64url");
    this.#tokens.set(token, user);
    return token;
  }

  authenticate(header: string | undefined): UserInfo {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    const user = m ? this.#tokens.get(m[1] ?? "") : undefined;
    if (!user) throw unauthorized();
    if (user.serviceAccount) {
      const sa = this.#store.get("/serviceaccounts", user.serviceAccount.namespace, user.serviceAccount.name);
      if (!sa) throw unauthorized();
    }
    return user;
  }
}

const discoveryPaths = [
  /^\/api(\/.*)?$/,
  /^\/apis(\/.*)?$/,
  /^\/version\/?$/,
  /^\/openapi(\/.*)?$/,
  /^\/(healthz|livez|readyz)(\/.*)?$/,
];

function includesOrStar(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some((v) => v === "*" || v === value);
}

export function ruleAllows(rule: PolicyRule, a: ResourceAttributes): boolean {
  if (!includesOrStar(rule.verbs, a.verb)) return false;
  if (!includesOrStar(rule.apiGroups, a.apiGroup)) return false;
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk = resources.some(
    (r) => r === "*" || r === full || (a.subresource ? r === `*/${a.subresource}` : false),
  );
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== undefined && a.name !== "" && names.includes(a.name));
}

export function nonResourceAllows(rule: PolicyRule, verb: string, path: string): boolean {
  if (!includesOrStar(rule.verbs, verb)) return false;
  return (rule.nonResourceURLs ?? []).some(
    (u) => u === "*" || u === path || (u.endsWith("*") && path.startsWith(u.slice(0, -1))),
  );
}

function subjectMatches(s: Subject, user: UserInfo): boolean {
  if (s.kind === "User") return s.name === user.name;
  if (s.kind === "Group") return user.groups.includes(s.name);
  if (s.kind === "ServiceAccount")
    return user.serviceAccount?.namespace === s.namespace && user.serviceAccount?.name === s.name;
  return false;
}

/** RBAC as the API server's authorizer evaluates it; system:masters is allowed everything. */
export class Authorizer {
  #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const rules: PolicyRule[] = [];
    const roleRules = (kind: string, name: string, ns: string | undefined): PolicyRule[] => {
      const role =
        kind === "ClusterRole"
          ? this.#store.get("rbac.authorization.k8s.io/clusterroles", undefined, name)
          : this.#store.get("rbac.authorization.k8s.io/roles", ns, name);
      return role && Array.isArray(role.rules) ? (role.rules as PolicyRule[]) : [];
    };
    const bound = (b: KubeObject) =>
      ((b.subjects as Subject[] | undefined) ?? []).some((s) => subjectMatches(s, user));
    for (const b of this.#store.list("rbac.authorization.k8s.io/clusterrolebindings")) {
      const ref = b.roleRef as { kind: string; name: string } | undefined;
      if (ref && bound(b)) rules.push(...roleRules("ClusterRole", ref.name, undefined));
    }
    if (namespace) {
      for (const b of this.#store.list("rbac.authorization.k8s.io/rolebindings", namespace)) {
        const ref = b.roleRef as { kind: string; name: string } | undefined;
        if (ref && bound(b)) rules.push(...roleRules(ref.kind, ref.name, namespace));
      }
    }
    return rules;
  }

  allowsResource(user: UserInfo, a: ResourceAttributes): boolean {
    if (user.groups.includes("system:masters")) return true;
    // the default system:basic-user role: anyone may ask what they may do
    if (
      a.apiGroup === "authorization.k8s.io" &&
      a.verb === "create" &&
      (a.resource === "selfsubjectaccessreviews" || a.resource === "selfsubjectrulesreviews")
    )
      return true;
    return this.rulesFor(user, a.namespace).some((r) => isObject(r) && ruleAllows(r, a));
  }

  allowsPath(user: UserInfo, verb: string, path: string): boolean {
    if (user.groups.includes("system:masters")) return true;
    // the default system:discovery and system:public-info-viewer roles
    if (verb === "get" && discoveryPaths.some((re) => re.test(path))) return true;
    return this.rulesFor(user, undefined).some((r) => nonResourceAllows(r, verb, path));
  }

  authorizeResource(user: UserInfo, a: ResourceAttributes): void {
    if (this.allowsResource(user, a)) return;
    const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
    const subject = a.name ? `${qualified} "${a.name}"` : qualified;
    const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
    throw new ApiError(
      "Forbidden",
      `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${full}" in API group "${a.apiGroup}" ${scope}`,
      { ...(a.name ? { name: a.name } : {}), group: a.apiGroup, kind: a.resource },
    );
  }

  authorizePath(user: UserInfo, verb: string, path: string): void {
    if (this.allowsPath(user, verb, path)) return;
    throw new ApiError("Forbidden", `forbidden: User "${user.name}" cannot ${verb} path "${path}"`);
  }
}

/** The user named in a SubjectAccessReview or an Impersonate-User header. */
export function userNamed(name: string, groups: string[]): UserInfo {
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  if (sa) {
    const u = serviceAccountUser(sa[1] ?? "", sa[2] ?? "");
    return { ...u, groups: [...new Set([...u.groups, ...groups])] };
  }
  return { name, groups: [...new Set([...groups, "system:authenticated"])] };
}

/** Applies Impersonate-User/Impersonate-Group headers, if the requester may impersonate. */
export function impersonate(
  authz: Authorizer,
  user: UserInfo,
  headers: Record<string, string | string[] | undefined>,
): UserInfo {
  const target = headers["impersonate-user"];
  if (typeof target !== "string" || target === "") return user;
  const raw = headers["impersonate-group"];
  const groups = raw === undefined ? [] : Array.isArray(raw) ? raw : raw.split(",").map((g) => g.trim());
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(target);
  const checks: ResourceAttributes[] = [
    sa
      ? {
          verb: "impersonate",
          apiGroup: "",
          resource: "serviceaccounts",
          namespace: sa[1] ?? "",
          name: sa[2] ?? "",
        }
      : { verb: "impersonate", apiGroup: "", resource: "users", name: target },
    ...groups.map((g) => ({ verb: "impersonate", apiGroup: "", resource: "groups", name: g })),
  ];
  for (const c of checks) {
    if (!authz.allowsResource(user, c)) {
      const what =
        c.resource === "serviceaccounts" ? `serviceaccounts "${c.name}"` : `${c.resource} "${c.name}"`;
      const scope = c.namespace ? `in the namespace "${c.namespace}"` : "at the cluster scope";
      throw new ApiError(
        "Forbidden",
        `${what} is forbidden: User "${user.name}" cannot impersonate resource "${c.resource}" in API group "" ${scope}`,
      );
    }
  }
  return userNamed(target, groups);
}

/** The rules every authenticated user has from the default roles (system:discovery, system:basic-user, ...). */
export const defaultRules: PolicyRule[] = [
  {
    verbs: ["create"],
    apiGroups: ["authorization.k8s.io"],
    resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
  },
  {
    verbs: ["get"],
    nonResourceURLs: [
      "/api",
      "/api/*",
      "/apis",
      "/apis/*",
      "/healthz",
      "/livez",
      "/openapi",
      "/openapi/*",
      "/readyz",
      "/version",
      "/version/",
    ],
  },
];
