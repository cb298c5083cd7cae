import assert from "node:assert/strict";
import { test } from "node:test";
import { applyDefaults, prune, validate } from "./schema.ts";
import type { Schema } from "./types.ts";

const schema: Schema = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      properties: {
        ports: {
          type: "array",
          items: {
            type: "object",
            properties: { port: { type: "integer" }, protocol: { type: "string", default: "TCP" } },
          },
        },
        byNode: {
          type: "object",
          additionalProperties: { type: "object", properties: { weight: { type: "integer", default: 1 } } },
        },
        template: {
          type: "object",
          "x-kubernetes-embedded-resource": true,
          properties: { spec: { type: "object", properties: { image: { type: "string" } } } },
        },
        size: { type: "integer", format: "int32" },
      },
    },
  },
};

test("pruning keeps declared fields, embedded resources' apiVersion/kind/metadata, and reports the rest", () => {
  const obj = {
    apiVersion: "x/v1",
    kind: "X",
    metadata: { name: "x" },
    spec: {
      ports: [{ port: 80, extra: true }],
      template: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { image: "i", junk: 1 } },
      unknown: {},
    },
  };
  const removed = prune(obj, schema);
  assert.deepEqual(removed.sort(), ["spec.ports[0].extra", "spec.template.spec.junk", "spec.unknown"]);
  assert.deepEqual(obj.spec.template, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: { image: "i" },
  });
});

test("defaults reach list items and map values", () => {
  const obj = {
    spec: { ports: [{ port: 80 }, { port: 53, protocol: "UDP" }], byNode: { a: {}, b: { weight: 5 } } },
  };
  applyDefaults(obj, schema);
  assert.deepEqual(obj.spec.ports, [
    { port: 80, protocol: "TCP" },
    { port: 53, protocol: "UDP" },
  ]);
  assert.deepEqual(obj.spec.byNode, { a: { weight: 1 }, b: { weight: 5 } });
});

test("int32 range and types of map values are validated", () => {
  const causes = validate({ spec: { size: 2 ** 31, byNode: { a: { weight: "heavy" } } } }, schema);
  assert.deepEqual(
    causes.map((c) => `${c.field} ${c.reason}`).sort(),
    ["spec.byNode.a.weight FieldValueTypeInvalid", "spec.size FieldValueInvalid"].sort(),
  );
});
