package io.kvx.apiserver;

import io.kvx.api.ResourceType;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One API call, whichever transport carried it (HTTP or the event bus). {@code namespace} is null for
 * cluster-scoped calls and for list/watch across all namespaces. {@code warnings} collects what the
 * reply should warn about (HTTP sends them as Warning headers).
 */
public record ApiRequest(String verb, ResourceType type, String namespace, String name, String subresource,
                         JsonObject body, String patchType, Map<String, String> query, List<String> warnings) {

  public ApiRequest(String verb, ResourceType type, String namespace, String name, String subresource,
                    JsonObject body, String patchType, Map<String, String> query) {
    this(verb, type, namespace, name, subresource, body, patchType, query, new ArrayList<>());
  }

  public String param(String key) {
    return query.get(key);
  }

  public boolean dryRun() {
    return "All".equals(query.get("dryRun"));
  }
}
