package io.kvx.controller.daemonset;

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
 * The DaemonSet controller: one pod per eligible node ({@link DaemonSetPlan}), created with the node
 * already chosen, following nodes as they come, go and change; RollingUpdate or OnDelete updates;
 * a ControllerRevision per template for `kubectl rollout history`.
 */
public final class DaemonSetReconciler implements Reconciler {

  private static final ResourceType DAEMONSETS = Resources.builtIn("apps", "daemonsets");
  private static final ResourceType REVISIONS = Resources.builtIn("apps", "controllerrevisions");

  private final Cache sets;
  private final Cache nodes;
  private final Cache pods;
  private final Cache revisions;
  private final ApiClient client;
  private final EventRecorder events;
  private final Expectations expectations = new Expectations();

  public DaemonSetReconciler(Cache sets, Cache nodes, Cache pods, Cache revisions, ApiClient client,
                             EventRecorder events, Consumer<String> enqueue) {
    this.sets = sets;
    this.nodes = nodes;
    this.pods = pods;
    this.revisions = revisions;
    this.client = client;
    this.events = events;
    sets.listen(c -> enqueue.accept(Cache.key(c.object())));
    nodes.listen(c -> {
      if (c.old() != null && c.current() != null && sameScheduling(c.old(), c.current())) return;
      sets.all().forEach(ds -> enqueue.accept(Cache.key(ds)));
    });
    pods.listen(c -> {
      JsonObject pod = c.object();
      JsonObject ref = Workloads.controllerRef(pod);
      if (ref == null) Claiming.wakeSelecting(c, sets, enqueue);
      if (ref == null || !"DaemonSet".equals(ref.getString("kind"))) return;
      String key = Meta.namespace(pod) + "/" + ref.getString("name");
      if (c.old() == null) expectations.observedAdd(key);
      if (c.current() == null || (Workloads.isDeleting(pod) && (c.old() == null || !Workloads.isDeleting(c.old())))) {
        expectations.observedDelete(key);
      }
      enqueue.accept(key);
    });
  }

  /** Node heartbeats change status every few seconds; only labels, taints and deletion matter here. */
  private static boolean sameScheduling(JsonObject a, JsonObject b) {
    return Meta.labels(a).equals(Meta.labels(b))
        && a.getJsonObject("spec", new JsonObject()).equals(b.getJsonObject("spec", new JsonObject()))
        && Workloads.isDeleting(a) == Workloads.isDeleting(b);
  }

  @Override
  public String name() {
    return "daemonset";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject ds = sets.get(key);
    if (ds == null) {
      expectations.forget(key);
      return Future.succeededFuture(Result.DONE);
    }
    if (Workloads.isDeleting(ds)) return Future.succeededFuture(Result.DONE);
    String ns = Meta.namespace(ds);
    // Claims as Kubernetes' DaemonSet controller makes them, for its ControllerRevisions and its pods:
    // matching orphans adopted, owned objects that no longer match released.
    Claims.Owner owner = Claims.Owner.of(ds);
    LabelSelector selector = Claims.selectorOf(ds);
    Claims.Decision revisionClaims = Claims.decide(owner, selector, revisions.list(ns));
    Claims.Decision podClaims = Claims.decide(owner, selector, pods.list(ns));
    return Claiming.apply(client, DAEMONSETS, ds, REVISIONS, revisionClaims)
        .compose(mine -> Claiming.apply(client, DAEMONSETS, ds, Resources.PODS, podClaims)
            .compose(owned -> sync(key, ds, mine, owned)));
  }

