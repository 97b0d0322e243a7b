package io.kvx.controller.namespace;

import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Namespace lifecycle: a Terminating namespace has everything in it deleted, type by type, and once
 * nothing is left its "kubernetes" finalizer is removed so that it goes away. While content remains,
 * the namespace's status conditions say what is left and which finalizers hold it, in the words of
 * Kubernetes' namespace controller (NamespaceContentRemaining, NamespaceFinalizersRemaining, ...).
 */
public final class NamespaceReconciler implements Reconciler {

  private static final long RECHECK_MS = 1000;

  private final Cache namespaces;
  private final ApiClient client;
  private final Supplier<List<ResourceType>> types;

  public NamespaceReconciler(Cache namespaces, ApiClient client, Supplier<List<ResourceType>> types,
                             Consumer<String> enqueue) {
    this.namespaces = namespaces;
    this.client = client;
    this.types = types;
    namespaces.listen(c -> {
      if (c.current() != null) enqueue.accept(Cache.key(c.current()));
    });
  }

  @Override
  public String name() {
    return "namespace";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject ns = namespaces.get(key);
    if (ns == null || !Meta.meta(ns).containsKey("deletionTimestamp")) return Future.succeededFuture(Result.DONE);
    Map<String, Integer> remaining = new TreeMap<>();
    Map<String, Integer> finalizers = new TreeMap<>();
    List<Future<Boolean>> checks = new ArrayList<>();
    java.util.Set<String> stores = new java.util.HashSet<>();
    for (ResourceType t : types.get()) {
      // Each kind once, however many versions serve it (they share one store).
      if (!t.namespaced() || !stores.add(t.storePrefix())) continue;
      checks.add(client.list(t, key).compose(items -> {
        if (items.isEmpty()) return Future.succeededFuture(false);
        synchronized (remaining) {
          remaining.merge(t.group().isEmpty() ? t.plural() : t.plural() + "." + t.group(), items.size(), Integer::sum);
          for (JsonObject o : items) {
            for (Object f : Meta.meta(o).getJsonArray("finalizers", new JsonArray())) {
              finalizers.merge(String.valueOf(f), 1, Integer::sum);
            }
          }
        }
        return client.deleteCollection(t, key).map(true).otherwise(true);
      }));
    }
    return Future.join(checks).transform(ar -> {
      boolean failed = checks.stream().anyMatch(Future::failed);
      boolean left = checks.stream().anyMatch(f -> f.succeeded() ? f.result() : true);
      if (left) {
        JsonArray conditions = conditions(remaining, finalizers, failed, Meta.now());
        JsonArray current = ns.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray());
        Future<?> patched = sameConditions(current, conditions) ? Future.succeededFuture()
            : client.mergePatch(Resources.NAMESPACES, null, key, "status", new JsonObject().put("status",
                new JsonObject().put("conditions", conditions))).otherwise((JsonObject) null);
        return patched.map(x -> Result.after(RECHECK_MS));
      }
      JsonArray kept = new JsonArray();
      for (Object f : ns.getJsonObject("spec", new JsonObject()).getJsonArray("finalizers", new JsonArray())) {
        if (!"kubernetes".equals(f)) kept.add(f);
      }
      return client.mergePatch(Resources.NAMESPACES, null, key, "finalize", new JsonObject().put("spec",
          new JsonObject().put("finalizers", kept))).map(Result.DONE);
    });
  }

  /**
   * A terminating namespace's conditions for what is left in it: {@code remaining} counts objects per
   * "resource.group", {@code finalizers} objects per finalizer. Pure.
   */
  static JsonArray conditions(Map<String, Integer> remaining, Map<String, Integer> finalizers, boolean deleteFailed,
                              String now) {
    JsonArray out = new JsonArray();
    out.add(condition("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
        "All resources successfully discovered", now));
    out.add(condition("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions",
        "All legacy kube types successfully parsed", now));
    out.add(deleteFailed
        ? condition("NamespaceDeletionContentFailure", true, "ContentDeletionFailed",
            "Failed to delete all resource types, the namespace controller retries", now)
        : condition("NamespaceDeletionContentFailure", false, "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization", now));
    if (remaining.isEmpty()) {
      out.add(condition("NamespaceContentRemaining", false, "ContentRemoved", "All content successfully removed", now));
    } else {
      List<String> parts = new ArrayList<>();
      remaining.forEach((r, n) -> parts.add(r + " has " + n + " resource instances"));
      out.add(condition("NamespaceContentRemaining", true, "SomeResourcesRemain",
          "Some resources are remaining: " + String.join(", ", parts), now));
    }
    if (finalizers.isEmpty()) {
      out.add(condition("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
          "All content-preserving finalizers finished", now));
    } else {
      List<String> parts = new ArrayList<>();
      finalizers.forEach((f, n) -> parts.add(f + " in " + n + " resource instances"));
      out.add(condition("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
          "Some content in the namespace has finalizers remaining: " + String.join(", ", parts), now));
    }
    return out;
  }

  private static JsonObject condition(String type, boolean status, String reason, String message, String now) {
    return new JsonObject().put("type", type).put("status", status ? "True" : "False")
        .put("lastTransitionTime", now).put("reason", reason).put("message", message);
  }

  /** Equal but for the transition times: nothing to write. */
  private static boolean sameConditions(JsonArray a, JsonArray b) {
    if (a.size() != b.size()) return false;
    for (int i = 0; i < a.size(); i++) {
      JsonObject x = a.getJsonObject(i).copy();
      JsonObject y = b.getJsonObject(i).copy();
      x.remove("lastTransitionTime");
      y.remove("lastTransitionTime");
      if (!x.equals(y)) return false;
    }
    return true;
  }
}
