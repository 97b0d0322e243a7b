package io.kvx.controller.statefulset;

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
import io.kvx.controller.Revisions;
import io.kvx.controller.Workloads;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The StatefulSet controller: stable members {@code <name>-<ordinal>} with their claims, in order
 * ({@link StatefulSetPlan}), and ControllerRevisions that name the current and the update revision.
 */
public final class StatefulSetReconciler implements Reconciler {

  private static final ResourceType SETS = Resources.builtIn("apps", "statefulsets");
  private static final ResourceType REVISIONS = Resources.builtIn("apps", "controllerrevisions");
  private static final ResourceType CLAIMS = Resources.builtIn("", "persistentvolumeclaims");

  private final Cache sets;
  private final Cache pods;
  private final Cache revisions;
  private final ApiClient client;
  private final EventRecorder events;
  private final Expectations expectations = new Expectations();

  public StatefulSetReconciler(Cache sets, Cache pods, Cache revisions, ApiClient client, EventRecorder events,
                               Consumer<String> enqueue) {
    this.sets = sets;
    this.pods = pods;
    this.revisions = revisions;
    this.client = client;
    this.events = events;
    sets.listen(c -> enqueue.accept(Cache.key(c.object())));
    pods.listen(c -> {
      String key = expectations.observePod(c, "StatefulSet");
      if (key != null) enqueue.accept(key);
      else Claiming.wakeSelecting(c, sets, enqueue);
    });
  }

  @Override
  public String name() {
    return "statefulset";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject set = sets.get(key);
    if (set == null) {
      expectations.forget(key);
      return Future.succeededFuture(Result.DONE);
    }
    if (Workloads.isDeleting(set)) return Future.succeededFuture(Result.DONE);
    String ns = Meta.namespace(set);
    // Claims as Kubernetes' StatefulSet controller makes them: pods that match the selector and are named
    // after the set are adopted (those that stop matching released); orphan ControllerRevisions that
    // match are adopted, never released.
    Claims.Owner owner = Claims.Owner.of(set);
    LabelSelector selector = Claims.selectorOf(set);
    Claims.Decision podClaims = Claims.decide(owner, selector, p -> StatefulSetPlan.ordinal(set, p) >= 0,
        pods.list(ns));
    Claims.Decision revisionClaims = Claims.decide(owner, selector, revisions.list(ns));
    return Claiming.apply(client, SETS, set, REVISIONS,
            new Claims.Decision(revisionClaims.owned(), revisionClaims.adopt(), List.of()))
        .compose(mine -> Claiming.apply(client, SETS, set, Resources.PODS, podClaims)
            .compose(owned -> sync(key, set, mine, owned)));
  }

