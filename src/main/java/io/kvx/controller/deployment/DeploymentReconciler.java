package io.kvx.controller.deployment;

import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Claiming;
import io.kvx.controller.Claims;
import io.kvx.controller.Reconciler;
import io.kvx.controller.Workloads;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

/**
 * The Deployment controller: one ReplicaSet per pod template (named by the template's hash, with a
 * revision annotation), rolled by RollingUpdate (maxSurge / maxUnavailable) or Recreate, old
 * ReplicaSets pruned to revisionHistoryLimit, and status with the conditions `kubectl rollout status`
 * reads. Scaling decisions are in {@link Rollout}; this class reads caches and writes through the API.
 */
public final class DeploymentReconciler implements Reconciler {

  public static final String REVISION = "deployment.kubernetes.io/revision";
  public static final String HASH_LABEL = "pod-template-hash";

  private final Cache deployments;
  private final Cache sets;
  private final Cache pods;
  private final ApiClient client;
  private final EventRecorder events;
  private final ResourceType rsType = Resources.builtIn("apps", "replicasets");
  private final ResourceType type = Resources.builtIn("apps", "deployments");

  public DeploymentReconciler(Cache deployments, Cache sets, Cache pods, ApiClient client, EventRecorder events,
                              Consumer<String> enqueue) {
    this.deployments = deployments;
    this.sets = sets;
    this.pods = pods;
    this.client = client;
    this.events = events;
    deployments.listen(c -> enqueue.accept(Cache.key(c.object())));
    sets.listen(c -> {
      JsonObject ref = Workloads.controllerRef(c.object());
      if (ref != null && "Deployment".equals(ref.getString("kind"))) {
        enqueue.accept(Meta.namespace(c.object()) + "/" + ref.getString("name"));
      }
      // A ReplicaSet released (or taken) by a change: its former owner looks again too.
      JsonObject oldRef = c.old() == null || c.current() == null ? null : Workloads.controllerRef(c.old());
      if (oldRef != null && "Deployment".equals(oldRef.getString("kind"))
          && (ref == null || !oldRef.getString("uid", "").equals(ref.getString("uid")))) {
        enqueue.accept(Meta.namespace(c.object()) + "/" + oldRef.getString("name"));
      }
      // An orphan: the deployments whose selector matches it may adopt it.
      Claiming.wakeSelecting(c, deployments, enqueue);
    });
    // Recreate waits for old pods to be gone: a pod deletion may unblock it.
    pods.listen(c -> {
      if (c.current() != null) return;
      JsonObject rsRef = Workloads.controllerRef(c.old());
      if (rsRef == null) return;
      JsonObject rs = sets.get(Meta.namespace(c.old()), rsRef.getString("name"));
      JsonObject dRef = rs == null ? null : Workloads.controllerRef(rs);
      if (dRef != null) enqueue.accept(Meta.namespace(rs) + "/" + dRef.getString("name"));
    });
  }

  @Override
  public String name() {
    return "deployment";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject d = deployments.get(key);
    if (d == null || Workloads.isDeleting(d)) return Future.succeededFuture(Result.DONE);
    String ns = Meta.namespace(d);
    LabelSelector selector = Claims.selectorOf(d);
    // Claims as Kubernetes' ControllerRefManager makes them: owned sets that no longer match are
    // released, matching orphans adopted (after a fresh read shows this deployment is not being
    // deleted); another controller's sets are never touched.
    Claims.Decision claims = Claims.decide(Claims.Owner.of(d), selector, sets.list(ns));
    return Claiming.apply(client, type, d, rsType, claims).compose(owned -> sync(d, owned));
  }

