package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * CustomResourceDefinitions: their validation, the status the API server gives them (names
 * accepted, Established), and the resource types their served versions add to the registry. Pure.
 */
public final class CustomResources {

  private static final Pattern VERSION = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  private CustomResources() {
  }

  /**
   * kube's structural schema rule: every specified field (properties, items, additionalProperties) has a type, unless
   * it is x-kubernetes-int-or-string or keeps unknown fields (x-kubernetes-preserve-unknown-fields); and its CEL rules
   * parse.
   */
  private static void structural(JsonObject node, String path, List<ApiError.Cause> causes) {
    boolean free = node.getBoolean("x-kubernetes-int-or-string", false)
        || node.getBoolean("x-kubernetes-preserve-unknown-fields", false);
    if (node.getString("type", "").isEmpty() && !free) {
      causes.add(new ApiError.Cause(path + ".type", "FieldValueRequired",
          "Required value: must not be empty for specified object fields"));
    }
    CelRules.checkSyntax(node, path, causes);
    if (node.getBoolean("uniqueItems", false)) {
      causes.add(new ApiError.Cause(path + ".uniqueItems", "FieldValueForbidden", "Forbidden: uniqueItems cannot be set "
          + "to true since the runtime complexity becomes quadratic"));
    }
    if (node.getValue("properties") instanceof JsonObject props) {
      for (String name : props.fieldNames()) {
        if (props.getValue(name) instanceof JsonObject child) structural(child, path + ".properties[" + name + "]", causes);
      }
    }
    if (node.getValue("items") instanceof JsonObject items) structural(items, path + ".items", causes);
    if (node.getValue("additionalProperties") instanceof JsonObject each) {
      structural(each, path + ".additionalProperties", causes);
    }
  }

  private static final List<String> COLUMN_TYPES = List.of("array", "boolean", "date", "integer", "number", "string");

