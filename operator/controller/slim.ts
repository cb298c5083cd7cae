// What the operator's caches keep of the objects it watches in the thousands: Nodes and reports. A real Node is
// 5 to 20 kB of JSON (its images, addresses, capacity, conditions), a report over half managedFields; the
// operator reads a Node's labels and taints and a report's counters and states. Applied to every listed object
// and watch event before it is cached (the informer's transform), as client-go's SetTransform is used.
import type { KubeObject, ObjectMeta } from "../../runtime/kube/kube-types.ts";

/** A Node reduced to name, uid, resourceVersion, labels and taints: where agents go, and Events about it. */
export function slimNode(node: KubeObject): KubeObject {
  const m = node.metadata;
  const metadata: ObjectMeta = { name: m.name };
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.labels !== undefined) metadata.labels = m.labels;
  const slim: KubeObject = { apiVersion: "v1", kind: "Node", metadata };
  const taints = (node.spec as { taints?: unknown } | undefined)?.taints;
  if (taints !== undefined) slim.spec = { taints };
  return slim;
}

/** A report without its managedFields and annotations: everything the operator sums, nothing it never reads. */
export function slimReport(report: KubeObject): KubeObject {
  const {
    managedFields: _managed,
    annotations: _annotations,
    ...metadata
  } = report.metadata as ObjectMeta & {
    managedFields?: unknown;
  };
  return { ...report, metadata };
}
