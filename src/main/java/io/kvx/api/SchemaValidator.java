package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Validates a custom resource against its CRD's openAPIV3Schema, as the apiextensions server does:
 * types, required fields, enums, numeric and length bounds, patterns; int-or-string and
 * preserve-unknown-fields respected. Each violation is a cause naming the field. Pure.
 */
public final class SchemaValidator {

  private SchemaValidator() {
  }

  public static void validate(JsonObject schema, Object value, String path, List<ApiError.Cause> causes) {
    if (schema == null || value == null) return;
    String type = schema.getString("type");
    boolean intOrString = schema.getBoolean("x-kubernetes-int-or-string", false);
    if (intOrString) {
      if (!(value instanceof Number) && !(value instanceof String)) {
        causes.add(cause(path, "FieldValueInvalid", "Invalid value: " + describe(value) + ": " + path
            + " in body must be of type integer,string"));
      }
      return;
    }
    if (type != null && !matchesType(type, value)) {
      causes.add(new ApiError.Cause(path, "FieldValueTypeInvalid", "Invalid value: \"" + typeOf(value) + "\": "
          + path + " in body must be of type " + type + ": \"" + typeOf(value) + "\""));
      return;
    }
    JsonArray enumValues = schema.getJsonArray("enum");
    if (enumValues != null && !enumValues.contains(value)) {
      causes.add(new ApiError.Cause(path, "FieldValueNotSupported", "Unsupported value: " + describe(value)
          + ": supported values: " + String.join(", ", enumValues.stream().map(SchemaValidator::describe).toList())));
    }
    if (value instanceof Number n) {
      if (schema.getValue("minimum") instanceof Number min && n.doubleValue() < min.doubleValue()) {
        causes.add(cause(path, "FieldValueInvalid", "Invalid value: " + n + ": " + path + " in body should be "
            + "greater than or equal to " + num(min)));
      }
      if (schema.getValue("maximum") instanceof Number max && n.doubleValue() > max.doubleValue()) {
        causes.add(cause(path, "FieldValueInvalid", "Invalid value: " + n + ": " + path + " in body should be "
            + "less than or equal to " + num(max)));
      }
    }
    if (value instanceof String s) {
      if (schema.getValue("maxLength") instanceof Number max && s.length() > max.intValue()) {
        causes.add(cause(path, "FieldValueTooLong", "Too long: may not be longer than " + max));
      }
      if (schema.getValue("minLength") instanceof Number min && s.length() < min.intValue()) {
        causes.add(cause(path, "FieldValueInvalid", "Invalid value: \"" + s + "\": " + path + " in body should be at "
            + "least " + min + " chars long"));
      }
      String pattern = schema.getString("pattern");
      if (pattern != null) {
        try {
          if (!Pattern.compile(pattern).matcher(s).find()) {
            causes.add(cause(path, "FieldValueInvalid", "Invalid value: \"" + s + "\": " + path + " in body should "
                + "match '" + pattern + "'"));
          }
        } catch (PatternSyntaxException ignored) {
          // A pattern Java cannot compile is not the user's object's fault.
        }
      }
    }
    if (value instanceof JsonObject o) {
      for (Object r : schema.getJsonArray("required", new JsonArray())) {
        if (!o.containsKey(String.valueOf(r))) {
          causes.add(new ApiError.Cause(join(path, String.valueOf(r)), "FieldValueRequired", "Required value"));
        }
      }
      JsonObject props = schema.getJsonObject("properties", new JsonObject());
      Object additional = schema.getValue("additionalProperties");
      for (Map.Entry<String, Object> e : o) {
        JsonObject p = props.getJsonObject(e.getKey());
        if (p != null) validate(p, e.getValue(), join(path, e.getKey()), causes);
        else if (additional instanceof JsonObject a) validate(a, e.getValue(), join(path, e.getKey()), causes);
      }
    }
    if (value instanceof JsonArray a) {
      JsonObject items = schema.getJsonObject("items");
      if (schema.getValue("maxItems") instanceof Number max && a.size() > max.intValue()) {
        causes.add(cause(path, "FieldValueTooMany", "Too many: " + a.size() + ": must have at most " + max + " items"));
      }
      if (schema.getValue("minItems") instanceof Number min && a.size() < min.intValue()) {
        causes.add(cause(path, "FieldValueInvalid", "Invalid value: " + a.size() + ": " + path + " in body should have "
            + "at least " + min + " items"));
      }
      if (items != null) {
        for (int i = 0; i < a.size(); i++) validate(items, a.getValue(i), path + "[" + i + "]", causes);
      }
      uniqueness(schema, a, path, causes);
    }
  }

  /**
   * x-kubernetes-list-type set (each value once) and map (each combination of x-kubernetes-list-map-keys once): a
   * repeated item is kube's "Duplicate value" naming the item (a map item by its keys, as Go prints a map).
   */
  private static void uniqueness(JsonObject schema, JsonArray a, String path, List<ApiError.Cause> causes) {
    String listType = schema.getString("x-kubernetes-list-type", "");
    if (!listType.equals("set") && !listType.equals("map")) return;
    JsonArray keys = schema.getJsonArray("x-kubernetes-list-map-keys", new JsonArray());
    java.util.Set<Object> seen = new java.util.HashSet<>();
    for (int i = 0; i < a.size(); i++) {
      Object item = a.getValue(i);
      Object identity = item;
      String shown;
      if (listType.equals("map") && item instanceof JsonObject o) {
        JsonObject id = new JsonObject();
        keys.forEach(k -> id.put(String.valueOf(k), o.getValue(String.valueOf(k))));
        identity = id;
        java.util.List<String> parts = new java.util.ArrayList<>();
        id.forEach(e -> parts.add("\"" + e.getKey() + "\":" + (e.getValue() instanceof String str ? "\"" + str + "\""
            : String.valueOf(e.getValue()))));
        shown = "map[string]interface {}{" + String.join(", ", parts) + "}";
      } else {
        shown = item instanceof String str ? "\"" + str + "\"" : String.valueOf(item);
      }
      if (!seen.add(identity)) causes.add(cause(path + "[" + i + "]", "FieldValueDuplicate", "Duplicate value: " + shown));
    }
  }

  private static String num(Number n) {
    return n.doubleValue() == Math.rint(n.doubleValue()) ? String.valueOf(n.longValue()) : n.toString();
  }

  private static boolean matchesType(String type, Object v) {
    return switch (type) {
      case "object" -> v instanceof JsonObject;
      case "array" -> v instanceof JsonArray;
      case "string" -> v instanceof String;
      case "boolean" -> v instanceof Boolean;
      case "integer" -> v instanceof Integer || v instanceof Long
          || (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()));
      case "number" -> v instanceof Number;
      default -> true;
    };
  }

  private static String typeOf(Object v) {
    if (v instanceof JsonObject) return "object";
    if (v instanceof JsonArray) return "array";
    if (v instanceof String) return "string";
    if (v instanceof Boolean) return "boolean";
    if (v instanceof Integer || v instanceof Long) return "integer";
    return "number";
  }

  private static String describe(Object v) {
    return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  private static ApiError.Cause cause(String field, String type, String message) {
    return new ApiError.Cause(field, type, message);
  }
}
