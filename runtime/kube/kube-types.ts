// The few shapes of Kubernetes objects and API calls the controller uses.

export type OwnerRef = { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean };

export type ObjectMeta = {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerRef[];
};

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
};

/** A list, or one page of it: `continue` is set when more pages follow (asked for with `limit`). */
export type ListResult = { items: KubeObject[]; resourceVersion: string; continue?: string };

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
export type WatchEvent = { type: WatchEventType; object: KubeObject };

export type Query = Record<string, string | number | boolean | undefined>;

/** merge: application/merge-patch+json; apply: server-side apply (application/apply-patch+yaml). */
export type PatchType = "merge" | "apply";

/** The API calls the controller makes, by path (see resources.ts). */
export type KubeClient = {
  /** The object at `path`, or undefined when it does not exist. */
  get(path: string): Promise<KubeObject | undefined>;
  list(path: string, query?: Query): Promise<ListResult>;
  /**
   * Streams watch events to `onEvent` until the server ends the stream (resolves) or it breaks (rejects).
   * `signal` ends it early (resolves). `onOpen` is called once the server has accepted the watch.
   */
  watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void>;
  create(path: string, body: unknown): Promise<KubeObject>;
  /** PUT: replaces the object; a metadata.resourceVersion in `body` is a precondition (409 when stale). */
  replace(path: string, body: unknown): Promise<KubeObject>;
  patch(path: string, body: unknown, type: PatchType, query?: Query): Promise<KubeObject>;
  /** DELETE with `options` as the DeleteOptions body (propagation, preconditions); a 404 is not an error. */
  delete(path: string, options?: DeleteOptions): Promise<void>;
};

/** meta/v1 DeleteOptions, the fields the controller sets. */
export type DeleteOptions = {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
};

export function objectKey(meta: Pick<ObjectMeta, "name" | "namespace">): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}
