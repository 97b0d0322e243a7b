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

  public static JsonObject groups(Resources resources) {
    JsonArray groups = new JsonArray();
    for (Map.Entry<String, Set<String>> g : resources.groups().entrySet()) {
      if (g.getKey().isEmpty()) continue;
      groups.add(group(g.getKey(), g.getValue()));
    }
    return new JsonObject().put("kind", "APIGroupList").put("apiVersion", "v1").put("groups", groups);
  }

  public static JsonObject group(String name, Set<String> versions) {
    JsonArray vs = new JsonArray();
    for (String v : versions) vs.add(new JsonObject().put("groupVersion", name + "/" + v).put("version", v));
    return new JsonObject().put("kind", "APIGroup").put("apiVersion", "v1").put("name", name).put("versions", vs)
        .put("preferredVersion", vs.getJsonObject(0));
  }

  public static JsonObject resourceList(Resources resources, String group, String version) {
    JsonArray list = new JsonArray();
    for (ResourceType t : resources.inGroupVersion(group, version)) list.addAll(t.discoveryEntries());
    return new JsonObject().put("kind", "APIResourceList").put("apiVersion", "v1")
        .put("groupVersion", group.isEmpty() ? version : group + "/" + version).put("resources", list);
  }

  public static JsonObject version() {
    return new JsonObject().put("major", "1").put("minor", "35").put("gitVersion", KUBERNETES_VERSION + "+kvx")
        .put("gitCommit", "kvx").put("gitTreeState", "clean").put("buildDate", "2026-11-23T00:00:00Z")
        .put("goVersion", "java" + Runtime.version().feature()).put("compiler", "javac")
        .put("platform", "linux/amd64");
  }
}
