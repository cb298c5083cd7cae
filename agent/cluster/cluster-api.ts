// The three API calls the agent makes (its RBAC: get/list xdpcounters, patch xdpcounters/status, get nodes):
// write its node's entry by JSON merge patch (docs/adr/0001), ask whether an XdpCounter exists, and read its
// Node's addresses.
import { GROUP, type NodeEntryPatch, PLURAL, VERSION } from "../../api/v1alpha1/index.ts";
import { AgentError, AgentErrorCode } from "./errors.ts";
import type { KubeClient, KubeResponse } from "./kube-client.ts";

export const AGENT_FIELD_MANAGER = "xdp-counter-agent";

/** The ClusterRole rules the agent needs, exactly (for the chart and the operator's RBAC). */
export const AGENT_RBAC_RULES = [
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ["get", "list"] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ["patch"] },
  { apiGroups: [""], resources: ["nodes"], verbs: ["get"] },
] as const;
export const MERGE_PATCH = "application/merge-patch+json";

/** What the agent needs from the API server; KubeClient-backed in production, anything in tests. */
export interface ClusterApi {
  /** "gone" when the XdpCounter does not exist (404). */
  patchNodeEntry(xdpCounter: string, patch: NodeEntryPatch): Promise<"written" | "gone">;
  xdpCounterExists(name: string): Promise<boolean>;
  /** The Node's InternalIP addresses; [] when the Node has none or does not exist. */
  nodeInternalIps(node: string): Promise<string[]>;
  /** The Node's labels; undefined when the Node does not exist. */
  nodeLabels(node: string): Promise<Record<string, string> | undefined>;
}

export const xdpCounterPath = (name: string): string =>
  `/apis/${GROUP}/${VERSION}/${PLURAL}/${encodeURIComponent(name)}`;

function failed(what: string, res: KubeResponse): AgentError {
  const body = res.body as { message?: string } | string | undefined;
  const message = typeof body === "object" && body?.message ? body.message : String(body ?? "");
  return new AgentError(AgentErrorCode.ApiRequestFailed, `${what}: HTTP ${res.status}: ${message}`.trim(), {
    status: res.status,
  });
}

export function kubeClusterApi(client: KubeClient): ClusterApi {
  return {
    async patchNodeEntry(xdpCounter, patch) {
      const path = `${xdpCounterPath(xdpCounter)}/status?fieldManager=${AGENT_FIELD_MANAGER}`;
      const res = await client.request("PATCH", path, { body: patch, contentType: MERGE_PATCH });
      if (res.status === 200 || res.status === 201) return "written";
      if (res.status === 404) return "gone";
      throw failed(`patch status of XdpCounter ${xdpCounter}`, res);
    },
    async xdpCounterExists(name) {
      const res = await client.request("GET", xdpCounterPath(name));
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw failed(`get XdpCounter ${name}`, res);
    },
    async nodeLabels(node) {
      const res = await client.request("GET", `/api/v1/nodes/${encodeURIComponent(node)}`);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw failed(`get Node ${node}`, res);
      return (res.body as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};
    },
    async nodeInternalIps(node) {
      const res = await client.request("GET", `/api/v1/nodes/${encodeURIComponent(node)}`);
      if (res.status === 404) return [];
      if (res.status !== 200) throw failed(`get Node ${node}`, res);
      const addresses = (res.body as { status?: { addresses?: { type?: string; address?: string }[] } })
        .status?.addresses;
      return (addresses ?? [])
        .filter((a) => a.type === "InternalIP" && typeof a.address === "string")
        .map((a) => a.address as string);
    },
  };
}
