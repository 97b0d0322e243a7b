package io.kvx.controller.replicaset;

import io.kvx.api.ApiError;
import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Claiming;
import io.kvx.controller.Claims;
import io.kvx.controller.Expectations;
import io.kvx.controller.Reconciler;
import io.kvx.controller.Workloads;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The ReplicaSet controller (and, with the core type, the ReplicationController manager): keeps
 * spec.replicas active pods that match the selector, adopting orphans and releasing pods that no
 * longer match, deleting the most expendable pods first, and keeps status counts current.
 */
public final class ReplicaSetReconciler implements Reconciler {

  /** How many pods one sync creates at most: the rest come on the next sync (slow start). */
  private static final int BURST = 500;

  private final ResourceType type;
  private final Cache sets;
  private final Cache pods;
  private final ApiClient client;
  private final EventRecorder events;
  private final Expectations expectations = new Expectations();

  public ReplicaSetReconciler(ResourceType type, Cache sets, Cache pods, ApiClient client, EventRecorder events,
                              Consumer<String> enqueue) {
    this.type = type;
    this.sets = sets;
    this.pods = pods;
    this.client = client;
    this.events = events;
    sets.listen(c -> enqueue.accept(Cache.key(c.object())));
    pods.listen(c -> {
      String key = expectations.observePod(c, type.kind());
      if (key != null) enqueue.accept(key);
      else Claiming.wakeSelecting(c, sets, enqueue);
    });
  }

  @Override
  public String name() {
    return type.plural();
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject set = sets.get(key);
    if (set == null) {
      expectations.forget(key);
      return Future.succeededFuture(Result.DONE);
    }
    // A set being deleted neither adopts nor releases nor manages replicas (Kubernetes'
    // ControllerRefManager); it only keeps its status current.
    boolean deleting = Workloads.isDeleting(set);
    String ns = Meta.namespace(set);
    LabelSelector selector = Claims.selectorOf(set);
    // The pods this set controls and the namespace's active orphans (the controller-uid index Kubernetes'
    // ReplicaSet controller keeps), not every pod of the namespace: a pod controlled by another owner
    // is never this set's to adopt or release, and a finished orphan is not worth adopting.
    List<JsonObject> candidates = pods.controlledBy(Meta.uid(set));
    pods.orphans(ns).stream().filter(Workloads::isActive).forEach(candidates::add);
    Claims.Decision claims = Claims.decide(Claims.Owner.of(set), selector, candidates);
    JsonObject spec = set.getJsonObject("spec", new JsonObject());
    int replicas = spec.getInteger("replicas", 1);
    int minReady = spec.getInteger("minReadySeconds", 0);
    // A claim that failed (other than the pod being gone) fails the sync, which backs off and retries,
    // before any pod is created or deleted: counting on a pod not really adopted would leave one too
    // many or too few.
    return Claiming.apply(client, type, set, Resources.PODS, claims).compose(owned -> {
      List<JsonObject> active = owned.stream().filter(Workloads::isActive).toList();
      long now = System.currentTimeMillis();
      int diff = !deleting && expectations.satisfied(key, now) ? active.size() - replicas : 0;
      Instant instant = Instant.now();
      Future<Void> manage = diff < 0 ? createPods(key, set, Math.min(-diff, BURST))
          : diff > 0 ? deletePods(key, set, active, diff) : Future.succeededFuture();
      // The status is written either way; a failed create is its ReplicaFailure condition (as kube's), and the sync
      // fails after it, to be retried.
      return manage.transform(ar -> updateStatus(set, owned, selector, instant,
              ar.failed() && diff < 0 ? ar.cause() : null)
          .compose(x -> ar.failed() ? Future.<Void>failedFuture(ar.cause()) : Future.<Void>succeededFuture())).map(x -> {
        // A pod that becomes available only after minReadySeconds needs another look then.
        long wait = active.stream().mapToLong(p -> Workloads.secondsUntilAvailable(p, minReady, instant))
            .filter(s -> s > 0).min().orElse(0);
        return wait > 0 ? Result.after(wait * 1000 + 100) : Result.DONE;
      });
    });
  }