  public static List<ApiError.Cause> validate(JsonObject crd) {
    List<ApiError.Cause> causes = new ArrayList<>();
    JsonObject spec = crd.getJsonObject("spec", new JsonObject());
    String group = spec.getString("group", "");
    JsonObject names = spec.getJsonObject("names", new JsonObject());
    String plural = names.getString("plural", "");
    if (group.isEmpty()) causes.add(required("spec.group"));
    else if (!group.contains(".") || !Validation.isDns1123Subdomain(group)) {
      causes.add(invalid("spec.group", group, "should be a domain with at least one dot"));
    }
    if (plural.isEmpty()) causes.add(required("spec.names.plural"));
    else if (!Validation.isDns1123Label(plural)) causes.add(invalid("spec.names.plural", plural,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"));
    if (names.getString("kind", "").isEmpty()) causes.add(required("spec.names.kind"));
    String expected = plural + "." + group;
    if (!expected.equals(Meta.name(crd))) {
      causes.add(invalid("metadata.name", Meta.name(crd), "must be spec.names.plural+\".\"+spec.group"));
    }
    String scope = spec.getString("scope", "");
    if (!scope.equals("Namespaced") && !scope.equals("Cluster")) {
      causes.add(new ApiError.Cause("spec.scope", "FieldValueNotSupported", "Unsupported value: \"" + scope
          + "\": supported values: \"Cluster\", \"Namespaced\""));
    }
    JsonArray versions = spec.getJsonArray("versions", new JsonArray());
    if (versions.isEmpty()) causes.add(required("spec.versions"));
    int storage = 0;
    Set<String> seen = new LinkedHashSet<>();
    for (int i = 0; i < versions.size(); i++) {
      JsonObject v = versions.getJsonObject(i);
      String name = v.getString("name", "");
      String p = "spec.versions[" + i + "]";
      if (!VERSION.matcher(name).matches()) causes.add(invalid(p + ".name", name, "must be a DNS-1035 label"));
      if (!seen.add(name)) causes.add(new ApiError.Cause(p + ".name", "FieldValueDuplicate", "Duplicate value: \""
          + name + "\""));
      if (v.getBoolean("storage", false)) storage++;
      if (v.getValue("schema") instanceof JsonObject schema && schema.getValue("openAPIV3Schema") instanceof JsonObject root) {
        structural(root, p + ".schema.openAPIV3Schema", causes);
      }
      JsonArray columns = v.getJsonArray("additionalPrinterColumns", new JsonArray());
      for (int c = 0; c < columns.size(); c++) {
        if (!(columns.getValue(c) instanceof JsonObject column)) continue;
        String cp = p + ".additionalPrinterColumns[" + c + "]";
        String type = column.getString("type", "");
        if (!COLUMN_TYPES.contains(type)) {
          causes.add(new ApiError.Cause(cp + ".type", "FieldValueNotSupported", "Unsupported value: \"" + type
              + "\": supported values: " + String.join(", ", COLUMN_TYPES.stream().map(t -> "\"" + t + "\"").toList())));
        }
        if (column.getString("name", "").isEmpty()) causes.add(required(cp + ".name"));
        if (column.getString("jsonPath", "").isEmpty()) causes.add(required(cp + ".jsonPath"));
      }
    }
    if (!versions.isEmpty() && storage != 1) {
      causes.add(invalid("spec.versions", String.valueOf(storage), "must have exactly one version marked as storage "
          + "version"));
    }
    return causes;
  }

  /** The status an accepted definition carries: its names accepted and Established. */
  public static JsonObject status(JsonObject crd, String now) {
    JsonObject spec = crd.getJsonObject("spec", new JsonObject());
    JsonObject names = spec.getJsonObject("names", new JsonObject()).copy();
    if (!names.containsKey("singular")) names.put("singular", names.getString("kind", "").toLowerCase());
    if (!names.containsKey("listKind")) names.put("listKind", names.getString("kind", "") + "List");
    // As kube: the versions stored so far, in the order they became the storage version, the current one appended.
    JsonObject old = crd.getJsonObject("status", new JsonObject());
    JsonArray stored = old.getJsonArray("storedVersions", new JsonArray()).copy();
    for (Object o : spec.getJsonArray("versions", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      if (v.getBoolean("storage", false) && !stored.contains(v.getString("name"))) stored.add(v.getString("name"));
    }
    JsonArray conditions = new JsonArray()
        .add(new JsonObject().put("type", "NamesAccepted").put("status", "True").put("reason", "NoConflicts")
            .put("message", "no conflicts found").put("lastTransitionTime", now))
        .add(new JsonObject().put("type", "Established").put("status", "True").put("reason", "InitialNamesAccepted")
            .put("message", "the initial names have been accepted").put("lastTransitionTime", now));
    if (crd.getJsonObject("metadata", new JsonObject()).containsKey("deletionTimestamp")) {
      // Being deleted: its objects go first (kube's finalizer condition).
      conditions.add(new JsonObject().put("type", "Terminating").put("status", "True")
          .put("reason", "InstanceDeletionInProgress").put("message", "CustomResource deletion is in progress")
          .put("lastTransitionTime", now));
    }
    return new JsonObject().put("acceptedNames", names).put("storedVersions", stored).put("conditions", conditions);
  }

  /** One resource type per served version, in the order the definition lists them. */
  public static List<ResourceType> types(JsonObject crd) {
    JsonObject spec = crd.getJsonObject("spec", new JsonObject());
    JsonObject names = spec.getJsonObject("names", new JsonObject());
    List<String> shortNames = new ArrayList<>();
    names.getJsonArray("shortNames", new JsonArray()).forEach(s -> shortNames.add(String.valueOf(s)));
    List<String> categories = new ArrayList<>();
    names.getJsonArray("categories", new JsonArray()).forEach(s -> categories.add(String.valueOf(s)));
    List<ResourceType> out = new ArrayList<>();
    for (Object o : spec.getJsonArray("versions", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      if (!v.getBoolean("served", true)) continue;
      Set<String> subs = new LinkedHashSet<>();
      JsonObject sr = v.getJsonObject("subresources", spec.getJsonObject("subresources", new JsonObject()));
      if (sr.containsKey("status")) subs.add("status");
      if (sr.containsKey("scale")) subs.add("scale");
      JsonObject custom = v.copy();
      if (!custom.containsKey("schema") && spec.containsKey("validation")) custom.put("schema", spec.getValue("validation"));
      custom.put("crdName", Meta.name(crd)).put("singular", names.getString("singular",
          names.getString("kind", "").toLowerCase()));
      out.add(new ResourceType(spec.getString("group"), v.getString("name"), names.getString("kind"),
          names.getString("plural"), "Namespaced".equals(spec.getString("scope")), shortNames, subs, categories,
          null, custom));
    }
    return out;
  }

  private static ApiError.Cause required(String field) {
    return Causes.required(field, null);
  }

  private static ApiError.Cause invalid(String field, String value, String why) {
    return Causes.invalid(field, value, why);
  }
}
