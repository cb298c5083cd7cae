// Decoding of Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) for the few kinds whose
// typed clients send them to this server: Secret, ConfigMap, ServiceAccount, Namespace (Helm's release storage,
// `kubectl create configmap|secret|serviceaccount|namespace`), DeleteOptions and the access reviews of
// `kubectl auth can-i`. Field numbers are those of the k8s.io/api generated.proto files. Other kinds are
// refused with 415: the server cannot decode them without their schemas.
import { ApiError, badRequest } from "./errors.ts";

type Field = { no: number; wire: number; value: bigint | Buffer };

class Reader {
  #buf: Buffer;
  #pos = 0;
  constructor(buf: Buffer) {
    this.#buf = buf;
  }
  get done(): boolean {
    return this.#pos >= this.#buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.#pos >= this.#buf.length) throw badRequest("protobuf: truncated varint");
      const b = this.#buf[this.#pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw badRequest("protobuf: varint overflow");
    }
  }
  bytes(n: number): Buffer {
    if (this.#pos + n > this.#buf.length) throw badRequest("protobuf: truncated field");
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  field(): Field {
    const key = this.varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    switch (wire) {
      case 0:
        return { no, wire, value: this.varint() };
      case 1:
        return { no, wire, value: this.bytes(8) };
      case 2:
        return { no, wire, value: this.bytes(Number(this.varint())) };
      case 5:
        return { no, wire, value: this.bytes(4) };
      default:
        throw badRequest(`protobuf: unsupported wire type ${wire}`);
    }
  }
}

function fields(buf: Buffer): Field[] {
  const r = new Reader(buf);
  const out: Field[] = [];
  while (!r.done) out.push(r.field());
  return out;
}

const str = (f: Field) => (f.value as Buffer).toString("utf8");
const buf = (f: Field) => f.value as Buffer;

function mapEntry(f: Field): [string, Buffer] {
  let key = "";
  let value: Buffer = Buffer.alloc(0);
  for (const e of fields(buf(f))) {
    if (e.no === 1) key = str(e);
    else if (e.no === 2) value = buf(e);
  }
  return [key, value];
}

function time(b: Buffer): string {
  let seconds = 0n;
  for (const f of fields(b)) if (f.no === 1) seconds = f.value as bigint;
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

function ownerReference(b: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields(b)) {
    if (f.no === 1) o.kind = str(f);
    else if (f.no === 3) o.name = str(f);
    else if (f.no === 4) o.uid = str(f);
    else if (f.no === 5) o.apiVersion = str(f);
    else if (f.no === 6) o.controller = f.value !== 0n;
    else if (f.no === 7) o.blockOwnerDeletion = f.value !== 0n;
  }
  return o;
}

function objectMeta(b: Buffer): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const finalizers: string[] = [];
  const owners: Record<string, unknown>[] = [];
  const names = ["", "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion"];
  for (const f of fields(b)) {
    if (f.no >= 1 && f.no <= 6) {
      // proto2 sends unset strings as empty ones; JSON would omit them
      if (str(f) !== "") m[names[f.no] as string] = str(f);
    } else if (f.no === 7) {
      if (f.value !== 0n) m.generation = Number(f.value);
    } else if (f.no === 8) m.creationTimestamp = time(buf(f));
    else if (f.no === 9) m.deletionTimestamp = time(buf(f));
    else if (f.no === 10) m.deletionGracePeriodSeconds = Number(f.value);
    else if (f.no === 11) {
      const [k, v] = mapEntry(f);
      labels[k] = v.toString("utf8");
    } else if (f.no === 12) {
      const [k, v] = mapEntry(f);
      annotations[k] = v.toString("utf8");
    } else if (f.no === 13) owners.push(ownerReference(buf(f)));
    else if (f.no === 14) finalizers.push(str(f));
  }
  if (Object.keys(labels).length) m.labels = labels;
  if (Object.keys(annotations).length) m.annotations = annotations;
  if (finalizers.length) m.finalizers = finalizers;
  if (owners.length) m.ownerReferences = owners;
  return m;
}

function secret(b: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = { apiVersion: "v1", kind: "Secret", metadata: {} };
  const data: Record<string, string> = {};
  const stringData: Record<string, string> = {};
  for (const f of fields(b)) {
    if (f.no === 1) o.metadata = objectMeta(buf(f));
    else if (f.no === 2) {
      const [k, v] = mapEntry(f);
      data[k] = v.toString("base64");
    } else if (f.no === 3) {
      if (str(f) !== "") o.type = str(f);
    } else if (f.no === 4) {
      const [k, v] = mapEntry(f);
      stringData[k] = v.toString("utf8");
    } else if (f.no === 5) o.immutable = f.value !== 0n;
  }
  if (Object.keys(data).length) o.data = data;
  if (Object.keys(stringData).length) o.stringData = stringData;
  return o;
}

function configMap(b: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = { apiVersion: "v1", kind: "ConfigMap", metadata: {} };
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const f of fields(b)) {
    if (f.no === 1) o.metadata = objectMeta(buf(f));
    else if (f.no === 2) {
      const [k, v] = mapEntry(f);
      data[k] = v.toString("utf8");
    } else if (f.no === 3) {
      const [k, v] = mapEntry(f);
      binaryData[k] = v.toString("base64");
    } else if (f.no === 4) o.immutable = f.value !== 0n;
  }
  if (Object.keys(data).length) o.data = data;
  if (Object.keys(binaryData).length) o.binaryData = binaryData;
  return o;
}

