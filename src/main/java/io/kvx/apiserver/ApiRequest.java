package io.kvx.apiserver;

import io.kvx.api.ResourceType;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * One API call, whichever transport carried it (HTTP or the event bus). {@code namespace} is null for
 * cluster-scoped calls and for list/watch across all namespaces.
 */
public record ApiRequest(String verb, ResourceType type, String namespace, String name, String subresource,
                         JsonObject body, String patchType, Map<String, String> query) {

  public String param(String key) {
    return query.get(key);
  }

  public boolean dryRun() {
    return "All".equals(query.get("dryRun"));
  }
}
