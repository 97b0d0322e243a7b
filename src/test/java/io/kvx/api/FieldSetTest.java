package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FieldSetTest {

  private static FieldSet set(String fieldsV1) {
    return FieldSet.fromFieldsV1(new JsonObject(fieldsV1));
  }

  @Test
  void fieldsV1RoundTripsAndListsMembersLevelByLevel() {
    String text = """
        {"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},
         "f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{}}}}}}}""";
    FieldSet s = set(text);
    assertEquals(new JsonObject(text), s.toFieldsV1());
    assertEquals(List.of(".metadata.labels", ".metadata.labels.app", ".spec.replicas",
            ".spec.template.spec.containers[name=\"web\"]", ".spec.template.spec.containers[name=\"web\"].image"),
        s.paths().stream().map(FieldSet::toString).toList());
    assertTrue(s.has(List.of("f:spec", "f:replicas")));
    assertFalse(s.has(List.of("f:spec")));
    // The leaves are shared and read-only; a copy of the tree (what a writer changes) is the client's own.
    JsonObject copy = s.toFieldsV1().copy();
    copy.getJsonObject("f:spec").getJsonObject("f:replicas").put("x", 1);
    assertEquals(new JsonObject(text), s.toFieldsV1());
    assertEquals(1, copy.getJsonObject("f:spec").getJsonObject("f:replicas").getInteger("x"));
    assertTrue(s.toFieldsV1().getJsonObject("f:spec").getJsonObject("f:replicas").isEmpty());
  }

  @Test
  void pathsPrintAsKubernetesPrintsThem() {
    Map<List<String>, String> cases = Map.of(
        List.of("f:spec", "f:replicas"), ".spec.replicas",
        List.of("f:spec", "f:ports", FieldSet.key(Map.of("protocol", "TCP", "port", 80))),
        ".spec.ports[port=80,protocol=\"TCP\"]",
        List.of("f:metadata", "f:finalizers", FieldSet.value("a/b")), ".metadata.finalizers[=\"a/b\"]",
        List.of("f:spec", "f:list", FieldSet.index(3)), ".spec.list[3]",
        List.of("f:metadata", "f:labels", "f:app.kubernetes.io/name"), ".metadata.labels.app.kubernetes.io/name");
    cases.forEach((path, printed) -> assertEquals(printed, FieldSet.toString(path), printed));
    assertEquals("k:{\"port\":80,\"protocol\":\"TCP\"}", FieldSet.key(Map.of("protocol", "TCP", "port", 80)));
  }

  private record Algebra(String name, String a, String b, BinaryOperator<FieldSet> op, String expected) {}

  @Test
  void setAlgebra() {
    String ab = "{\"f:a\":{},\"f:b\":{\"f:c\":{}}}";
    List<Algebra> table = List.of(
        new Algebra("union", "{\"f:a\":{}}", "{\"f:b\":{\"f:c\":{}}}", FieldSet::union, ab),
        new Algebra("difference keeps children", "{\"f:b\":{\".\":{},\"f:c\":{}}}", "{\"f:b\":{}}",
            FieldSet::difference, "{\"f:b\":{\"f:c\":{}}}"),
        new Algebra("difference drops members", ab, "{\"f:a\":{}}", FieldSet::difference, "{\"f:b\":{\"f:c\":{}}}"),
        new Algebra("intersection", ab, "{\"f:b\":{\"f:c\":{}},\"f:z\":{}}", FieldSet::intersection,
            "{\"f:b\":{\"f:c\":{}}}"),
        new Algebra("recursive difference drops the subtree", ab, "{\"f:b\":{}}", FieldSet::recursiveDifference,
            "{\"f:a\":{}}"),
        new Algebra("recursive difference of a child only", ab, "{\"f:b\":{\"f:c\":{}}}",
            FieldSet::recursiveDifference, "{\"f:a\":{}}"),
        new Algebra("with ancestors", "{\"f:b\":{\"f:c\":{}}}", "{}", (x, y) -> x.withAncestors(),
            "{\"f:b\":{\".\":{},\"f:c\":{}}}"));
    for (Algebra t : table) {
      assertEquals(new JsonObject(t.expected()), t.op().apply(set(t.a()), set(t.b())).toFieldsV1(), t.name());
    }
    assertTrue(set("{\"f:a\":{}}").difference(set("{\"f:a\":{}}")).isEmpty());
  }

  @Test
  void badFieldsV1IsABadRequest() {
    for (String bad : List.of("{\"x:a\":{}}", "{\"f:a\":1}", "{\"i:z\":{}}")) {
      ApiError e = assertThrows(ApiError.class, () -> set(bad), bad);
      assertEquals(400, e.code());
    }
  }
}
