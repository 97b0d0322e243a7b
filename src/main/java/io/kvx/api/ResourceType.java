package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;

/**
 * What the API server knows about one resource: its group/version/kind, plural, scope, short names,
 * subresources, and the fabric8 model class its bodies must decode into (null: not typed). Custom
 * resources carry their CRD version entry in {@code custom} (schema, subresources,
 * additionalPrinterColumns); built-ins have null there. The registry of built-in types is
 * {@link Resources}.
 */
public record ResourceType(String group, String version, String kind, String plural, boolean namespaced,
                           List<String> shortNames, Set<String> subresources, List<String> categories,
                           Class<?> model, JsonObject custom) {

  public ResourceType(String group, String version, String kind, String plural, boolean namespaced,
                      List<String> shortNames, Set<String> subresources, List<String> categories, Class<?> model) {
    this(group, version, kind, plural, namespaced, shortNames, subresources, categories, model, null);
  }

  /** The openAPIV3Schema of a custom resource version, or null (built-in, or none given). */
  public JsonObject schema() {
    if (custom == null) return null;
    JsonObject schema = custom.getJsonObject("schema");
    return schema == null ? null : schema.getJsonObject("openAPIV3Schema");
  }

  public boolean isCustom() {
    return custom != null;
  }

  public static final List<String> VERBS = List.of("create", "delete", "deletecollection", "get", "list",
      "patch", "update", "watch");

  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /** The store key prefix of this resource: group (or "core") and plural. */
  public String storePrefix() {
    // events.k8s.io/v1 is a view of the core/v1 Events (one store, as in Kubernetes)
    if (group.equals("events.k8s.io")) return "core/events/";
    return (group.isEmpty() ? "core" : group) + "/" + plural + "/";
  }

  public String key(String namespace, String name) {
    return storePrefix() + (namespaced ? namespace : "") + "/" + name;
  }

  public String singular() {
    return kind.toLowerCase();
  }

  /**
   * Served read-only (get, list), computed on each request and never stored: metrics.k8s.io's views and
   * v1 ComponentStatus.
   */
  public boolean computed() {
    return group.equals("metrics.k8s.io") || group.isEmpty() && kind.equals("ComponentStatus");
  }

  /** Served for create only, stored as something else: v1 bindings (a pod's binding). */
  public boolean createOnly() {
    return group.isEmpty() && kind.equals("Binding");
  }

  /** APIResource entries for discovery: the resource itself and its subresources. */
  public JsonArray discoveryEntries() {
    JsonArray out = new JsonArray();
    JsonObject main = new JsonObject().put("name", plural).put("singularName", singular())
        .put("namespaced", namespaced).put("kind", kind).put("verbs", new JsonArray(computed() ? List.of("get", "list")
            : createOnly() ? List.of("create") : switch (group) {
              case "authorization.k8s.io", "authentication.k8s.io" -> List.of("create");
              default -> VERBS;
            }));
    if (!shortNames.isEmpty()) main.put("shortNames", new JsonArray(shortNames));
    if (!categories.isEmpty()) main.put("categories", new JsonArray(categories));
    out.add(main);
    for (String sub : subresources) {
      JsonObject s = new JsonObject().put("name", plural + "/" + sub).put("singularName", "")
          .put("namespaced", namespaced);
      switch (sub) {
        case "log" -> s.put("kind", "Pod").put("verbs", new JsonArray().add("get"));
        case "binding" -> s.put("kind", "Binding").put("verbs", new JsonArray().add("create"));
        case "eviction" -> s.put("group", "policy").put("version", "v1").put("kind", "Eviction")
            .put("verbs", new JsonArray().add("create"));
        case "exec", "attach", "portforward" -> s.put("kind", switch (sub) {
          case "exec" -> "PodExecOptions";
          case "attach" -> "PodAttachOptions";
          default -> "PodPortForwardOptions";
        }).put("verbs", new JsonArray().add("create").add("get"));
        case "proxy" -> s.put("kind", kind + "ProxyOptions")
            .put("verbs", new JsonArray().add("create").add("delete").add("get").add("patch").add("update"));
        case "token" -> s.put("group", "authentication.k8s.io").put("version", "v1").put("kind", "TokenRequest")
            .put("verbs", new JsonArray().add("create"));
        case "finalize" -> s.put("kind", kind).put("verbs", new JsonArray().add("update"));
        case "scale" -> s.put("group", "autoscaling").put("version", "v1").put("kind", "Scale")
            .put("verbs", new JsonArray().add("get").add("patch").add("update"));
        default -> s.put("kind", kind).put("verbs", new JsonArray().add("get").add("patch").add("update"));
      }
      out.add(s);
    }
    return out;
  }
}