function deleteOptions(b: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "meta.k8s.io/v1" };
  const dryRun: string[] = [];
  for (const f of fields(b)) {
    if (f.no === 1) o.gracePeriodSeconds = Number(f.value);
    else if (f.no === 2) {
      const pre: Record<string, string> = {};
      for (const p of fields(buf(f))) {
        if (p.no === 1) pre.uid = str(p);
        else if (p.no === 2) pre.resourceVersion = str(p);
      }
      o.preconditions = pre;
    } else if (f.no === 3) o.orphanDependents = f.value !== 0n;
    else if (f.no === 4) o.propagationPolicy = str(f);
    else if (f.no === 5) dryRun.push(str(f));
  }
  if (dryRun.length) o.dryRun = dryRun;
  return o;
}

function objectReference(b: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const names = ["", "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"];
  for (const f of fields(b)) if (f.no >= 1 && f.no <= 7 && str(f) !== "") o[names[f.no] as string] = str(f);
  return o;
}

function serviceAccount(b: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = { apiVersion: "v1", kind: "ServiceAccount", metadata: {} };
  const secrets: Record<string, unknown>[] = [];
  const pullSecrets: Record<string, unknown>[] = [];
  for (const f of fields(b)) {
    if (f.no === 1) o.metadata = objectMeta(buf(f));
    else if (f.no === 2) secrets.push(objectReference(buf(f)));
    else if (f.no === 3) pullSecrets.push(objectReference(buf(f)));
    else if (f.no === 4) o.automountServiceAccountToken = f.value !== 0n;
  }
  if (secrets.length) o.secrets = secrets;
  // LocalObjectReference has only `name`, field 1, which objectReference reads as `kind`
  if (pullSecrets.length) o.imagePullSecrets = pullSecrets.map((p) => ({ name: p.kind }));
  return o;
}

function namespace(b: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = { apiVersion: "v1", kind: "Namespace", metadata: {} };
  for (const f of fields(b)) if (f.no === 1) o.metadata = objectMeta(buf(f));
  return o;
}

function reviewSpec(b: Buffer): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  const groups: string[] = [];
  for (const f of fields(b)) {
    if (f.no === 1) {
      const a: Record<string, string> = {};
      const names = ["", "namespace", "verb", "group", "version", "resource", "subresource", "name"];
      for (const x of fields(buf(f)))
        if (x.no >= 1 && x.no <= 7 && str(x) !== "") a[names[x.no] as string] = str(x);
      spec.resourceAttributes = a;
    } else if (f.no === 2) {
      const a: Record<string, string> = {};
      for (const x of fields(buf(f))) {
        if (x.no === 1) a.path = str(x);
        else if (x.no === 2) a.verb = str(x);
      }
      spec.nonResourceAttributes = a;
    } else if (f.no === 3) spec.user = str(f);
    else if (f.no === 4) groups.push(str(f));
  }
  if (groups.length) spec.groups = groups;
  return spec;
}

function accessReview(kind: string): (b: Buffer) => Record<string, unknown> {
  return (b) => {
    const o: Record<string, unknown> = { apiVersion: "authorization.k8s.io/v1", kind, metadata: {} };
    for (const f of fields(b)) {
      if (f.no === 1) o.metadata = objectMeta(buf(f));
      else if (f.no === 2) o.spec = reviewSpec(buf(f));
    }
    return o;
  };
}

function rulesReview(b: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectRulesReview",
    metadata: {},
  };
  for (const f of fields(b)) {
    if (f.no === 1) o.metadata = objectMeta(buf(f));
    else if (f.no === 2) {
      const spec: Record<string, string> = {};
      for (const x of fields(buf(f))) if (x.no === 1) spec.namespace = str(x);
      o.spec = spec;
    }
  }
  return o;
}

const decoders: Record<string, (b: Buffer) => Record<string, unknown>> = {
  "authorization.k8s.io/v1/SelfSubjectRulesReview": rulesReview,
  "authorization.k8s.io/v1/SelfSubjectAccessReview": accessReview("SelfSubjectAccessReview"),
  "authorization.k8s.io/v1/SubjectAccessReview": accessReview("SubjectAccessReview"),
  "v1/ServiceAccount": serviceAccount,
  "v1/Namespace": namespace,
  "v1/Secret": secret,
  "v1/ConfigMap": configMap,
  "v1/DeleteOptions": deleteOptions,
  "meta.k8s.io/v1/DeleteOptions": deleteOptions,
};

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a protobuf-encoded object (the `k8s\0` envelope around runtime.Unknown) into its JSON form. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(magic))
    throw badRequest("protobuf: missing the k8s envelope");
  let apiVersion = "";
  let kind = "";
  let raw: Buffer = Buffer.alloc(0);
  for (const f of fields(body.subarray(4))) {
    if (f.no === 1) {
      for (const t of fields(buf(f))) {
        if (t.no === 1) apiVersion = str(t);
        else if (t.no === 2) kind = str(t);
      }
    } else if (f.no === 2) raw = buf(f);
  }
  const decoder = decoders[`${apiVersion}/${kind}`];
  if (!decoder)
    throw new ApiError(
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf only for v1 Secret, ConfigMap, ServiceAccount, Namespace, not ${apiVersion} ${kind})`,
    );
  return decoder(raw);
}
