package io.kvx.api;

import io.vertx.core.json.JsonObject;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.type.LogicalType;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.List;
import java.util.Map;

/**
 * Conversions between Vert.x JSON (what the store and the bus carry) and fabric8's typed Kubernetes
 * model (what components reason about), on the Jackson 3 mapper fabric8 8 is built for.
 */
public final class Json {

  /**
   * Lenient about unknown fields (fieldValidation decides about those), strict about scalars as Go's decoder
   * is: a number or boolean where the API has a string (ConfigMap data, labels, env values) is refused,
   * not turned into text.
   */
  private static final JsonMapper MAPPER = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
      .addMixIn(io.fabric8.kubernetes.api.model.Quantity.class, CanonicalQuantity.Mixin.class)
      .build();

  /** Quantities written back in Kubernetes' canonical form ("0.5" as "500m"), as kube-apiserver stores them. */
  static final class CanonicalQuantity extends tools.jackson.databind.ValueSerializer<io.fabric8.kubernetes.api.model.Quantity> {
    @Override
    public void serialize(io.fabric8.kubernetes.api.model.Quantity q, tools.jackson.core.JsonGenerator g,
                          tools.jackson.databind.SerializationContext ctx) {
      if (q.getAmount() == null) {
        g.writeNull();
        return;
      }
      g.writeString(Quantities.canonical(q.getAmount() + (q.getFormat() == null ? "" : q.getFormat())));
    }

    @tools.jackson.databind.annotation.JsonSerialize(using = CanonicalQuantity.class)
    abstract static class Mixin {
    }
  }

  private static final YAMLMapper YAML = YAMLMapper.builder().build();

  private Json() {
  }

  /**
   * Decodes a body into fabric8's model of its kind and encodes it back, as kube-apiserver decodes
   * into its typed structs: what comes out has the kind's shape. A body that does not fit is a 400
   * naming the field. Kinds without a model pass through unchanged.
   */
  public static JsonObject normalize(ResourceType type, JsonObject obj) {
    if (!type.isCustom()) Times.normalize(type.kind(), obj);
    if (type.model() == null) return obj;
    try {
      // Through Jackson's token buffer, not text, when the tree holds only JSON values (JsonObject/JsonArray
      // unwrapped to their maps and lists); anything else (an Instant, bytes) goes through Vert.x's encoding.
      Object plain = plain(obj);
      Object typed = plain != null ? MAPPER.convertValue(plain, type.model()) : MAPPER.readValue(obj.encode(),
          type.model());
      // Back to maps through Jackson's token buffer: no text written and parsed again.
      @SuppressWarnings("unchecked")
      Map<String, Object> map = MAPPER.convertValue(typed, Map.class);
      return new JsonObject(map);
    } catch (JacksonException | IllegalArgumentException | ClassCastException e) {
      throw ApiError.badRequest(type.kind() + " in version \"" + type.version() + "\" cannot be handled as a "
          + type.kind() + ": " + describe(e));
    }
  }