  private Future<Result> sync(JsonObject d, List<JsonObject> owned) {
    String ns = Meta.namespace(d);
    JsonObject spec = d.getJsonObject("spec");
    String hash = Workloads.templateHash(spec.getJsonObject("template"));
    JsonObject newRs = null;
    List<JsonObject> old = new ArrayList<>();
    String wanted = Workloads.semantic(spec.getJsonObject("template"));
    for (JsonObject rs : owned) {
      // The new ReplicaSet is the one whose template, without its hash label, is the deployment's (a
      // rollback makes an older one new again).
      if (newRs == null && wanted.equals(Workloads.semantic(withoutHash(rs)))) newRs = rs;
      else old.add(rs);
    }
    old.sort(Comparator.comparing(rs -> Meta.meta(rs).getString("creationTimestamp", "")));
    long maxRevision = owned.stream().mapToLong(DeploymentReconciler::revision).max().orElse(0);
    JsonObject current = newRs;
    return Future.<Void>succeededFuture().transform(v -> {
      if (spec.getBoolean("paused", false)) return Future.succeededFuture(current);
      if (current == null) return createNewReplicaSet(d, hash, maxRevision + 1, old);
      JsonObject annotations = Rollout.annotationsToCopy(d, current);
      // A rollback to an older template: that ReplicaSet becomes the newest revision.
      if (revision(current) < maxRevision) annotations.put(REVISION, String.valueOf(maxRevision + 1));
      if (!annotations.isEmpty()) {
        return client.mergePatch(rsType, ns, Meta.name(current), null, new JsonObject().put("metadata",
            new JsonObject().put("annotations", annotations)));
      }
      return Future.succeededFuture(current);
    }).compose(rs -> {
      if (spec.getBoolean("paused", false)) return syncStatus(d, rs, old);
      if (rs == null) return Future.succeededFuture(false);
      // A resize during a rollout spreads the change over the sets (kube's proportional scaling); else a rollout step.
      Rollout.Plan plan = Rollout.isScalingEvent(d, rs, old) ? Rollout.scale(d, rs, old)
          : Rollout.plan(d, rs, old, activePodsOf(old));
      List<Future<?>> scales = new ArrayList<>();
      for (var change : plan.scales().entrySet()) {
        JsonObject target = change.getKey().equals(Meta.name(rs)) ? rs
            : old.stream().filter(o -> Meta.name(o).equals(change.getKey())).findFirst().orElse(null);
        if (target == null) continue;
        int from = target.getJsonObject("spec").getInteger("replicas", 0);
        if (from == change.getValue()) {
          scales.add(scale(d, target, from)); // only its sizing annotations
          continue;
        }
        scales.add(scale(d, target, change.getValue()).onSuccess(x -> events.normal(d, "ScalingReplicaSet",
            (change.getValue() > from ? "Scaled up" : "Scaled down") + " replica set " + change.getKey() + " from "
                + from + " to " + change.getValue())));
      }
      return Future.join(scales).transform(x -> cleanup(d, old)).transform(x -> syncStatus(d, rs, old));
    }).map(complete -> complete ? Result.DONE : Result.after(PROGRESS_CHECK_MS));
  }

  /** While a rollout is incomplete, look again now and then to notice progressDeadlineSeconds passing. */
  private static final long PROGRESS_CHECK_MS = 10_000;

  private int activePodsOf(List<JsonObject> sets) {
    int n = 0;
    for (JsonObject rs : sets) {
      for (JsonObject pod : pods.controlledBy(Meta.uid(rs))) {
        if (Workloads.isControlledBy(pod, rs) && !"Succeeded".equals(Workloads.phase(pod))
            && !"Failed".equals(Workloads.phase(pod))) {
          n++;
        }
      }
    }
    return n;
  }

  private static JsonObject withoutHash(JsonObject rs) {
    JsonObject template = rs.getJsonObject("spec", new JsonObject()).getJsonObject("template", new JsonObject()).copy();
    JsonObject labels = template.getJsonObject("metadata", new JsonObject()).getJsonObject("labels");
    if (labels != null) {
      labels.remove(HASH_LABEL);
      if (labels.isEmpty()) template.getJsonObject("metadata").remove("labels");
    }
    return template;
  }

