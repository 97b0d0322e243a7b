package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites OpenAPI 3 path items and schemas as Swagger 2.0 (for /openapi/v2): refs point into
 * {@code definitions}, bodies become {@code in: body} parameters with {@code consumes}, replies carry
 * {@code produces}, and the v3-only shapes of Quantity and IntOrString become formatted strings.
 */
final class SwaggerV2 {

  private static final String V3_REF = ModelSchemas.REF_PREFIX;
  private static final String V2_REF = "#/definitions/";

  private SwaggerV2() {
  }

  static JsonObject pathItem(JsonObject v3) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, Object> e : v3) {
      if (e.getKey().equals("parameters")) out.put("parameters", parameters((JsonArray) e.getValue()));
      else out.put(e.getKey(), operation((JsonObject) e.getValue()));
    }
    return out;
  }

  private static JsonObject operation(JsonObject v3) {
    JsonObject out = new JsonObject();
    JsonArray params = parameters(v3.getJsonArray("parameters", new JsonArray()));
    JsonObject request = v3.getJsonObject("requestBody");
    if (request != null) {
      JsonObject content = request.getJsonObject("content");
      out.put("consumes", new JsonArray(content.fieldNames().stream().toList()));
      JsonObject first = content.getJsonObject(content.fieldNames().iterator().next());
      params.add(0, new JsonObject().put("name", "body").put("in", "body").put("required", true)
          .put("schema", schema(first.getJsonObject("schema"))));
    }
    Set<String> produces = new LinkedHashSet<>();
    JsonObject responses = new JsonObject();
    v3.getJsonObject("responses", new JsonObject()).forEach(r -> {
      JsonObject reply = (JsonObject) r.getValue();
      JsonObject v2 = new JsonObject().put("description", reply.getString("description", ""));
      JsonObject content = reply.getJsonObject("content");
      if (content != null && !content.isEmpty()) {
        produces.addAll(content.fieldNames());
        v2.put("schema", schema(content.getJsonObject(content.fieldNames().iterator().next()).getJsonObject("schema")));
      }
      responses.put(r.getKey(), v2);
    });
    out.put("operationId", v3.getString("operationId"));
    if (!produces.isEmpty()) out.put("produces", new JsonArray(produces.stream().toList()));
    out.put("schemes", new JsonArray().add("https"));
    if (!params.isEmpty()) out.put("parameters", params);
    out.put("responses", responses);
    v3.forEach(e -> {
      if (e.getKey().startsWith("x-")) out.put(e.getKey(), e.getValue());
    });
    return out;
  }

  private static JsonArray parameters(JsonArray v3) {
    JsonArray out = new JsonArray();
    for (Object o : v3) {
      JsonObject p = ((JsonObject) o).copy();
      JsonObject schema = (JsonObject) p.remove("schema");
      if (schema != null) {
        p.put("type", schema.getString("type"));
        if (schema.containsKey("uniqueItems")) p.put("uniqueItems", schema.getBoolean("uniqueItems"));
      }
      out.add(p);
    }
    return out;
  }

  /** A schema with v2 refs; Quantity and IntOrString as Kubernetes' v2 document writes them. */
  static JsonObject schema(JsonObject v3) {
    if (v3 == null) return null;
    if (v3.containsKey("oneOf") && v3.containsKey("format")) {
      return new JsonObject().put("type", "string").put("format", v3.getString("format"));
    }
    String text = v3.encode().replace("\"" + V3_REF, "\"" + V2_REF);
    JsonObject out = new JsonObject(text);
    out.remove("nullable");
    return unwrapAllOf(out);
  }

  /** Swagger 2's shape of a reference with extensions beside it: {$ref, x-...}, not v3's allOf wrapper. */
  private static JsonObject unwrapAllOf(JsonObject schema) {
    for (String key : new java.util.ArrayList<>(schema.fieldNames())) {
      Object value = schema.getValue(key);
      if (value instanceof JsonObject o) {
        schema.put(key, unwrapAllOf(o));
      } else if (value instanceof JsonArray a) {
        for (int i = 0; i < a.size(); i++) {
          if (a.getValue(i) instanceof JsonObject o) a.set(i, unwrapAllOf(o));
        }
      }
    }
    if (schema.getValue("allOf") instanceof JsonArray all && all.size() == 1 && all.getValue(0) instanceof JsonObject only
        && only.size() == 1 && only.containsKey("$ref")) {
      schema.remove("allOf");
      schema.put("$ref", only.getString("$ref"));
    }
    return schema;
  }
}
