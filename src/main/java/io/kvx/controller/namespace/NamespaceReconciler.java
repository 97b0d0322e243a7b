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
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Namespace lifecycle: a Terminating namespace has everything in it deleted, type by type, and once
 * nothing is left its "kubernetes" finalizer is removed so that it goes away.
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
    List<Future<Boolean>> checks = new ArrayList<>();
    for (ResourceType t : types.get()) {
      if (!t.namespaced()) continue;
      checks.add(client.list(t, key).compose(items -> {
        if (items.isEmpty()) return Future.succeededFuture(false);
        return client.deleteCollection(t, key).map(true).otherwise(true);
      }));
    }
    return Future.join(checks).transform(ar -> {
      boolean remaining = checks.stream().anyMatch(f -> f.succeeded() ? f.result() : true);
      if (remaining) return Future.succeededFuture(Result.after(RECHECK_MS));
      JsonArray finalizers = new JsonArray();
      for (Object f : ns.getJsonObject("spec", new JsonObject()).getJsonArray("finalizers", new JsonArray())) {
        if (!"kubernetes".equals(f)) finalizers.add(f);
      }
      return client.mergePatch(Resources.NAMESPACES, null, key, "finalize", new JsonObject().put("spec",
          new JsonObject().put("finalizers", finalizers))).map(Result.DONE);
    });
  }
}
