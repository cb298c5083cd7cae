import assert from "node:assert/strict";
import { test } from "node:test";
import { matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.ts";

test("label selectors parse as the API server does", () => {
  assert.deepEqual(parseLabelSelector("a=b,c!=d, e in (f, g),h notin (i),j,!k"), [
    { op: "=", key: "a", value: "b" },
    { op: "!=", key: "c", value: "d" },
    { op: "in", key: "e", values: ["f", "g"] },
    { op: "notin", key: "h", values: ["i"] },
    { op: "exists", key: "j" },
    { op: "!", key: "k" },
  ]);
  assert.deepEqual(parseLabelSelector("app.kubernetes.io/name==x"), [
    { op: "=", key: "app.kubernetes.io/name", value: "x" },
  ]);
  assert.throws(() => parseLabelSelector("a=b c"), /unable to parse requirement/);
  const labels = { tier: "web", env: "prod" };
  assert.equal(matchesLabels(parseLabelSelector("tier in (web,db),!canary"), labels), true);
  assert.equal(matchesLabels(parseLabelSelector("env notin (prod)"), labels), false);
  assert.equal(matchesLabels(parseLabelSelector("missing!=x"), labels), true);
  assert.equal(matchesLabels(parseLabelSelector(""), labels), true);
});

test("field selectors parse =, == and !=", () => {
  assert.deepEqual(parseFieldSelector("metadata.name=a,spec.nodeName!=n1,status.phase==Running"), [
    { field: "metadata.name", op: "=", value: "a" },
    { field: "spec.nodeName", op: "!=", value: "n1" },
    { field: "status.phase", op: "=", value: "Running" },
  ]);
  assert.throws(() => parseFieldSelector("nonsense"), /invalid selector/);
});
