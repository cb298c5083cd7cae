// The permissions the agent needs, exactly (the chart grants these; a test compares them): read its Node and
// the agents' ConfigMap, and write reports. Which report it may write is narrowed further by the chart's
// ValidatingAdmissionPolicy: only its own node's (docs/adr/0023).
import { GROUP, REPORT_PLURAL } from "../../api/v1alpha1/index.ts";

/** Cluster-wide (a ClusterRole): its Node, watched by name; its reports, by name. */
export const AGENT_RBAC_RULES = [
  { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
  { apiGroups: [GROUP], resources: [REPORT_PLURAL], verbs: ["get", "create", "patch", "delete"] },
] as const;

/** In the release namespace (a Role): the agents' ConfigMap only, by name. */
export function agentNamespaceRules(specsName: string) {
  return [
    {
      apiGroups: [""],
      resources: ["configmaps"],
      resourceNames: [specsName],
      verbs: ["get", "list", "watch"],
    },
  ] as const;
}

/** The token claim, in the request's user info, of the node a ServiceAccount token's pod runs on. */
export const NODE_NAME_CLAIM = "authentication.kubernetes.io/node-name";

/**
 * The ValidatingAdmissionPolicy and its binding that let the agents' ServiceAccount write only its own node's
 * reports (docs/adr/0023): the report's nodeName (the old object's, for a delete) must be the node of the pod
 * its token is bound to. Refused with reason Forbidden (HTTP 403), naming both nodes.
 */
export function agentReportPolicy(opts: {
  name: string;
  serviceAccount: { namespace: string; name: string };
}) {
  const username = `system:serviceaccount:${opts.serviceAccount.namespace}:${opts.serviceAccount.name}`;
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: opts.name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [GROUP],
            apiVersions: ["*"],
            operations: ["CREATE", "UPDATE", "DELETE"],
            resources: [REPORT_PLURAL],
          },
        ],
      },
      matchConditions: [
        { name: "agent", expression: `request.userInfo.username == ${JSON.stringify(username)}` },
      ],
      variables: [
        {
          name: "tokenNode",
          expression: `${JSON.stringify(NODE_NAME_CLAIM)} in request.userInfo.extra ? request.userInfo.extra[${JSON.stringify(NODE_NAME_CLAIM)}][0] : ""`,
        },
        {
          name: "reportNode",
          expression: `request.operation == "DELETE" ? oldObject.nodeName : object.nodeName`,
        },
      ],
      validations: [
        {
          expression: `variables.tokenNode != "" && variables.reportNode == variables.tokenNode`,
          messageExpression: `variables.tokenNode == "" ? "an agent writes reports only with its pod's token, which names its node" : "the agent on node " + variables.tokenNode + " may not write the report of node " + variables.reportNode`,
          reason: "Forbidden",
        },
      ],
    },
  } as const;
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: opts.name },
    spec: { policyName: opts.name, validationActions: ["Deny"] },
  } as const;
  return { policy, binding };
}
