package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How server-side apply sees a kind's shape: which maps are structs (fields owned one by one) or
 * atomic, which lists are atomic, sets, or maps keyed by their x-kubernetes-list-map-keys. Read from
 * the OpenAPI schemas of fabric8's models ({@link ModelSchemas}) or a CRD's openAPIV3Schema. Where the
 * schema says nothing, values are deduced as Kubernetes does: objects are granular, lists atomic.
 * A schema node may be null (unknown). Pure.
 */
final class TypeSchema {

  enum Shape { STRUCT, ATOMIC, LIST_MAP, LIST_SET, SCALAR }

  private static final Map<Class<?>, Map<String, JsonObject>> CLOSURES = new ConcurrentHashMap<>();
  private static final Map<Class<?>, TypeSchema> BUILT_IN = new ConcurrentHashMap<>();
  private static final Map<Map<String, JsonObject>, Map<String, JsonObject>> BY_REF =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

  /** Key fields Kubernetes defaults (a port's protocol), so an item that omits them keys like the stored one. */
  private static final Map<String, Object> KEY_DEFAULTS = Map.of("protocol", "TCP");

  private final Map<String, JsonObject> refs;
  final JsonObject root;
  /**
   * A built-in kind's schema nodes (by identity) resolved once, as {@link #resolve} would: the walks of managed
   * fields resolve at every node of every write. Read-only once built; null for a CRD's (built per call).
   */
  private final Map<JsonObject, JsonObject> resolved;

  private TypeSchema(Map<String, JsonObject> refs, JsonObject root, boolean table) {
    this.refs = refs;
    this.root = root;
    this.resolved = table ? table(root) : null;
  }

  private Map<JsonObject, JsonObject> table(JsonObject from) {
    Map<JsonObject, JsonObject> out = new java.util.IdentityHashMap<>();
    java.util.ArrayDeque<JsonObject> todo = new java.util.ArrayDeque<>();
    if (from != null) todo.add(from);
    refs.values().forEach(todo::add);
    while (!todo.isEmpty()) {
      JsonObject node = todo.poll();
      if (out.containsKey(node)) continue;
      JsonObject r = resolveUncached(node);
      if (r == null) continue;
      out.put(node, r);
      if (r != node) todo.add(r);
      JsonObject props = r.getJsonObject("properties");
      if (props != null) props.forEach(e -> {
        if (e.getValue() instanceof JsonObject o) todo.add(o);
      });
      for (String k : List.of("additionalProperties", "items")) {
        if (r.getValue(k) instanceof JsonObject o) todo.add(o);
      }
    }
    return out;
  }

  static TypeSchema of(ResourceType type) {
    if (type.model() != null) {
      return BUILT_IN.computeIfAbsent(type.model(), m -> {
        Map<String, JsonObject> refs = byRef(closure(m));
        return new TypeSchema(refs, refs.get(ModelSchemas.REF_PREFIX + ModelSchemas.name(m)), true);
      });
    }
    Map<String, JsonObject> refs = byRef(closure(OpenApi.model("ObjectMeta")));
    if (type.schema() == null) return new TypeSchema(refs, null, false);
    // Shallow copies: the CRD's schema is only read, and may be large.
    JsonObject root = new JsonObject(new java.util.LinkedHashMap<>(type.schema().getMap()));
    JsonObject given = type.schema().getJsonObject("properties");
    JsonObject props = new JsonObject(given == null ? new java.util.LinkedHashMap<>()
        : new java.util.LinkedHashMap<>(given.getMap()));
    props.put("metadata", ModelSchemas.ref(ModelSchemas.OBJECT_META));
    root.put("properties", props);
    return new TypeSchema(refs, root, false);
  }

  private static Map<String, JsonObject> closure(Class<?> model) {
    return CLOSURES.computeIfAbsent(model, m -> ModelSchemas.closure(List.of(m)));
  }