  private Future<Result> sync(String key, JsonObject ds, List<JsonObject> mine, List<JsonObject> owned) {
    String ns = Meta.namespace(ds);
    JsonObject template = ds.getJsonObject("spec", new JsonObject()).getJsonObject("template", new JsonObject());
    String hash = Workloads.templateHash(template);
    return syncRevisions(ds, hash, mine, owned).compose(v -> {
      long nowMs = System.currentTimeMillis();
      if (!expectations.satisfied(key, nowMs)) return Future.succeededFuture(Result.DONE);
      DaemonSetPlan.Plan plan = DaemonSetPlan.plan(ds, nodes.all(), owned, hash, Instant.ofEpochMilli(nowMs));
      if (!plan.createOn().isEmpty() || !plan.delete().isEmpty()) {
        expectations.expect(key, plan.createOn().size(), plan.delete().size(), nowMs);
      }
      List<Future<?>> actions = new ArrayList<>();
      for (String node : plan.createOn()) {
        actions.add(client.create(Resources.PODS, ns, DaemonSetPlan.pod(ds, template, hash, node))
            .onSuccess(p -> events.normal(ds, "SuccessfulCreate", "Created pod: " + Meta.name(p)))
            .onFailure(e -> {
              expectations.lower(key, 1, 0);
              events.warning(ds, "FailedCreate", "Error creating: " + e.getMessage());
            }));
      }
      for (JsonObject pod : plan.delete()) {
        actions.add(client.delete(Resources.PODS, ns, Meta.name(pod), null)
            .onSuccess(p -> events.normal(ds, "SuccessfulDelete", "Deleted pod: " + Meta.name(pod)))
            .onFailure(e -> {
              expectations.lower(key, 0, 1);
              if (!ApiError.is(e, ApiError.Reason.NotFound)) {
                events.warning(ds, "FailedDelete", "Error deleting: " + e.getMessage());
              }
            }));
      }
      return Future.join(actions).transform(x -> writeStatus(ds, plan.status()))
          .map(x -> plan.requeueAfterMs() > 0 ? Result.after(plan.requeueAfterMs()) : Result.DONE);
    });
  }

  /** The revision for the current template exists and is the newest; old ones beyond the limit go. */
  private Future<Void> syncRevisions(JsonObject ds, String hash, List<JsonObject> mine, List<JsonObject> owned) {
    String name = Revisions.name(ds, hash);
    long max = Revisions.maxNumber(mine);
    JsonObject currentRev = mine.stream().filter(r -> Meta.name(r).equals(name)).findFirst().orElse(null);
    Future<?> ensure;
    if (currentRev == null) {
      ensure = client.create(REVISIONS, Meta.namespace(ds), Revisions.revision(ds, hash, max + 1))
          .recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists) ? Future.succeededFuture()
              : Future.failedFuture(e));
    } else if (Revisions.number(currentRev) < max) {
      ensure = client.mergePatch(REVISIONS, Meta.namespace(ds), name, null, new JsonObject().put("revision", max + 1));
    } else {
      ensure = Future.succeededFuture();
    }
    Set<String> inUse = new HashSet<>();
    inUse.add(name);
    for (JsonObject pod : owned) {
      String h = DaemonSetPlan.hashOf(pod);
      if (h != null) inUse.add(Revisions.name(ds, h));
    }
    int limit = ds.getJsonObject("spec", new JsonObject()).getInteger("revisionHistoryLimit", 10);
    List<Future<?>> prunes = new ArrayList<>();
    for (JsonObject r : Revisions.prunable(mine, inUse, limit)) {
      prunes.add(client.delete(REVISIONS, Meta.namespace(ds), Meta.name(r), null));
    }
    return Future.join(ensure, Future.join(prunes)).mapEmpty();
  }

  private Future<Void> writeStatus(JsonObject ds, JsonObject status) {
    JsonObject old = ds.getJsonObject("status", new JsonObject());
    if (status.equals(old)) return Future.succeededFuture();
    JsonObject patch = status.copy();
    for (String f : old.fieldNames()) {
      if (!patch.containsKey(f)) patch.putNull(f);
    }
    return client.mergePatch(DAEMONSETS, Meta.namespace(ds), Meta.name(ds), "status",
        new JsonObject().put("status", patch)).mapEmpty();
  }
}
