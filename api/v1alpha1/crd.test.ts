import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { z } from "zod";
import { buildCrd, buildReportCrd, openApiSchema, reportOpenApiSchema } from "./crd.ts";
import { CRD_PATH, REPORT_CRD_PATH, renderCrdYaml, renderReportCrdYaml } from "./crd-yaml.ts";
import { DURATION_PATTERN } from "./duration.ts";
import { BACKWARD_RANGE_CEL, GLOB_SETS_PATTERN } from "./interface-name.ts";
import { LABEL_KEYS_CEL, LABEL_VALUE_PATTERN, OPTIONAL_LABEL_KEY_PATTERN } from "./label.ts";
import { MAX_NODE_SELECTOR_LABELS } from "./spec.ts";
import { type JsonSchema, structuralSchema } from "./structural-schema.ts";
import { U64_MAX_CEL } from "./u64.ts";
import { xdpCounter } from "./xdpcounter.ts";

type Visit = (node: JsonSchema, path: string) => void;
function walk(node: JsonSchema, path: string, visit: Visit): void {
  visit(node, path);
  const props = node.properties as Record<string, JsonSchema> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) walk(child, `${path}.${name}`, visit);
  if (node.items) walk(node.items as JsonSchema, `${path}[]`, visit);
  if (typeof node.additionalProperties === "object")
    walk(node.additionalProperties as JsonSchema, `${path}{}`, visit);
}

function at(schema: JsonSchema, ...path: string[]): JsonSchema {
  let node = schema;
  for (const name of path) {
    if (name === "[]") node = node.items as JsonSchema;
    else if (name === "{}") node = node.additionalProperties as JsonSchema;
    else node = (node.properties as Record<string, JsonSchema>)[name] as JsonSchema;
    assert.ok(node, `no schema at ${path.join(".")}`);
  }
  return node;
}

