package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch (merge patch whose
 * lists of named items merge by their key, as Kubernetes' patchMergeKey does). Pure.
 */
public final class Patches {

  private Patches() {
  }

  /**
   * The patch type a PATCH request's Content-Type names, parameters (charset) dropped; any other media type is a 415,
   * as is a strategic merge patch of a custom resource, which has no patch strategy metadata.
   */
  public static String patchType(String contentType, boolean custom) {
    String type = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
    java.util.List<String> accepted = custom
        ? java.util.List.of("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")
        : java.util.List.of("application/json-patch+json", "application/merge-patch+json",
            "application/strategic-merge-patch+json", "application/apply-patch+yaml");
    if (!accepted.contains(type)) {
      throw new ApiError(ApiError.Reason.UnsupportedMediaType, "the body of the request was in an unknown format - "
          + "accepted media types include: " + String.join(", ", accepted));
    }
    return type;
  }

  /**
   * A JSON patch, JSON merge patch or (any other type) strategic merge patch of {@code target} as
   * {@code patchType} says; the body of a JSON patch carries its operations under "patch".
   */
  public static JsonObject apply(String patchType, JsonObject target, JsonObject body) {
    return apply(patchType, null, target, body);
  }

  /**
   * As {@link #apply(String, JsonObject, JsonObject)}; a strategic merge patch of a built-in kind follows
   * the patch strategies its schema declares, as kube-apiserver's: lists merge by their patchMergeKey
   * (a Service's ports by port, a container's by containerPort), merge lists of scalars (finalizers) take
   * the union, other lists are replaced; the directives $patch (replace, delete), $retainKeys and
   * $deleteFromPrimitiveList and $setElementOrder are honoured.
   */
  public static JsonObject apply(String patchType, ResourceType kind, JsonObject target, JsonObject body) {
    String type = patchType == null ? "" : patchType;
    if (type.startsWith("application/json-patch+json")) return jsonPatch(target, body.getJsonArray("patch"));
    if (type.startsWith("application/merge-patch+json")) return mergePatch(target, body);
    if (kind != null && kind.model() != null) {
      TypeSchema schema = TypeSchema.of(kind);
      if (schema.root != null) return (JsonObject) strategic(schema, schema.root, target.copy(), body);
    }
    return strategicMergePatch(target, body);
  }

  /** One level of a schema-guided strategic merge; {@code target} may be changed in place. */
  private static Object strategic(TypeSchema ts, JsonObject schema, Object target, Object patch) {
    if (patch instanceof JsonObject p) {
      if ("replace".equals(p.getValue("$patch"))) {
        JsonObject replaced = p.copy();
        replaced.remove("$patch");
        return strategic(ts, schema, new JsonObject(), replaced);
      }
      JsonObject t = target instanceof JsonObject o ? o : new JsonObject();
      for (Map.Entry<String, Object> e : p) {
        String key = e.getKey();
        if (key.startsWith("$")) continue;
        Object value = e.getValue();
        if (value == null || value instanceof JsonObject v && "delete".equals(v.getValue("$patch"))) {
          t.remove(key);
        } else {
          t.put(key, strategic(ts, ts.field(schema, key), t.getValue(key), value));
        }
      }
      for (Map.Entry<String, Object> e : p) {
        String prefix = "$deleteFromPrimitiveList/";
        if (e.getKey().startsWith(prefix) && e.getValue() instanceof JsonArray gone
            && t.getValue(e.getKey().substring(prefix.length())) instanceof JsonArray list) {
          JsonArray kept = new JsonArray();
          list.forEach(x -> {
            if (!gone.contains(x)) kept.add(x);
          });
          t.put(e.getKey().substring(prefix.length()), kept);
        }
      }
      for (Map.Entry<String, Object> e : p) {
        String prefix = "$setElementOrder/";
        String field = e.getKey().startsWith(prefix) ? e.getKey().substring(prefix.length()) : null;
        if (field != null && e.getValue() instanceof JsonArray order && t.getValue(field) instanceof JsonArray list) {
          JsonObject listSchema = ts.resolve(ts.field(schema, field));
          String key = listSchema == null ? null : listSchema.getString("x-kubernetes-patch-merge-key");
          t.put(field, ordered(list, order, key));
        }
      }
      if (p.getValue("$retainKeys") instanceof JsonArray retain) {
        for (String k : new java.util.ArrayList<>(t.fieldNames())) {
          if (!retain.contains(k)) t.remove(k);
        }
      }
      return t;
    }
    if (patch instanceof JsonArray pa) {
      JsonObject listSchema = ts.resolve(schema);
      String strategy = listSchema == null ? null : listSchema.getString("x-kubernetes-patch-strategy", "");
      boolean merge = strategy != null && java.util.Arrays.asList(strategy.split(",")).contains("merge");
      if (listSchema == null) return target instanceof JsonArray ta ? merge(ta, pa, true) : merge(null, pa, true);
      JsonArray items = new JsonArray();
      boolean replaceAll = false;
      for (Object item : pa) {
        if (item instanceof JsonObject o && "replace".equals(o.getValue("$patch"))) replaceAll = true;
        else items.add(item);
      }
      if (!merge || replaceAll || !(target instanceof JsonArray ta)) {
        JsonArray out = new JsonArray();
        for (Object item : items) {
          if (item instanceof JsonObject o && "delete".equals(o.getValue("$patch"))) continue;
          out.add(item instanceof JsonObject o ? strategic(ts, ts.items(schema), new JsonObject(), o) : item);
        }
        return out;
      }
      String key = listSchema.getString("x-kubernetes-patch-merge-key");
      JsonArray out = ta.copy();
      if (key == null) {
        // A merge list of scalars: the union, the target's order first.
        for (Object item : items) {
          if (!out.contains(item)) out.add(item);
        }
        return out;
      }
      for (Object item : items) {
        if (!(item instanceof JsonObject p)) continue;
        Object id = p.getValue(key);
        int found = -1;
        for (int i = 0; i < out.size(); i++) {
          if (out.getValue(i) instanceof JsonObject o && id != null && id.equals(o.getValue(key))) {
            found = i;
            break;
          }
        }
        if ("delete".equals(p.getValue("$patch"))) {
          if (found >= 0) out.remove(found);
        } else if (found >= 0) {
          out.set(found, strategic(ts, ts.items(schema), out.getJsonObject(found), p));
        } else {
          out.add(strategic(ts, ts.items(schema), new JsonObject(), p));
        }
      }
      return out;
    }
    return patch;
  }

  public static JsonObject mergePatch(JsonObject target, JsonObject patch) {
    return (JsonObject) merge(target.copy(), patch, false);
  }

  public static JsonObject strategicMergePatch(JsonObject target, JsonObject patch) {
    return (JsonObject) merge(target.copy(), patch, true);
  }

  private static Object merge(Object target, Object patch, boolean strategic) {
    if (patch instanceof JsonObject p) {
      if (strategic && "replace".equals(p.getValue("$patch"))) {
        // The object replaces the target whole (how ControllerRevisions record a template for `rollout undo`).
        JsonObject replaced = p.copy();
        replaced.remove("$patch");
        return merge(new JsonObject(), replaced, true);
      }
      JsonObject t = target instanceof JsonObject o ? o : new JsonObject();
      for (Map.Entry<String, Object> e : p) {
        if (e.getKey().startsWith("$")) continue; // strategic directives such as $patch, $retainKeys
        if (e.getValue() == null) {
          t.remove(e.getKey());
        } else {
          t.put(e.getKey(), merge(t.getValue(e.getKey()), e.getValue(), strategic));
        }
      }
      return t;
    }
    if (strategic && patch instanceof JsonArray pa && target instanceof JsonArray ta) {
      String mergeKey = mergeKey(pa);
      if (mergeKey != null) return mergeList(ta, pa, mergeKey);
    }
    return patch;
  }

  /** The merge key of a list of objects: Kubernetes' lists of named items merge by name (ports by containerPort). */
  private static String mergeKey(JsonArray list) {
    if (list.isEmpty() || !(list.getValue(0) instanceof JsonObject first)) return null;
    for (String k : new String[] {"name", "containerPort", "mountPath", "devicePath", "ip", "type", "topologyKey"}) {
      if (first.containsKey(k)) return k;
    }
    return null;
  }

  /**
   * A merged list in the order a {@code $setElementOrder} directive gives (kubectl apply sends it): the elements it
   * names (by merge key, or by value for a list of scalars) in its order, then the others as they were.
   */
  private static JsonArray ordered(JsonArray list, JsonArray order, String key) {
    JsonArray out = new JsonArray();
    java.util.Set<Integer> taken = new java.util.HashSet<>();
    for (Object wanted : order) {
      Object id = key != null && wanted instanceof JsonObject w ? w.getValue(key) : wanted;
      for (int i = 0; i < list.size(); i++) {
        Object item = list.getValue(i);
        Object itemId = key != null && item instanceof JsonObject o ? o.getValue(key) : item;
        if (!taken.contains(i) && java.util.Objects.equals(id, itemId)) {
          taken.add(i);
          out.add(item);
          break;
        }
      }
    }
    for (int i = 0; i < list.size(); i++) {
      if (!taken.contains(i)) out.add(list.getValue(i));
    }
    return out;
  }

  private static JsonArray mergeList(JsonArray target, JsonArray patch, String key) {
    JsonArray out = target.copy();
    for (Object item : patch) {
      if (!(item instanceof JsonObject p)) continue;
      Object id = p.getValue(key);
      boolean delete = "delete".equals(p.getString("$patch"));
      int found = -1;
      for (int i = 0; i < out.size(); i++) {
        if (out.getValue(i) instanceof JsonObject o && id != null && id.equals(o.getValue(key))) {
          found = i;
          break;
        }
      }
      if (delete) {
        if (found >= 0) out.remove(found);
      } else if (found >= 0) {
        out.set(found, merge(out.getJsonObject(found), p, true));
      } else {
        out.add(merge(new JsonObject(), p, true));
      }
    }
    return out;
  }

  /** Applies an RFC 6902 patch; a failed test or a bad path is a 422. */
  public static JsonObject jsonPatch(JsonObject target, JsonArray ops) {
    JsonObject doc = target.copy();
    for (int i = 0; i < ops.size(); i++) {
      JsonObject op = ops.getJsonObject(i);
      String path = op.getString("path");
      switch (op.getString("op", "")) {
        case "add" -> put(doc, path, op.getValue("value"), true);
        case "replace" -> {
          get(doc, path);
          put(doc, path, op.getValue("value"), false);
        }
        case "remove" -> remove(doc, path);
        case "move" -> {
          Object v = get(doc, op.getString("from"));
          remove(doc, op.getString("from"));
          put(doc, path, v, true);
        }
        case "copy" -> put(doc, path, copyOf(get(doc, op.getString("from"))), true);
        case "test" -> {
          if (!String.valueOf(get(doc, path)).equals(String.valueOf(op.getValue("value")))) {
            throw invalid("testing value " + path + " failed");
          }
        }
        default -> throw invalid("unexpected operation \"" + op.getString("op") + "\"");
      }
    }
    return doc;
  }

  private static Object copyOf(Object v) {
    if (v instanceof JsonObject o) return o.copy();
    if (v instanceof JsonArray a) return a.copy();
    return v;
  }

  private static String[] tokens(String path) {
    if (path == null || !path.startsWith("/")) throw invalid("invalid JSON pointer \"" + path + "\"");
    String[] parts = path.substring(1).split("/", -1);
    for (int i = 0; i < parts.length; i++) parts[i] = parts[i].replace("~1", "/").replace("~0", "~");
    return parts;
  }

  private static Object parent(JsonObject doc, String[] t) {
    Object cur = doc;
    for (int i = 0; i < t.length - 1; i++) cur = child(cur, t[i], String.join("/", t));
    return cur;
  }

  private static Object child(Object cur, String token, String path) {
    Object next = null;
    if (cur instanceof JsonObject o) next = o.getValue(token);
    else if (cur instanceof JsonArray a) next = a.getValue(index(token, a.size() - 1, path));
    if (next == null) throw invalid("doc is missing path: \"" + pointer(path) + "\"");
    return next;
  }

  /** A JSON pointer as kube prints it: one leading slash. */
  private static String pointer(String path) {
    return path.startsWith("/") ? path : "/" + path;
  }

  private static int index(String token, int max, String path) {
    try {
      int idx = Integer.parseInt(token);
      if (idx < 0 || idx > max) throw invalid("index out of range in \"" + pointer(path) + "\"");
      return idx;
    } catch (NumberFormatException e) {
      throw invalid("invalid array index \"" + token + "\"");
    }
  }

  private static Object get(JsonObject doc, String path) {
    String[] t = tokens(path);
    if (t.length == 1 && t[0].isEmpty()) return doc;
    return child(parent(doc, t), t[t.length - 1], path);
  }

  private static void put(JsonObject doc, String path, Object value, boolean insert) {
    String[] t = tokens(path);
    Object p = parent(doc, t);
    String last = t[t.length - 1];
    if (p instanceof JsonObject o) {
      o.put(last, value);
    } else if (p instanceof JsonArray a) {
      if (last.equals("-")) a.add(value);
      else if (insert) a.getList().add(index(last, a.size(), path), value);
      else a.set(index(last, a.size() - 1, path), value);
    }
  }

  private static void remove(JsonObject doc, String path) {
    String[] t = tokens(path);
    Object p = parent(doc, t);
    String last = t[t.length - 1];
    if (p instanceof JsonObject o) {
      if (!o.containsKey(last)) throw invalid("doc is missing path: \"" + path + "\"");
      o.remove(last);
    } else if (p instanceof JsonArray a) {
      a.remove(index(last, a.size() - 1, path));
    }
  }

  private static ApiError invalid(String message) {
    return new ApiError(ApiError.Reason.Invalid, "the server rejected our request due to an error in our request: "
        + message);
  }
}