  /**
   * The same tree as plain maps and lists (sharing the leaves), or null if it holds a value that is not JSON as
   * such. Unchanged maps and lists are returned as they are.
   */
  static Object plain(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Integer || v instanceof Long
        || v instanceof Double || v instanceof Float || v instanceof java.math.BigInteger
        || v instanceof java.math.BigDecimal || v instanceof Short || v instanceof Byte) {
      return v;
    }
    if (v instanceof JsonObject o) return plain(o.getMap());
    if (v instanceof io.vertx.core.json.JsonArray a) return plain(a.getList());
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = null;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String)) return null;
        Object p = plain(e.getValue());
        if (p == null && e.getValue() != null) return null;
        if (p != e.getValue() && out == null) out = new java.util.LinkedHashMap<>(m);
        if (out != null) out.put(e.getKey(), p);
      }
      return out != null ? out : m;
    }
    if (v instanceof java.util.List<?> l) {
      java.util.List<Object> out = null;
      for (int i = 0; i < l.size(); i++) {
        Object x = l.get(i);
        Object p = plain(x);
        if (p == null && x != null) return null;
        if (p != x && out == null) out = new java.util.ArrayList<>(l);
        if (out != null) out.set(i, p);
      }
      return out != null ? out : l;
    }
    return null;
  }

  /** Parses a YAML document (a request body) into JSON. */
  @SuppressWarnings("unchecked")
  public static JsonObject fromYaml(String yaml) {
    try {
      Object parsed = YAML.readValue(yaml, Object.class);
      if (!(parsed instanceof Map)) throw ApiError.badRequest("the YAML body is not an object");
      return new JsonObject((Map<String, Object>) parsed);
    } catch (JacksonException e) {
      throw ApiError.badRequest("error converting YAML to JSON: " + e.getOriginalMessage());
    }
  }

  public static String toYaml(JsonObject obj) {
    return YAML.writeValueAsString(obj.getMap());
  }

  private static String describe(Exception e) {
    JacksonException je = e instanceof JacksonException j ? j
        : e.getCause() instanceof JacksonException j ? j : null;
    if (je == null) return e.getMessage();
    StringBuilder path = new StringBuilder();
    for (JacksonException.Reference ref : je.getPath()) {
      if (ref.getPropertyName() != null) path.append(path.isEmpty() ? "" : ".").append(ref.getPropertyName());
      else if (ref.getIndex() >= 0) path.append('[').append(ref.getIndex()).append(']');
    }
    String what = je.getOriginalMessage();
    int cut = what.indexOf('\n');
    if (cut > 0) what = what.substring(0, cut);
    String unmarshal = unmarshalError(je, path.toString(), what);
    if (unmarshal != null) return unmarshal;
    return (path.isEmpty() ? "" : "field " + path + ": ") + what;
  }

  /**
   * A value of the wrong JSON type for a scalar field, in the words of Go's encoding/json that
   * kube-apiserver answers with: "json: cannot unmarshal string into Go struct field
   * DeploymentSpec.spec.replicas of type int32". Null when the error is of another kind.
   */
  static String unmarshalError(JacksonException je, String path, String message) {
    if (!(je instanceof tools.jackson.databind.exc.MismatchedInputException mi) || mi.getTargetType() == null) {
      return null;
    }
    String goType = GO_TYPES.get(mi.getTargetType());
    if (goType == null || path.isEmpty()) return null;
    String jsonType;
    tools.jackson.core.JsonToken token = mi.getCurrentToken();
    if (token == tools.jackson.core.JsonToken.VALUE_STRING) jsonType = "string";
    else if (token == tools.jackson.core.JsonToken.START_OBJECT) jsonType = "object";
    else if (token == tools.jackson.core.JsonToken.START_ARRAY) jsonType = "array";
    else if (token != null && token.isBoolean()) jsonType = "bool";
    else if (token != null && token.isNumeric()) jsonType = "number";
    else if (message.contains("from String")) jsonType = "string";
    else if (message.contains("from Object")) jsonType = "object";
    else if (message.contains("from Array")) jsonType = "array";
    else if (message.contains("from Boolean")) jsonType = "bool";
    else if (message.contains("from Integer") || message.contains("from Floating-point")) jsonType = "number";
    else return null;
    String struct = null;
    List<JacksonException.Reference> refs = je.getPath();
    for (int i = refs.size() - 1; i >= 0 && struct == null; i--) {
      Object from = refs.get(i).from();
      if (refs.get(i).getPropertyName() != null && from != null) {
        struct = (from instanceof Class<?> c ? c : from.getClass()).getSimpleName();
      }
    }
    if (struct == null) return null;
    return "json: cannot unmarshal " + jsonType + " into Go struct field " + struct + "." + path + " of type " + goType;
  }

  private static final Map<Class<?>, String> GO_TYPES = Map.of(Integer.class, "int32", int.class, "int32",
      Long.class, "int64", long.class, "int64", Boolean.class, "bool", boolean.class, "bool", String.class, "string",
      Double.class, "float64", double.class, "float64");
}
