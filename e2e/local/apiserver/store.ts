// The in-memory object store: one global resourceVersion counter (as etcd's revision), objects per resource,
// and a bounded history of changes that watches replay from.
import type { KubeObject } from "./types.ts";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: EventType;
  rv: number;
  /** Storage key (group/plural) of the object. */
  key: string;
  object: KubeObject;
  /** The object before a MODIFIED or DELETED change, to tell selector transitions. */
  previous?: KubeObject;
}

export type Listener = (event: StoreEvent) => void;

export class Store {
  #rv: number;
  #data = new Map<string, Map<string, KubeObject>>();
  #history: StoreEvent[] = [];
  #historySize: number;
  #listeners = new Set<Listener>();
  /** The resourceVersion before the oldest event still in the history. */
  #compacted: number;

  constructor(historySize: number, startRv = 100) {
    this.#historySize = historySize;
    this.#rv = startRv;
    this.#compacted = startRv;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** Events with rv > from are all available if from >= this. */
  get oldestResumable(): number {
    return this.#compacted;
  }

  #bucket(key: string): Map<string, KubeObject> {
    let b = this.#data.get(key);
    if (!b) {
      b = new Map();
      this.#data.set(key, b);
    }
    return b;
  }

  static id(namespace: string | undefined, name: string): string {
    return `${namespace ?? ""}/${name}`;
  }

  get(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.#data.get(key)?.get(Store.id(namespace, name));
    return obj ? structuredClone(obj) : undefined;
  }

  list(key: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of this.#data.get(key)?.values() ?? []) {
      if (namespace === undefined || obj.metadata.namespace === namespace) out.push(structuredClone(obj));
    }
    return out.sort((a, b) =>
      Store.id(a.metadata.namespace, a.metadata.name ?? "").localeCompare(
        Store.id(b.metadata.namespace, b.metadata.name ?? ""),
      ),
    );
  }

  /**
   * The stored object itself, without a copy: for readers that never change it (a stored object is never
   * changed in place; every write stores a new one).
   */
  peekOne(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#data.get(key)?.get(Store.id(namespace, name));
  }

  /** The stored objects themselves, without copies: for read-only scans (the controllers' sweep). */
  peek(key: string): Iterable<KubeObject> {
    return this.#data.get(key)?.values() ?? [];
  }

  keys(): string[] {
    return [...this.#data.keys()];
  }

  /**
   * Stores the object under a new resourceVersion and returns it. The store takes the object over: the
   * caller hands in an object nobody else holds, and neither it nor anyone later changes it in place (watch
   * events and readers of peekOne share it).
   */
  put(key: string, obj: KubeObject): KubeObject {
    const id = Store.id(obj.metadata.namespace, obj.metadata.name ?? "");
    const bucket = this.#bucket(key);
    const previous = bucket.get(id);
    this.#rv++;
    const stored = obj;
    stored.metadata.resourceVersion = String(this.#rv);
    bucket.set(id, stored);
    this.#record({
      type: previous ? "MODIFIED" : "ADDED",
      rv: this.#rv,
      key,
      object: stored,
      ...(previous ? { previous } : {}),
    });
    return stored;
  }

  /** Removes the object; the DELETED event carries it with a new resourceVersion. */
  remove(key: string, obj: KubeObject): KubeObject | undefined {
    const id = Store.id(obj.metadata.namespace, obj.metadata.name ?? "");
    const bucket = this.#data.get(key);
    const previous = bucket?.get(id);
    if (!bucket || !previous) return undefined;
    bucket.delete(id);
    this.#rv++;
    const gone = structuredClone(previous);
    gone.metadata.resourceVersion = String(this.#rv);
    this.#record({ type: "DELETED", rv: this.#rv, key, object: gone, previous });
    return structuredClone(gone);
  }

  #record(event: StoreEvent): void {
    this.#history.push(event);
    while (this.#history.length > this.#historySize) {
      const dropped = this.#history.shift();
      if (dropped) this.#compacted = dropped.rv;
    }
    for (const l of this.#listeners) l(event);
  }

  /** Events after `rv` (exclusive), or undefined if some of them have left the history window. */
  since(rv: number): StoreEvent[] | undefined {
    if (rv < this.#compacted) return undefined;
    return this.#history.filter((e) => e.rv > rv);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
