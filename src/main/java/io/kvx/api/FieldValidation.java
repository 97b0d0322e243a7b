package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Server-side field validation ({@code ?fieldValidation=Strict|Warn|Ignore}): fields a body carries
 * that its kind's schema does not declare are an error (Strict), or are dropped with a warning (Warn)
 * or silently (Ignore), as kube-apiserver's decoder does. Built-in kinds are checked against the
 * schemas of their fabric8 model, custom kinds against their CRD's openAPIV3Schema. Objects without
 * declared properties (maps, free-form fields, x-kubernetes-preserve-unknown-fields) accept anything.
 * Pure.
 */
public final class FieldValidation {

  public enum Mode { Ignore, Warn, Strict }

  private static final Set<String> ROOT_FIELDS = Set.of("apiVersion", "kind", "metadata");
  private static final Map<Class<?>, Map<String, JsonObject>> CLOSURES = new java.util.concurrent.ConcurrentHashMap<>();

  private FieldValidation() {
  }

  /** The mode a request asked for; null when it did not ask (kvx then keeps bodies as they are). */
  public static Mode mode(String param) {
    if (param == null || param.isEmpty()) return null;
    for (Mode m : Mode.values()) {
      if (m.name().equalsIgnoreCase(param)) return m;
    }
    throw ApiError.badRequest("fieldValidation must be one of Ignore, Warn or Strict, not \"" + param + "\"");
  }

  /**
   * Applies {@code mode} to {@code obj} (changed in place: unknown fields are removed unless Strict)
   * and returns the warnings to send; Strict with unknown fields fails with a 400 naming them.
   */
  public static List<String> apply(ResourceType type, JsonObject obj, Mode mode) {
    if (mode == null) return List.of();
    List<String> unknown = unknown(type, obj, mode != Mode.Strict);
    if (unknown.isEmpty()) return List.of();
    List<String> messages = unknown.stream().map(p -> "unknown field \"" + p + "\"").toList();
    if (mode == Mode.Strict) {
      throw ApiError.badRequest(type.kind() + " in version \"" + type.version() + "\" cannot be handled as a "
          + type.kind() + ": strict decoding error: " + String.join(", ", messages));
    }
    return mode == Mode.Warn ? messages : List.of();
  }

  /** Paths ("spec.template.spec.containers[0].foo") of the fields the kind does not declare. */
  public static List<String> unknown(ResourceType type, JsonObject obj, boolean prune) {
    JsonObject schema;
    Map<String, JsonObject> refs;
    if (type.model() != null) {
      refs = closure(type.model());
      schema = refs.get(ModelSchemas.name(type.model()));
    } else if (type.isCustom() && type.schema() != null) {
      refs = closure(OpenApi.model("ObjectMeta"));
      schema = type.schema();
    } else {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    new Walker(refs::get, prune, out).object(obj, schema, "", true);
    return out;
  }

  private static Map<String, JsonObject> closure(Class<?> model) {
    return CLOSURES.computeIfAbsent(model, m -> ModelSchemas.closure(List.of(m)));
  }

  private static final JsonObject EMPTY = new JsonObject(java.util.Collections.emptyMap());

  private record Walker(Function<String, JsonObject> refs, boolean prune, List<String> out) {

    void value(Object value, JsonObject schema, String path) {
      schema = resolve(schema);
      if (schema == null) return;
      if (value instanceof JsonObject o) {
        object(o, schema, path, schema.getBoolean("x-kubernetes-embedded-resource", false));
      } else if (value instanceof JsonArray a) {
        JsonObject items = schema.getJsonObject("items");
        if (items == null) return;
        for (int i = 0; i < a.size(); i++) value(a.getValue(i), items, path + "[" + i + "]");
      }
    }

    void object(JsonObject obj, JsonObject schema, String path, boolean embedded) {
      schema = resolve(schema);
      if (schema == null) return;
      JsonObject props;
      boolean open;
      if (schema.containsKey("allOf") || schema.containsKey("anyOf") || schema.containsKey("oneOf")) {
        props = new JsonObject();
        open = collect(schema, props);
      } else {
        // The common case: the schema's own properties, read in place.
        JsonObject own = schema.getJsonObject("properties");
        props = own != null ? own : EMPTY;
        open = schema.getBoolean("x-kubernetes-preserve-unknown-fields", false);
      }
      Object additional = schema.getValue("additionalProperties");
      if (props.isEmpty() && !(additional instanceof JsonObject)) return;
      List<String> drop = null;
      for (Map.Entry<String, Object> e : obj) {
        String key = e.getKey();
        Object v = e.getValue();
        // Only objects and lists can hold an unknown field deeper down; their path is spelled out for them.
        boolean nested = v instanceof JsonObject || v instanceof JsonArray;
        if (props.containsKey(key)) {
          if (nested) value(v, props.getJsonObject(key), at(path, key));
        } else if (embedded && ROOT_FIELDS.contains(key)) {
          if (key.equals("metadata")) value(v, ModelSchemas.ref(ModelSchemas.OBJECT_META), at(path, key));
        } else if (additional instanceof JsonObject a) {
          if (nested) value(v, a, at(path, key));
        } else if (!open && !Boolean.TRUE.equals(additional)) {
          out.add(at(path, key));
          if (drop == null) drop = new ArrayList<>();
          drop.add(key);
        }
      }
      if (prune && drop != null) drop.forEach(obj::remove);
    }

    private static String at(String path, String key) {
      return path.isEmpty() ? key : path + "." + key;
    }

    /** Gathers declared properties, through allOf/anyOf/oneOf; true when unknown fields are allowed. */
    private boolean collect(JsonObject schema, JsonObject props) {
      boolean open = schema.getBoolean("x-kubernetes-preserve-unknown-fields", false);
      JsonObject own = schema.getJsonObject("properties");
      if (own != null) own.forEach(e -> props.put(e.getKey(), e.getValue()));
      for (String combinator : List.of("allOf", "anyOf", "oneOf")) {
        JsonArray branches = schema.getJsonArray(combinator);
        if (branches == null) continue;
        for (Object b : branches) {
          JsonObject branch = resolve((JsonObject) b);
          if (branch != null) open |= collect(branch, props);
        }
      }
      return open;
    }

    private JsonObject resolve(JsonObject schema) {
      int hops = 0;
      while (schema != null && schema.containsKey("$ref") && hops++ < 16) {
        String ref = schema.getString("$ref");
        schema = refs.apply(ref.substring(ref.lastIndexOf('/') + 1));
      }
      return schema;
    }
  }
}
