// Reads an XdpCounter as the API server returns it, without letting one bad node entry block the rest:
// the CRD cannot check everything zod does (a u64 between 2^64 and 10^20 passes its pattern), and one
// agent's bad write must not stop the operator from reconciling every other node.
import { ApiError, ApiErrorCode } from "./errors.ts";
import { nodeStatus } from "./status.ts";
import { type XdpCounter, xdpCounter } from "./xdpcounter.ts";

export type InvalidNodeEntry = { node: string; message: string };
export type ReadXdpCounter = { object: XdpCounter; invalidNodes: InvalidNodeEntry[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function readXdpCounter(raw: unknown): ReadXdpCounter {
  const invalidNodes: InvalidNodeEntry[] = [];
  let input = raw;
  if (isRecord(raw) && isRecord(raw.status) && isRecord(raw.status.nodes)) {
    const nodes: Record<string, unknown> = {};
    for (const [node, entry] of Object.entries(raw.status.nodes)) {
      const result = nodeStatus.safeParse(entry);
      if (result.success) nodes[node] = entry;
      else {
        const why = result.error.issues
          .map((i) => `${i.path.join(".") || "(entry)"}: ${i.message}`)
          .join("; ");
        invalidNodes.push({ node, message: why });
      }
    }
    input = { ...raw, status: { ...raw.status, nodes } };
  }
  const result = xdpCounter.safeParse(input);
  if (!result.success) {
    const name = isRecord(raw) && isRecord(raw.metadata) ? String(raw.metadata.name) : "(unnamed)";
    const why = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ApiError(ApiErrorCode.InvalidXdpCounter, `XdpCounter ${name} is invalid: ${why}`, {
      cause: result.error,
    });
  }
  return { object: result.data, invalidNodes };
}