  static long revision(JsonObject rs) {
    String r = Meta.meta(rs).getJsonObject("annotations", new JsonObject()).getString(REVISION);
    try {
      return r == null ? 0 : Long.parseLong(r);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private Future<JsonObject> createNewReplicaSet(JsonObject d, String hash, long revision, List<JsonObject> old) {
    JsonObject spec = d.getJsonObject("spec");
    JsonObject template = spec.getJsonObject("template").copy();
    JsonObject tmeta = template.getJsonObject("metadata", new JsonObject());
    JsonObject labels = tmeta.getJsonObject("labels", new JsonObject()).copy().put(HASH_LABEL, hash);
    tmeta.put("labels", labels);
    template.put("metadata", tmeta);
    JsonObject selector = spec.getJsonObject("selector").copy();
    selector.put("matchLabels", selector.getJsonObject("matchLabels", new JsonObject()).copy().put(HASH_LABEL, hash));
    JsonObject annotations = Rollout.annotationsToCopy(d, null).put(REVISION, String.valueOf(revision))
        .mergeIn(Rollout.sizeAnnotations(d));
    int initial = Rollout.initialReplicas(d, old);
    JsonObject rs = new JsonObject().put("apiVersion", "apps/v1").put("kind", "ReplicaSet")
        .put("metadata", new JsonObject().put("name", Meta.name(d) + "-" + hash).put("namespace", Meta.namespace(d))
            .put("labels", labels.copy()).put("annotations", annotations)
            .put("ownerReferences", new JsonArray().add(Workloads.ownerRef(d))))
        .put("spec", new JsonObject().put("replicas", initial).put("minReadySeconds", spec.getInteger("minReadySeconds", 0))
            .put("selector", selector).put("template", template));
    return client.create(rsType, Meta.namespace(d), rs).onSuccess(created -> events.normal(d, "ScalingReplicaSet",
        "Scaled up replica set " + Meta.name(created) + " from 0 to " + initial));
  }

  /** As kube's scaleReplicaSet: the size, and the sizing annotations of the Deployment it was sized for. */
  private Future<JsonObject> scale(JsonObject d, JsonObject rs, int replicas) {
    return client.mergePatch(rsType, Meta.namespace(rs), Meta.name(rs), null, new JsonObject()
        .put("metadata", new JsonObject().put("annotations", Rollout.sizeAnnotations(d)))
        .put("spec", new JsonObject().put("replicas", replicas)));
  }

  /** Old ReplicaSets scaled to zero beyond revisionHistoryLimit go, oldest first. */
  private Future<Void> cleanup(JsonObject d, List<JsonObject> old) {
    int limit = d.getJsonObject("spec").getInteger("revisionHistoryLimit", 10);
    List<JsonObject> idle = old.stream().filter(rs -> rs.getJsonObject("spec").getInteger("replicas", 0) == 0
        && rs.getJsonObject("status", new JsonObject()).getInteger("replicas", 0) == 0
        && !Workloads.isDeleting(rs)).sorted(Comparator.comparingLong(DeploymentReconciler::revision)).toList();
    List<Future<?>> deletes = new ArrayList<>();
    for (int i = 0; i < idle.size() - limit; i++) {
      deletes.add(client.delete(rsType, Meta.namespace(d), Meta.name(idle.get(i)), null));
    }
    return Future.join(deletes).mapEmpty();
  }

  /** Writes status when it changed; yields whether the rollout is complete. */
  private Future<Boolean> syncStatus(JsonObject d, JsonObject newRs, List<JsonObject> old) {
    JsonObject status = Rollout.status(d, newRs, old, Instant.now());
    boolean complete = !"ReplicaSetUpdated".equals(status.getJsonArray("conditions").getJsonObject(1)
        .getString("reason"));
    JsonObject current = d.getJsonObject("status", new JsonObject());
    Future<Void> annotate = Future.succeededFuture();
    if (newRs != null) {
      String rev = String.valueOf(revision(newRs));
      if (!rev.equals(Meta.meta(d).getJsonObject("annotations", new JsonObject()).getString(REVISION))) {
        annotate = client.mergePatch(type, Meta.namespace(d), Meta.name(d), null, new JsonObject().put("metadata",
            new JsonObject().put("annotations", new JsonObject().put(REVISION, rev)))).mapEmpty();
      }
    }
    if (Rollout.sameStatus(current, status)) return annotate.map(complete);
    return annotate.transform(v -> client.mergePatch(type, Meta.namespace(d), Meta.name(d), "status",
        new JsonObject().put("status", Rollout.asMergePatch(status)))).map(complete);
  }
}
