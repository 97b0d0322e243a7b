package io.kvx.apiserver;

import io.kvx.api.ResourceType;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One API call, whichever transport carried it (HTTP or the event bus). {@code namespace} is null for
 * cluster-scoped calls and for list/watch across all namespaces. {@code warnings} collects what the
 * reply should warn about (HTTP sends them as Warning headers). {@code userAgent} names the client
 * (HTTP User-Agent; null over the bus). {@code created} is set when a verb other than create made the
 * object (a server-side apply of a new object), so HTTP answers 201 as Kubernetes does. {@code user} is who asked
 * (admission webhooks are told; null: a kvx component over the bus).
 */
public record ApiRequest(String verb, ResourceType type, String namespace, String name, String subresource,
                         JsonObject body, String patchType, Map<String, String> query, List<String> warnings,
                         String userAgent, AtomicBoolean created, io.kvx.rbac.UserInfo user) {

  public ApiRequest(String verb, ResourceType type, String namespace, String name, String subresource,
                    JsonObject body, String patchType, Map<String, String> query, List<String> warnings,
                    String userAgent) {
    this(verb, type, namespace, name, subresource, body, patchType, query, warnings, userAgent, new AtomicBoolean(), null);
  }

  public ApiRequest(String verb, ResourceType type, String namespace, String name, String subresource,
                    JsonObject body, String patchType, Map<String, String> query) {
    this(verb, type, namespace, name, subresource, body, patchType, query, new ArrayList<>(), null);
  }

  public ApiRequest(String verb, ResourceType type, String namespace, String name, String subresource,
                    JsonObject body, String patchType, Map<String, String> query, List<String> warnings) {
    this(verb, type, namespace, name, subresource, body, patchType, query, warnings, null);
  }

  /** The same request as sent by {@code userAgent} (the default field manager comes from it). */
  public ApiRequest withUserAgent(String agent) {
    return new ApiRequest(verb, type, namespace, name, subresource, body, patchType, query, warnings, agent, created,
        user);
  }

  /** The same request, asked by {@code who}. */
  public ApiRequest withUser(io.kvx.rbac.UserInfo who) {
    return new ApiRequest(verb, type, namespace, name, subresource, body, patchType, query, warnings, userAgent, created,
        who);
  }

  /** A server-side apply: PATCH with application/apply-patch+yaml (or +json, +cbor). */
  public boolean isApply() {
    return patchType != null && patchType.startsWith("application/apply-patch");
  }

  public String param(String key) {
    return query.get(key);
  }

  /**
   * A dry run: ?dryRun=All, or, for a delete, the DeleteOptions body's dryRun (where kubectl puts it), and for an
   * eviction its deleteOptions' dryRun.
   */
  public boolean dryRun() {
    if ("All".equals(query.get("dryRun"))) return true;
    Object dryRun = deleteOptions() == null ? null : deleteOptions().getValue("dryRun");
    return dryRun instanceof io.vertx.core.json.JsonArray a && a.contains("All");
  }

  /** The DeleteOptions a delete or an eviction carries in its body, or null. */
  public JsonObject deleteOptions() {
    if (body == null) return null;
    if (verb.equals("delete") || verb.equals("deletecollection")) return body;
    return "eviction".equals(subresource) && body.getValue("deleteOptions") instanceof JsonObject o ? o : null;
  }
}