  private Future<Void> createPods(String key, JsonObject set, int count) {
    expectations.expect(key, count, 0, System.currentTimeMillis());
    JsonObject template = set.getJsonObject("spec").getJsonObject("template", new JsonObject());
    List<Future<?>> creates = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      JsonObject pod = Workloads.podFromTemplate(template, set, Meta.name(set) + "-");
      creates.add(client.create(Resources.PODS, Meta.namespace(set), pod)
          .onSuccess(p -> events.normal(set, "SuccessfulCreate", "Created pod: " + Meta.name(p)))
          .onFailure(e -> {
            expectations.lower(key, 1, 0);
            events.warning(set, "FailedCreate", "Error creating: " + e.getMessage());
          }));
    }
    return Future.join(creates).mapEmpty();
  }

  private Future<Void> deletePods(String key, JsonObject set, List<JsonObject> active, int count) {
    List<JsonObject> victims = active.stream().sorted(Workloads.DELETE_FIRST).limit(count).toList();
    expectations.expect(key, 0, victims.size(), System.currentTimeMillis());
    List<Future<?>> deletes = new ArrayList<>();
    for (JsonObject pod : victims) {
      deletes.add(client.delete(Resources.PODS, Meta.namespace(pod), Meta.name(pod), null)
          .onSuccess(p -> events.normal(set, "SuccessfulDelete", "Deleted pod: " + Meta.name(pod)))
          .onFailure(e -> {
            expectations.lower(key, 0, 1);
            if (!ApiError.is(e, ApiError.Reason.NotFound)) {
              events.warning(set, "FailedDelete", "Error deleting: " + e.getMessage());
            }
          }));
    }
    return Future.join(deletes).mapEmpty();
  }

  private Future<Void> updateStatus(JsonObject set, List<JsonObject> owned, LabelSelector selector, Instant now,
                                    Throwable failure) {
    JsonObject spec = set.getJsonObject("spec", new JsonObject());
    int minReady = spec.getInteger("minReadySeconds", 0);
    JsonObject templateLabels = spec.getJsonObject("template", new JsonObject())
        .getJsonObject("metadata", new JsonObject()).getJsonObject("labels", new JsonObject());
    int replicas = 0;
    int fully = 0;
    int ready = 0;
    int available = 0;
    for (JsonObject pod : owned) {
      if (!Workloads.isActive(pod)) continue;
      replicas++;
      if (LabelSelector.fromMatchLabels(templateLabels).matches(Meta.labels(pod))) fully++;
      if (Workloads.isReady(pod)) ready++;
      if (Workloads.isAvailable(pod, minReady, now)) available++;
    }
    JsonObject old = set.getJsonObject("status", new JsonObject());
    JsonObject status = new JsonObject().put("replicas", replicas).put("fullyLabeledReplicas", fully)
        .put("readyReplicas", ready).put("availableReplicas", available)
        .put("observedGeneration", Meta.meta(set).getLong("generation", 1L));
    JsonArray conditions = new JsonArray();
    for (Object o : old.getJsonArray("conditions", new JsonArray())) {
      if (!"ReplicaFailure".equals(((JsonObject) o).getString("type"))) conditions.add(o);
    }
    if (failure != null) {
      // As kube's: the condition is set once and kept as it is while creates keep failing (a new message each time,
      // naming another generated pod, would be a status write and a resync per failure, defeating the back-off).
      JsonObject was = Workloads.condition(set, "ReplicaFailure");
      conditions.add(was != null ? was : new JsonObject().put("type", "ReplicaFailure").put("status", "True")
          .put("reason", "FailedCreate").put("message", failure.getMessage() != null ? failure.getMessage()
              : String.valueOf(failure))
          .put("lastTransitionTime", now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()));
    }
    if (!conditions.isEmpty()) status.put("conditions", conditions);
    if (status.equals(normalized(old))) return Future.succeededFuture();
    return client.mergePatch(type, Meta.namespace(set), Meta.name(set), "status",
        new JsonObject().put("status", status)).mapEmpty();
  }

  private static JsonObject normalized(JsonObject status) {
    JsonObject n = new JsonObject();
    for (String f : List.of("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas")) {
      n.put(f, status.getInteger(f, 0));
    }
    n.put("observedGeneration", status.getLong("observedGeneration", 0L));
    if (status.getJsonArray("conditions") != null) n.put("conditions", status.getJsonArray("conditions"));
    return n;
  }
}
