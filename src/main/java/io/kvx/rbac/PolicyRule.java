package io.kvx.rbac;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * One rule of a Role or ClusterRole, as RBAC matches it: verbs and API groups with "*", resources with "*",
 * "resource/subresource" and "* /subresource", resourceNames (empty: any), nonResourceURLs with "*" and a trailing
 * "*" as a prefix match.
 */
public record PolicyRule(List<String> verbs, List<String> apiGroups, List<String> resources,
                         List<String> resourceNames, List<String> nonResourceURLs) {

  public static PolicyRule fromJson(JsonObject rule) {
    return new PolicyRule(strings(rule.getJsonArray("verbs")), strings(rule.getJsonArray("apiGroups")),
        strings(rule.getJsonArray("resources")), strings(rule.getJsonArray("resourceNames")),
        strings(rule.getJsonArray("nonResourceURLs")));
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("verbs", new JsonArray(verbs));
    if (!apiGroups.isEmpty()) o.put("apiGroups", new JsonArray(apiGroups));
    if (!resources.isEmpty()) o.put("resources", new JsonArray(resources));
    if (!resourceNames.isEmpty()) o.put("resourceNames", new JsonArray(resourceNames));
    if (!nonResourceURLs.isEmpty()) o.put("nonResourceURLs", new JsonArray(nonResourceURLs));
    return o;
  }

  private static List<String> strings(JsonArray a) {
    if (a == null) return List.of();
    return a.stream().map(String::valueOf).toList();
  }

  public boolean allows(RequestAttributes r) {
    if (!verbs.contains("*") && !verbs.contains(r.verb())) return false;
    return r.resourceRequest() ? allowsResource(r) : allowsPath(r.path());
  }

  private boolean allowsResource(RequestAttributes r) {
    if (!apiGroups.contains("*") && !apiGroups.contains(r.apiGroup())) return false;
    boolean resourceMatch = false;
    String combined = r.subresource().isEmpty() ? r.resource() : r.resource() + "/" + r.subresource();
    for (String res : resources) {
      if (res.equals("*") || res.equals(combined)
          || !r.subresource().isEmpty() && res.equals("*/" + r.subresource())) {
        resourceMatch = true;
        break;
      }
    }
    if (!resourceMatch) return false;
    return resourceNames.isEmpty() || resourceNames.contains(r.name());
  }

  private boolean allowsPath(String path) {
    for (String url : nonResourceURLs) {
      if (url.equals("*") || url.equals(path)
          || url.endsWith("*") && path.startsWith(url.substring(0, url.length() - 1))) {
        return true;
      }
    }
    return false;
  }
}
