package io.kvx.apiserver;

import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.Set;

/** Plain discovery documents (/api, /apis, /api/v1, /apis/G/V) and /version. Pure. */
public final class Discovery {

  public static final String KUBERNETES_VERSION = "v1.35.0";

  private Discovery() {
  }

  public static JsonObject coreVersions(String serverAddress) {
    return new JsonObject().put("kind", "APIVersions").put("versions", new JsonArray().add("v1"))
        .put("serverAddressByClientCIDRs", new JsonArray().add(new JsonObject()
            .put("clientCIDR", "0.0.0.0/0").put("serverAddress", serverAddress)));
  }

  /** The served groups: the registry's plus the review APIs (which store nothing, see {@link Reviews}). */
  static Map<String, Set<String>> allGroups(Resources resources) {
    Map<String, Set<String>> out = new java.util.LinkedHashMap<>(resources.groups());
    for (ResourceType t : Reviews.TYPES) out.computeIfAbsent(t.group(), g -> new java.util.LinkedHashSet<>()).add(t.version());
    return out;
  }

  static java.util.List<ResourceType> inGroupVersion(Resources resources, String group, String version) {
    java.util.List<ResourceType> out = new java.util.ArrayList<>(resources.inGroupVersion(group, version));
    for (ResourceType t : Reviews.TYPES) {
      if (t.group().equals(group) && t.version().equals(version)) out.add(t);
    }
    return out;
  }

  public static JsonObject groups(Resources resources) {
    JsonArray groups = new JsonArray();
    for (Map.Entry<String, Set<String>> g : allGroups(resources).entrySet()) {
      if (g.getKey().isEmpty()) continue;
      groups.add(group(g.getKey(), g.getValue()));
    }
    return new JsonObject().put("kind", "APIGroupList").put("apiVersion", "v1").put("groups", groups);
  }

  public static JsonObject group(String name, Set<String> versions) {
    JsonArray vs = new JsonArray();
    for (String v : byPriority(versions)) vs.add(new JsonObject().put("groupVersion", name + "/" + v).put("version", v));
    return new JsonObject().put("kind", "APIGroup").put("apiVersion", "v1").put("name", name).put("versions", vs)
        .put("preferredVersion", vs.getJsonObject(0));
  }

  private static final java.util.regex.Pattern KUBE_VERSION = java.util.regex.Pattern.compile("v(\\d+)(?:(alpha|beta)(\\d+))?");

  /**
   * A group's versions in kube's version priority, the first the preferred one: GA before beta before alpha, a
   * higher major (then minor) first within each; names not of that form last, alphabetically (v2, v1, v2beta1,
   * v1beta2, v1alpha1, foo).
   */
  static java.util.List<String> byPriority(java.util.Collection<String> versions) {
    return versions.stream().sorted(java.util.Comparator.comparingInt((String v) -> -stability(v))
        .thenComparing((a, b) -> {
          java.util.regex.Matcher x = KUBE_VERSION.matcher(a);
          java.util.regex.Matcher y = KUBE_VERSION.matcher(b);
          if (!x.matches() || !y.matches()) return a.compareTo(b);
          int major = Long.compare(Long.parseLong(y.group(1)), Long.parseLong(x.group(1)));
          if (major != 0 || x.group(3) == null) return major;
          return Long.compare(Long.parseLong(y.group(3)), Long.parseLong(x.group(3)));
        })).toList();
  }

  private static int stability(String version) {
    java.util.regex.Matcher m = KUBE_VERSION.matcher(version);
    if (!m.matches()) return 0;
    return m.group(2) == null ? 3 : m.group(2).equals("beta") ? 2 : 1;
  }

  public static JsonObject resourceList(Resources resources, String group, String version) {
    JsonArray list = new JsonArray();
    for (ResourceType t : inGroupVersion(resources, group, version)) list.addAll(t.discoveryEntries());
    return new JsonObject().put("kind", "APIResourceList").put("apiVersion", "v1")
        .put("groupVersion", group.isEmpty() ? version : group + "/" + version).put("resources", list);
  }

  public static JsonObject version() {
    return new JsonObject().put("major", "1").put("minor", "35").put("gitVersion", KUBERNETES_VERSION + "+kvx")
        .put("gitCommit", "kvx").put("gitTreeState", "clean").put("buildDate", "2026-11-23T00:00:00Z")
        .put("goVersion", "java" + Runtime.version().feature()).put("compiler", "javac")
        .put("platform", "linux/amd64");
  }

  public static final String AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

  /** Whether the client asked for aggregated discovery (and did not rank it below plain JSON). */
  public static boolean wantsAggregated(String accept) {
    return accept != null && accept.contains("g=apidiscovery.k8s.io") && accept.contains("v=v2")
        && accept.contains("as=APIGroupDiscoveryList");
  }

  /**
   * Aggregated discovery (apidiscovery.k8s.io/v2): every group's versions and resources in one
   * document; {@code core} selects /api (the legacy group) or /apis (all named groups).
   */
  public static JsonObject aggregated(Resources resources, boolean core) {
    JsonArray items = new JsonArray();
    for (Map.Entry<String, Set<String>> g : allGroups(resources).entrySet()) {
      if (core != g.getKey().isEmpty()) continue;
      JsonArray versions = new JsonArray();
      for (String v : byPriority(g.getValue())) {
        JsonArray res = new JsonArray();
        for (ResourceType t : inGroupVersion(resources, g.getKey(), v)) res.add(aggregatedResource(t));
        versions.add(new JsonObject().put("version", v).put("resources", res).put("freshness", "Current"));
      }
      JsonObject meta = new JsonObject();
      if (!core) meta.put("name", g.getKey());
      items.add(new JsonObject().put("metadata", meta).put("versions", versions));
    }
    return new JsonObject().put("kind", "APIGroupDiscoveryList").put("apiVersion", "apidiscovery.k8s.io/v2")
        .put("metadata", new JsonObject()).put("items", items);
  }

  private static JsonObject aggregatedResource(ResourceType t) {
    JsonArray entries = t.discoveryEntries();
    JsonObject main = entries.getJsonObject(0);
    JsonObject out = new JsonObject().put("resource", t.plural())
        .put("responseKind", new JsonObject().put("group", t.group()).put("version", t.version()).put("kind", t.kind()))
        .put("scope", t.namespaced() ? "Namespaced" : "Cluster").put("singularResource", t.singular())
        .put("verbs", main.getJsonArray("verbs"));
    if (main.containsKey("shortNames")) out.put("shortNames", main.getJsonArray("shortNames"));
    if (main.containsKey("categories")) out.put("categories", main.getJsonArray("categories"));
    JsonArray subs = new JsonArray();
    for (int i = 1; i < entries.size(); i++) {
      JsonObject e = entries.getJsonObject(i);
      String name = e.getString("name");
      subs.add(new JsonObject().put("subresource", name.substring(name.indexOf('/') + 1))
          .put("responseKind", new JsonObject().put("group", e.getString("group", t.group()))
              .put("version", e.getString("version", t.version())).put("kind", e.getString("kind")))
          .put("verbs", e.getJsonArray("verbs")));
    }
    if (!subs.isEmpty()) out.put("subresources", subs);
    return out;
  }
}
