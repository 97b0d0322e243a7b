package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The Swagger 2.0 document in gnostic's protobuf encoding (openapi.v2.Document), the only form
 * client-go's {@code OpenAPISchema()} reads: kubectl falls back to it for client-side validation of
 * what the server cannot validate (a {@code kind: List} file). Encodes what clients read: paths with
 * their operations, parameters and extensions, and the definitions. Field numbers follow gnostic's
 * OpenAPIv2.proto. Pure.
 */
public final class SwaggerV2Proto {

  public static final String MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
  private static final Map<String, Integer> OPERATIONS = Map.of("get", 2, "put", 3, "post", 4, "delete", 5,
      "patch", 8);

  private SwaggerV2Proto() {
  }

  public static byte[] encode(JsonObject v2) {
    Writer doc = new Writer();
    doc.string(1, v2.getString("swagger"));
    JsonObject info = v2.getJsonObject("info", new JsonObject());
    doc.message(2, new Writer().string(1, info.getString("title")).string(2, info.getString("version")));
    Writer paths = new Writer();
    v2.getJsonObject("paths", new JsonObject()).forEach(e -> paths.message(2, new Writer().string(1, e.getKey())
        .message(2, pathItem((JsonObject) e.getValue()))));
    doc.message(8, paths);
    Writer defs = new Writer();
    v2.getJsonObject("definitions", new JsonObject()).forEach(e -> defs.message(1, named(e.getKey(),
        schema((JsonObject) e.getValue()))));
    doc.message(9, defs);
    return doc.bytes();
  }

  private static Writer pathItem(JsonObject item) {
    Writer w = new Writer();
    for (Map.Entry<String, Object> e : item) {
      Integer field = OPERATIONS.get(e.getKey());
      if (field != null) w.message(field, operation((JsonObject) e.getValue()));
    }
    for (Object p : item.getJsonArray("parameters", new JsonArray())) w.message(9, parameter((JsonObject) p));
    return w;
  }

  private static Writer operation(JsonObject op) {
    Writer w = new Writer().string(5, op.getString("operationId"));
    for (Object p : op.getJsonArray("produces", new JsonArray())) w.string(6, (String) p);
    for (Object c : op.getJsonArray("consumes", new JsonArray())) w.string(7, (String) c);
    for (Object p : op.getJsonArray("parameters", new JsonArray())) w.message(8, parameter((JsonObject) p));
    Writer responses = new Writer();
    op.getJsonObject("responses", new JsonObject()).forEach(e -> {
      JsonObject r = (JsonObject) e.getValue();
      Writer response = new Writer().string(1, r.getString("description", ""));
      if (r.getJsonObject("schema") != null) response.message(2, new Writer().message(1, schema(r.getJsonObject("schema"))));
      responses.message(1, new Writer().string(1, e.getKey()).message(2, new Writer().message(1, response)));
    });
    w.message(9, responses);
    for (Object s : op.getJsonArray("schemes", new JsonArray())) w.string(10, (String) s);
    extensions(op, 13, w);
    return w;
  }

  /** ParametersItem{parameter: Parameter{body_parameter | non_body_parameter{query | path}}}. */
  private static Writer parameter(JsonObject p) {
    Writer param;
    if ("body".equals(p.getString("in"))) {
      Writer body = new Writer().string(2, p.getString("name")).string(3, "body")
          .bool(4, p.getBoolean("required", false));
      if (p.getJsonObject("schema") != null) body.message(5, schema(p.getJsonObject("schema")));
      param = new Writer().message(1, body);
    } else {
      boolean path = "path".equals(p.getString("in"));
      Writer sub = new Writer().bool(1, p.getBoolean("required", false)).string(2, p.getString("in"))
          .string(4, p.getString("name")).string(path ? 5 : 6, p.getString("type"))
          .bool(path ? 19 : 20, p.getBoolean("uniqueItems", false));
      param = new Writer().message(2, new Writer().message(path ? 4 : 3, sub));
    }
    return new Writer().message(1, param);
  }

  static Writer schema(JsonObject s) {
    Writer w = new Writer();
    w.string(1, s.getString("$ref"));
    w.string(2, s.getString("format"));
    w.string(4, s.getString("description"));
    for (Object r : s.getJsonArray("required", new JsonArray())) w.string(19, String.valueOf(r));
    Object additional = s.getValue("additionalProperties");
    if (additional instanceof JsonObject a) w.message(21, new Writer().message(1, schema(a)));
    else if (additional instanceof Boolean b) w.message(21, new Writer().bool(2, b));
    Object type = s.getValue("type");
    if (type instanceof String t) w.message(22, new Writer().string(1, t));
    if (s.getValue("items") instanceof JsonObject items) w.message(23, new Writer().message(1, schema(items)));
    for (Object a : s.getJsonArray("allOf", new JsonArray())) w.message(24, schema((JsonObject) a));
    JsonObject props = s.getJsonObject("properties");
    if (props != null) {
      Writer p = new Writer();
      props.forEach(e -> p.message(1, named(e.getKey(), schema((JsonObject) e.getValue()))));
      w.message(25, p);
    }
    extensions(s, 31, w);
    return w;
  }

  private static Writer named(String name, Writer value) {
    return new Writer().string(1, name).message(2, value);
  }

  /** x-… keys as NamedAny{name, Any{yaml}}; JSON text is YAML, which is how clients decode them. */
  private static void extensions(JsonObject o, int field, Writer w) {
    for (Map.Entry<String, Object> e : o) {
      if (!e.getKey().startsWith("x-")) continue;
      Object v = e.getValue();
      String yaml = v instanceof JsonObject j ? j.encode() : v instanceof JsonArray a ? a.encode()
          : v instanceof String str ? new JsonArray().add(str).encode().replaceAll("^\\[|\\]$", "") : String.valueOf(v);
      w.message(field, new Writer().string(1, e.getKey()).message(2, new Writer().string(2, yaml)));
    }
  }

  /** Just enough of the protobuf wire format: varints, strings, bools and nested messages. */
  static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Writer string(int field, String value) {
      if (value == null || value.isEmpty()) return this;
      return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Writer bool(int field, boolean value) {
      if (!value) return this;
      varint((long) field << 3);
      varint(1);
      return this;
    }

    Writer message(int field, Writer message) {
      return bytes(field, message.bytes());
    }

    private Writer bytes(int field, byte[] data) {
      varint(((long) field << 3) | 2);
      varint(data.length);
      out.writeBytes(data);
      return this;
    }

    private void varint(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
