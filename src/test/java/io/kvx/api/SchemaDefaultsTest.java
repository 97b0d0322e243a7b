package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SchemaDefaultsTest {

  private static final JsonObject SCHEMA = new JsonObject("""
      {"type":"object","properties":{
        "metadata":{"type":"object","default":{"name":"never"}},
        "spec":{"type":"object","default":{},"properties":{
          "count":{"type":"integer","default":1},
          "mode":{"type":"string","default":"fast"},
          "opt":{"type":"string","nullable":true,"default":"x"},
          "ports":{"type":"array","items":{"type":"object","properties":{"protocol":{"type":"string","default":"TCP"}}}},
          "limits":{"type":"object","additionalProperties":{"type":"object","properties":{"unit":{"type":"string","default":"Mi"}}}}}}}}
      """);

  @Test
  void defaultsFillAbsentFieldsAtEveryDepth() {
    JsonObject obj = new JsonObject("""
        {"metadata":{"name":"g"},"spec":{"mode":"slow","opt":null,"ports":[{"port":80},{"protocol":"UDP"}],
         "limits":{"mem":{"value":3}}}}
        """);
    Defaults.schemaDefaults(SCHEMA, obj, true);
    assertEquals(new JsonObject("""
        {"metadata":{"name":"g"},"spec":{"mode":"slow","opt":null,"ports":[{"port":80,"protocol":"TCP"},{"protocol":"UDP"}],
         "limits":{"mem":{"value":3,"unit":"Mi"}},"count":1}}
        """), obj);
  }

  @Test
  void anAbsentObjectWithADefaultIsDefaultedInsideToo() {
    JsonObject obj = new JsonObject("{\"metadata\":{\"name\":\"g\"}}");
    Defaults.schemaDefaults(SCHEMA, obj, true);
    assertEquals(new JsonObject("{\"count\":1,\"mode\":\"fast\",\"opt\":\"x\"}"), obj.getJsonObject("spec"));
  }
}
