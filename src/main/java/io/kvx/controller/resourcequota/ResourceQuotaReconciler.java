package io.kvx.controller.resourcequota;

import io.kvx.api.Meta;
import io.kvx.api.Quotas;
import io.kvx.client.ApiClient;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The resource quota controller: keeps every ResourceQuota's status.hard and status.used current
 * from the namespace's pods and object counts, so `kubectl describe quota` shows what is used.
 */
public final class ResourceQuotaReconciler implements Reconciler {

  private final Cache quotas;
  private final Cache pods;
  private final Map<String, Cache> counted;
  private final ApiClient client;

  public ResourceQuotaReconciler(Cache quotas, Cache pods, Map<String, Cache> counted, ApiClient client,
                                 Consumer<String> enqueue) {
    this.quotas = quotas;
    this.pods = pods;
    this.counted = counted;
    this.client = client;
    quotas.listen(c -> enqueue.accept(Cache.key(c.object())));
    Consumer<Cache.Change> inNamespace = c -> {
      for (JsonObject q : quotas.list(Meta.namespace(c.object()))) enqueue.accept(Cache.key(q));
    };
    pods.listen(inNamespace::accept);
    counted.values().forEach(cache -> cache.listen(inNamespace::accept));
  }

  @Override
  public String name() {
    return "resourcequota";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject quota = quotas.get(key);
    if (quota == null) return Future.succeededFuture(Result.DONE);
    String ns = Meta.namespace(quota);
    Map<String, Integer> counts = new HashMap<>();
    counted.forEach((plural, cache) -> counts.put(plural, cache.list(ns).size()));
    List<JsonObject> nsPods = pods.list(ns);
    List<JsonObject> services = counted.containsKey("services") ? counted.get("services").list(ns) : List.of();
    JsonObject status = Quotas.status(quota, Quotas.usage(quota, nsPods, services, counts));
    if (status.equals(quota.getJsonObject("status", new JsonObject()))) return Future.succeededFuture(Result.DONE);
    return client.mergePatch(quotas.type(), ns, Meta.name(quota), "status", new JsonObject().put("status", status))
        .map(Result.DONE);
  }
}