describe("CRD", () => {
  it("the committed files are what the schema generates", () => {
    for (const [path, text] of [
      [CRD_PATH, renderCrdYaml()],
      [REPORT_CRD_PATH, renderReportCrdYaml()],
    ] as const) {
      assert.ok(
        readFileSync(path, "utf8") === text,
        `${path} differs from the zod schema in api/v1alpha1: run \`npm run generate:crd\` and commit the result`,
      );
    }
  });

  it("is a structural schema: every node typed, no $ref or anyOf, maps as additionalProperties", () => {
    walk(
      { type: "object", properties: { a: openApiSchema(), b: reportOpenApiSchema() } },
      "",
      (node, path) => {
        assert.equal(typeof node.type, "string", `${path} has no type`);
        for (const key of ["$ref", "anyOf", "oneOf", "allOf", "$schema", "propertyNames", "const"]) {
          assert.equal(key in node, false, `${path} has ${key}`);
        }
        assert.notEqual(node.additionalProperties, false, `${path} has additionalProperties: false`);
        assert.ok(
          !(node.properties && node.additionalProperties),
          `${path} has both properties and additionalProperties`,
        );
      },
    );
  });

  it("describes every field, for kubectl explain", () => {
    walk(openApiSchema(), "", (node, path) => {
      if (path === ".metadata") return;
      assert.equal(typeof node.description, "string", `${path} has no description`);
    });
  });

  it("refuses what a structural schema cannot hold", () => {
    assert.throws(
      () => structuralSchema(z.union([z.object({ a: z.string() }), z.string()])),
      /anyOf is not allowed/,
    );
    assert.throws(() => structuralSchema(z.object({ a: z.unknown() })), /\.a: every node needs a type/);
  });

  it("has the names, scope, status subresource and printer columns", () => {
    const crd = buildCrd();
    assert.equal(crd.metadata.name, "xdpcounters.xdpcounter.dev");
    assert.equal(crd.spec.scope, "Cluster");
    assert.deepEqual(crd.spec.names.shortNames, ["xdpc"]);
    const version = crd.spec.versions[0];
    assert.ok(version);
    assert.deepEqual(version.subresources, { status: {} });
    const columns = version.additionalPrinterColumns.map((c) => [
      c.name,
      c.jsonPath,
      "priority" in c ? c.priority : 0,
    ]);
    assert.deepEqual(columns, [
      ["Ready", ".status.readyNodes", 0],
      ["Desired", ".status.desiredNodes", 0],
      ["Packets/s", ".status.rates.totalPacketsPerSecond", 0],
      ["Pass", ".status.totals.packets.pass", 0],
      ["Drop", ".status.totals.packets.drop", 0],
      ["Pass-Bytes", ".status.totals.bytes.pass", 1],
      ["Drop-Bytes", ".status.totals.bytes.drop", 1],
      ["Interfaces", ".status.interfaces", 1],
      ["Age", ".metadata.creationTimestamp", 0],
    ]);
  });

  it("carries defaults, bounds and the reportInterval rules", () => {
    const schema = openApiSchema();
    assert.deepEqual(at(schema, "spec").default, {});
    assert.equal(at(schema, "spec", "action").default, "pass");
    assert.equal(at(schema, "spec", "attachMode").default, "auto");
    assert.equal(at(schema, "spec", "reportInterval").default, "1m");
    assert.equal(at(schema, "spec", "reportInterval").pattern, DURATION_PATTERN);
    const rules = at(schema, "spec", "reportInterval")["x-kubernetes-validations"] as { rule: string }[];
    assert.match(
      rules[0]?.rule ?? "",
      /duration\(self\) >= duration\('1s'\) && duration\(self\) <= duration\('1h'\)/,
    );
    assert.equal(at(schema, "status", "totals", "packets", "pass").pattern, "^(0|[1-9][0-9]{0,19})$");
    assert.equal(at(schema, "status", "rates", "totalPacketsPerSecond").type, "number");
    const statusProps = at(schema, "status").properties as Record<string, unknown>;
    assert.equal(statusProps.nodes, undefined, "no per-node entries: reports hold them");
    assert.equal(at(schema, "spec", "nodeSelector", "{}").type, "string");
  });

  it("requires all five actions in the totals", () => {
    const schema = openApiSchema();
    for (const what of ["packets", "bytes"]) {
      assert.deepEqual(at(schema, "status", "totals", what).required, [
        "aborted",
        "drop",
        "pass",
        "tx",
        "redirect",
      ]);
    }
  });

  it("limits an XdpCounter's name to 63 characters, in CEL, since it labels its reports", () => {
    const rules = openApiSchema()["x-kubernetes-validations"] as { rule: string; message: string }[];
    assert.deepEqual(
      rules.map((r) => r.rule),
      ["self.metadata.name.size() <= 63"],
    );
  });

  it("XdpCounterReport: cluster-scoped, no subresource, per-node columns, selectable by node and XdpCounter", () => {
    const crd = buildReportCrd();
    assert.equal(crd.metadata.name, "xdpcounterreports.xdpcounter.dev");
    assert.equal(crd.spec.scope, "Cluster");
    assert.deepEqual(crd.spec.names.shortNames, ["xdpcr"]);
    const version = crd.spec.versions[0];
    assert.ok(version);
    assert.equal("subresources" in version, false, "the agent writes the whole object");
    assert.deepEqual(version.selectableFields, [{ jsonPath: ".nodeName" }, { jsonPath: ".xdpCounter.name" }]);
    assert.deepEqual(
      version.additionalPrinterColumns.map((c) => c.name),
      ["XdpCounter", "Node", "Phase", "Pass/s", "Drop/s", "Pass", "Drop", "Reported", "Age"],
    );
    const schema = reportOpenApiSchema();
    const entry = at(schema, "packets");
    assert.equal(entry.required, undefined, "an action that counted 0 is left out");
    assert.match(entry.description as string, /An action that is absent counted 0/);
    assert.equal(at(schema, "interfaces", "[]", "packets").required, undefined);
    assert.equal(at(schema, "reportedAt").format, "date-time");
    assert.deepEqual([...((schema.required as string[]) ?? [])].sort(), [
      "bytes",
      "generation",
      "nodeName",
      "packets",
      "phase",
      "reportedAt",
      "xdpCounter",
    ]);
  });

  it("lists conditions as a map keyed by type", () => {
    const conditions = at(openApiSchema(), "status", "conditions");
    assert.equal(conditions["x-kubernetes-list-type"], "map");
    assert.deepEqual(conditions["x-kubernetes-list-map-keys"], ["type"]);
    assert.ok((at(conditions, "[]").required as string[]).includes("type"));
  });

  it("carries, beside each pattern, the CEL rules that refuse what zod refuses beyond it", () => {
    const schema = openApiSchema();
    const rules = (node: JsonSchema) =>
      ((node["x-kubernetes-validations"] as { rule: string }[] | undefined) ?? []).map((r) => r.rule);
    const entry = at(schema, "spec", "interfaces", "[]");
    assert.equal(entry.maxLength, 15, "the API server estimates the rules' cost from it");
    assert.deepEqual(rules(entry), [
      "self != '.' && self != '..'",
      `self.matches('${GLOB_SETS_PATTERN.replaceAll("\\", "\\\\")}')`,
      BACKWARD_RANGE_CEL,
    ]);
    const selector = at(schema, "spec", "nodeSelector");
    assert.deepEqual(rules(selector), [LABEL_KEYS_CEL]);
    assert.equal(selector.maxProperties, MAX_NODE_SELECTOR_LABELS);
    assert.equal(at(selector, "{}").pattern, LABEL_VALUE_PATTERN);
    const toleration = at(schema, "spec", "tolerations", "[]");
    // JavaScript writes a / of a RegExp's source as \/, which RE2 reads as /
    assert.equal(at(toleration, "key").pattern, OPTIONAL_LABEL_KEY_PATTERN.replaceAll("/", "\\/"));
    assert.deepEqual(rules(at(toleration, "key")), ["!self.matches('^[^/]{254,}/')"]);
    assert.equal(at(toleration, "value").pattern, LABEL_VALUE_PATTERN);
    for (const u64 of [
      at(schema, "status", "totals", "packets", "pass"),
      at(reportOpenApiSchema(), "packets", "drop"),
      at(reportOpenApiSchema(), "interfaces", "[]", "bytes", "tx"),
    ]) {
      assert.deepEqual(rules(u64), [U64_MAX_CEL]);
      assert.equal(u64.maxLength, 20);
    }
  });

  it("the CRD patterns accept and refuse what the zod schema does", () => {
    const pattern = new RegExp(at(openApiSchema(), "spec", "interfaces", "[]").pattern as string);
    for (const name of ["eth0", "eth*", "ens[0-9]*", "a23456789012345"]) assert.ok(pattern.test(name), name);
    for (const name of ["eth/0", "eth 0", "a234567890123456", ""]) assert.ok(!pattern.test(name), name);
  });

  it("the example parses with the schema", () => {
    const text = readFileSync(join(import.meta.dirname, "..", "..", "examples", "xdpcounter.yaml"), "utf8");
    const parsed = xdpCounter.parse(parse(text));
    assert.deepEqual(parsed.spec.interfaces, ["eth*", "ens[0-9]*"]);
  });
});