  /** The schemas by their full $ref ("#/components/schemas/..."), in a hash map: resolving is the hot path. */
  private static Map<String, JsonObject> byRef(Map<String, JsonObject> byName) {
    return BY_REF.computeIfAbsent(byName, n -> {
      Map<String, JsonObject> out = new java.util.HashMap<>();
      n.forEach((name, schema) -> out.put(ModelSchemas.REF_PREFIX + name, schema));
      return out;
    });
  }

  JsonObject resolve(JsonObject schema) {
    if (resolved != null && schema != null) {
      JsonObject r = resolved.get(schema);
      if (r != null) return r;
    }
    return resolveUncached(schema);
  }

  private JsonObject resolveUncached(JsonObject schema) {
    int hops = 0;
    while (schema != null && hops++ < 16) {
      Object ref = schema.getValue("$ref");
      if (ref == null) break;
      schema = refs.get(ref);
    }
    if (schema != null && !schema.containsKey("properties") && schema.getJsonArray("allOf") != null
        && schema.getJsonArray("allOf").size() == 1) {
      return resolveUncached(schema.getJsonArray("allOf").getJsonObject(0));
    }
    return schema;
  }

  /** The shape of {@code value} under {@code schema} (null schema: deduced). */
  Shape shape(JsonObject schema, Object value) {
    schema = resolve(schema);
    if (value instanceof JsonObject) {
      if (schema != null && "atomic".equals(schema.getString("x-kubernetes-map-type"))) return Shape.ATOMIC;
      return Shape.STRUCT;
    }
    if (value instanceof JsonArray) {
      if (schema == null) return Shape.ATOMIC;
      String listType = schema.getString("x-kubernetes-list-type");
      if ("map".equals(listType) && !mapKeys(schema).isEmpty()) return Shape.LIST_MAP;
      if ("set".equals(listType)) return Shape.LIST_SET;
      if (listType == null && "merge".equals(firstStrategy(schema))) {
        return schema.getString("x-kubernetes-patch-merge-key") != null ? Shape.LIST_MAP : Shape.LIST_SET;
      }
      return Shape.ATOMIC;
    }
    return Shape.SCALAR;
  }

  private static String firstStrategy(JsonObject schema) {
    String s = schema.getString("x-kubernetes-patch-strategy");
    return s == null ? null : s.split(",")[0];
  }

  /** The schema of a field or map value; null when unknown. */
  JsonObject field(JsonObject schema, String name) {
    schema = resolve(schema);
    if (schema == null) return null;
    JsonObject props = schema.getJsonObject("properties");
    if (props != null && props.containsKey(name)) return props.getJsonObject(name);
    Object additional = schema.getValue("additionalProperties");
    return additional instanceof JsonObject a ? a : null;
  }

  /** Whether {@code name} is a declared field (a struct's), not a key of a map. */
  boolean declared(JsonObject schema, String name) {
    schema = resolve(schema);
    if (schema == null) return false;
    JsonObject props = schema.getJsonObject("properties");
    return props != null && props.containsKey(name);
  }

  JsonObject items(JsonObject schema) {
    schema = resolve(schema);
    return schema == null ? null : schema.getJsonObject("items");
  }

  List<String> mapKeys(JsonObject schema) {
    schema = resolve(schema);
    JsonArray keys = schema == null ? null : schema.getJsonArray("x-kubernetes-list-map-keys");
    List<String> out = new ArrayList<>();
    if (keys != null) keys.forEach(k -> out.add((String) k));
    else if (schema != null && schema.getString("x-kubernetes-patch-merge-key") != null) {
      out.add(schema.getString("x-kubernetes-patch-merge-key"));
    }
    return out;
  }

  /** The path element of one item of a list: its keys (LIST_MAP) or its value (LIST_SET). */
  String element(JsonObject listSchema, Shape shape, Object item) {
    if (shape == Shape.LIST_SET) return FieldSet.value(item);
    Map<String, Object> key = new java.util.LinkedHashMap<>();
    if (item instanceof JsonObject o) {
      for (String k : mapKeys(listSchema)) {
        Object v = o.getValue(k);
        if (v == null) v = KEY_DEFAULTS.get(k);
        if (v != null) key.put(k, v);
      }
    }
    return FieldSet.key(key);
  }
}