  private Future<Result> sync(String key, JsonObject set, List<JsonObject> mine, List<JsonObject> owned) {
    String ns = Meta.namespace(set);
    JsonObject spec = set.getJsonObject("spec", new JsonObject());
    String hash = Workloads.templateHash(spec.getJsonObject("template", new JsonObject()));
    String updateRevision = Revisions.name(set, hash);
    String statusRevision = set.getJsonObject("status", new JsonObject()).getString("currentRevision");
    boolean known = statusRevision != null && mine.stream().anyMatch(r -> Meta.name(r).equals(statusRevision));
    String current = known ? statusRevision : updateRevision;
    return syncRevisions(set, hash, mine, owned, current).compose(v -> {
      long nowMs = System.currentTimeMillis();
      if (!expectations.satisfied(key, nowMs)) return Future.succeededFuture(Result.DONE);
      Instant now = Instant.ofEpochMilli(nowMs);
      StatefulSetPlan.Plan plan = StatefulSetPlan.plan(set, owned, current, updateRevision, now);
      if (!plan.create().isEmpty() || !plan.delete().isEmpty()) {
        expectations.expect(key, plan.create().size(), plan.delete().size(), nowMs);
      }
      List<Future<?>> actions = new ArrayList<>();
      for (int ordinal : plan.create()) {
        String revision = StatefulSetPlan.revisionFor(set, ordinal, current, updateRevision);
        JsonObject recorded = revision.equals(updateRevision) ? null : Revisions.template(mine.stream()
            .filter(r -> Meta.name(r).equals(revision)).findFirst().orElse(null));
        JsonObject template = recorded != null ? recorded : spec.getJsonObject("template", new JsonObject());
        JsonObject pod = StatefulSetPlan.pod(set, template, revision, ordinal);
        actions.add(createClaims(set, Meta.name(pod)).compose(x -> client.create(Resources.PODS, ns, pod))
            .onSuccess(p -> events.normal(set, "SuccessfulCreate", "create Pod " + Meta.name(p) + " in StatefulSet "
                + Meta.name(set) + " successful"))
            .onFailure(e -> {
              expectations.lower(key, 1, 0);
              if (!ApiError.is(e, ApiError.Reason.AlreadyExists)) {
                events.warning(set, "FailedCreate", "create Pod " + Meta.name(pod) + " in StatefulSet "
                    + Meta.name(set) + " failed error: " + e.getMessage());
              }
            }));
      }
      for (JsonObject pod : plan.delete()) {
        actions.add(client.delete(Resources.PODS, ns, Meta.name(pod), null)
            .onSuccess(p -> events.normal(set, "SuccessfulDelete", "delete Pod " + Meta.name(pod) + " in StatefulSet "
                + Meta.name(set) + " successful"))
            .onFailure(e -> expectations.lower(key, 0, 1)));
      }
      for (String claim : plan.deleteClaims()) {
        actions.add(client.delete(CLAIMS, ns, claim, null)
            .onSuccess(c -> events.normal(set, "SuccessfulDelete", "delete Claim " + claim + " in StatefulSet "
                + Meta.name(set) + " success"))
            .recover(ApiError.ignoring(ApiError.Reason.NotFound)));
      }
      return Future.join(actions).transform(x -> writeStatus(set, plan.status()))
          .map(x -> plan.requeueAfterMs() > 0 ? Result.after(plan.requeueAfterMs()) : Result.DONE);
    });
  }

  private Future<Void> createClaims(JsonObject set, String podName) {
    List<Future<?>> creates = new ArrayList<>();
    for (JsonObject claim : StatefulSetPlan.claims(set, podName)) {
      creates.add(client.create(CLAIMS, Meta.namespace(set), claim)
          .onSuccess(c -> events.normal(set, "SuccessfulCreate", "create Claim " + Meta.name(c) + " Pod " + podName
              + " in StatefulSet " + Meta.name(set) + " success"))
          .recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists) ? Future.succeededFuture()
              : Future.failedFuture(e)));
    }
    return Future.all(creates).mapEmpty();
  }

  private Future<Void> syncRevisions(JsonObject set, String hash, List<JsonObject> mine, List<JsonObject> owned,
                                     String currentRevision) {
    String name = Revisions.name(set, hash);
    long max = Revisions.maxNumber(mine);
    JsonObject existing = mine.stream().filter(r -> Meta.name(r).equals(name)).findFirst().orElse(null);
    Future<?> ensure;
    if (existing == null) {
      ensure = client.create(REVISIONS, Meta.namespace(set), Revisions.revision(set, hash, max + 1))
          .recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists) ? Future.succeededFuture()
              : Future.failedFuture(e));
    } else if (Revisions.number(existing) < max) {
      // A rollback to an earlier template: that revision becomes the newest.
      ensure = client.mergePatch(REVISIONS, Meta.namespace(set), name, null, new JsonObject().put("revision", max + 1));
    } else {
      ensure = Future.succeededFuture();
    }
    Set<String> inUse = new HashSet<>();
    inUse.add(name);
    inUse.add(currentRevision);
    for (JsonObject pod : owned) {
      String r = StatefulSetPlan.revisionOf(pod);
      if (r != null) inUse.add(r);
    }
    int limit = set.getJsonObject("spec", new JsonObject()).getInteger("revisionHistoryLimit", 10);
    List<Future<?>> prunes = new ArrayList<>();
    for (JsonObject r : Revisions.prunable(mine, inUse, limit)) {
      prunes.add(client.delete(REVISIONS, Meta.namespace(set), Meta.name(r), null));
    }
    return Future.join(ensure, Future.join(prunes)).mapEmpty();
  }

  private Future<Void> writeStatus(JsonObject set, JsonObject status) {
    JsonObject old = set.getJsonObject("status", new JsonObject());
    if (status.equals(old)) return Future.succeededFuture();
    return client.mergePatch(SETS, Meta.namespace(set), Meta.name(set), "status",
        new JsonObject().put("status", status)).mapEmpty();
  }
}
