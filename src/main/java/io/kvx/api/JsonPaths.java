package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The simple JSONPaths printer columns use: {@code .spec.replicas}, {@code .status.conditions[0].type}. Pure. */
public final class JsonPaths {

  private JsonPaths() {
  }

  public static Object read(JsonObject obj, String path) {
    String p = path.trim();
    if (p.startsWith("{") && p.endsWith("}")) p = p.substring(1, p.length() - 1);
    if (p.startsWith("$")) p = p.substring(1);
    Object cur = obj;
    for (String part : p.split("\\.")) {
      if (part.isEmpty()) continue;
      String field = part;
      Integer index = null;
      int bracket = part.indexOf('[');
      if (bracket >= 0 && part.endsWith("]")) {
        field = part.substring(0, bracket);
        String idx = part.substring(bracket + 1, part.length() - 1);
        try {
          index = Integer.parseInt(idx);
        } catch (NumberFormatException e) {
          return null;
        }
      }
      if (!field.isEmpty()) {
        if (!(cur instanceof JsonObject o)) return null;
        cur = o.getValue(field);
      }
      if (index != null) {
        if (!(cur instanceof JsonArray a)) return null;
        int i = index < 0 ? a.size() + index : index;
        if (i < 0 || i >= a.size()) return null;
        cur = a.getValue(i);
      }
      if (cur == null) return null;
    }
    return cur;
  }
}
