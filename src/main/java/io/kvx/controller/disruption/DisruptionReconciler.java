package io.kvx.controller.disruption;

import io.kvx.api.Meta;
import io.kvx.api.PodDisruption;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.function.Consumer;

/**
 * The disruption controller: keeps each PodDisruptionBudget's status (expected and healthy pods,
 * disruptions allowed, the DisruptionAllowed condition) current from its pods, and forgets the
 * evictions it records once their pods are going or two minutes have passed, so `kubectl get pdb`
 * shows what an eviction would be told.
 */
public final class DisruptionReconciler implements Reconciler {

  private final Cache budgets;
  private final Cache pods;
  private final ApiClient client;
  private final EventRecorder events;

  public DisruptionReconciler(Cache budgets, Cache pods, ApiClient client, EventRecorder events,
                              Consumer<String> enqueue) {
    this.budgets = budgets;
    this.pods = pods;
    this.client = client;
    this.events = events;
    budgets.listen(c -> enqueue.accept(Cache.key(c.object())));
    pods.listen(c -> {
      for (JsonObject pdb : budgets.list(Meta.namespace(c.object()))) {
        if (PodDisruption.covers(pdb, c.object())) enqueue.accept(Cache.key(pdb));
      }
    });
  }

  @Override
  public String name() {
    return "disruption";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject pdb = budgets.get(key);
    if (pdb == null) return Future.succeededFuture(Result.DONE);
    Instant now = Instant.now();
    if (pods.list(Meta.namespace(pdb)).stream().noneMatch(p -> PodDisruption.covers(pdb, p))) {
      events.normal(pdb, "NoPods", "No matching pods found");
    }
    JsonObject status = PodDisruption.status(pdb, pods.list(Meta.namespace(pdb)), now);
    long expiry = PodDisruption.nextExpiryMillis(pdb, now);
    Result result = expiry > 0 ? Result.after(expiry + 100) : Result.DONE;
    JsonObject old = pdb.getJsonObject("status", new JsonObject());
    if (status.equals(old)) return Future.succeededFuture(result);
    // disruptedPods entries the new status drops are removed by name (a merge patch keeps absent keys).
    JsonObject patch = status.copy();
    JsonObject disrupted = status.getJsonObject("disruptedPods", new JsonObject()).copy();
    old.getJsonObject("disruptedPods", new JsonObject()).fieldNames().forEach(name -> {
      if (!disrupted.containsKey(name)) disrupted.putNull(name);
    });
    if (!disrupted.isEmpty()) patch.put("disruptedPods", disrupted);
    return client.mergePatch(budgets.type(), Meta.namespace(pdb), Meta.name(pdb), "status",
        new JsonObject().put("status", patch)).map(result);
  }
}
