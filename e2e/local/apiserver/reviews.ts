// SelfSubjectAccessReview, SubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1): answered
// from RBAC, not stored. `kubectl auth can-i` uses the first, `kubectl auth can-i --list` the last.
import { type Authorizer, defaultRules, type PolicyRule, type UserInfo, userNamed } from "./auth.ts";
import { badRequest } from "./errors.ts";
import { isObject, type ResourceInfo } from "./types.ts";

interface ReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
}

export function review(authz: Authorizer, ri: ResourceInfo, requester: UserInfo, body: unknown): object {
  if (!isObject(body) || !isObject(body.spec)) throw badRequest("spec is required");
  if (ri.kind === "SelfSubjectRulesReview") return rulesReview(authz, requester, body.spec);
  const spec = body.spec as ReviewSpec;
  const subject =
    ri.kind === "SelfSubjectAccessReview" ? requester : userNamed(spec.user ?? "", spec.groups ?? []);
  let allowed: boolean;
  if (spec.resourceAttributes) {
    const a = spec.resourceAttributes;
    allowed = authz.allowsResource(subject, {
      verb: a.verb ?? "",
      apiGroup: a.group ?? "",
      resource: a.resource ?? "",
      ...(a.subresource ? { subresource: a.subresource } : {}),
      ...(a.name ? { name: a.name } : {}),
      ...(a.namespace ? { namespace: a.namespace } : {}),
    });
  } else if (spec.nonResourceAttributes) {
    allowed = authz.allowsPath(
      subject,
      spec.nonResourceAttributes.verb ?? "",
      spec.nonResourceAttributes.path ?? "",
    );
  } else throw badRequest("exactly one of nonResourceAttributes or resourceAttributes must be specified");
  return {
    kind: ri.kind,
    apiVersion: "authorization.k8s.io/v1",
    metadata: { creationTimestamp: null },
    spec,
    status: allowed ? { allowed: true, reason: "RBAC: allowed" } : { allowed: false },
  };
}

function rulesReview(authz: Authorizer, user: UserInfo, spec: Record<string, unknown>): object {
  const namespace = typeof spec.namespace === "string" && spec.namespace ? spec.namespace : undefined;
  const rules: PolicyRule[] = [...defaultRules, ...authz.rulesFor(user, namespace)];
  const resourceRules = rules
    .filter((r) => !r.nonResourceURLs?.length)
    .map((r) => ({
      verbs: r.verbs ?? [],
      apiGroups: r.apiGroups ?? [],
      resources: r.resources ?? [],
      ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
    }));
  const nonResourceRules = rules
    .filter((r) => r.nonResourceURLs?.length)
    .map((r) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs ?? [] }));
  return {
    kind: "SelfSubjectRulesReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: { creationTimestamp: null },
    spec,
    status: { resourceRules, nonResourceRules, incomplete: false },
  };
}
