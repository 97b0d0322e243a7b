package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SchemaValidatorTest {

  @Test
  void setsAndMapsTakeEachItemOnce() {
    JsonObject schema = new JsonObject("""
        {"type": "object", "properties": {
          "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
          "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}}}}""");
    List<ApiError.Cause> causes = new ArrayList<>();
    SchemaValidator.validate(schema, new JsonObject("""
        {"tags": ["a", "b", "a"], "ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}, {"name": "a", "port": 3}]}"""),
        "spec", causes);
    assertEquals(List.of("spec.tags[2] Duplicate value: \"a\"",
        "spec.ports[2] Duplicate value: map[string]interface {}{\"name\":\"a\"}"),
        causes.stream().map(c -> c.field() + " " + c.message()).toList());
  }
}
