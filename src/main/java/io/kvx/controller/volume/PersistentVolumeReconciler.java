package io.kvx.controller.volume;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.vertx.core.Future;
import io.kvx.controller.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The persistent-volume controller (Kubernetes' persistentvolume-binder) with kvx's local-path provisioner:
 * claims are bound to the smallest fitting PersistentVolume (at once for Immediate classes; for
 * WaitForFirstConsumer classes once the scheduler has annotated the claim with its pod's node, taking only
 * volumes whose node affinity allows that node); a claim of the kvx.io/local-path class with no volume to
 * take gets a new hostPath volume on that node. Volumes whose claim is gone are Released (Retain) or
 * deleted (Delete). Keys: "namespace/name" for claims, "name" for volumes.
 */
public final class PersistentVolumeReconciler implements Reconciler {

  static final ResourceType PVCS = Resources.builtIn("", "persistentvolumeclaims");
  static final ResourceType PVS = Resources.builtIn("", "persistentvolumes");

  private final Cache claims;
  private final Cache volumes;
  private final Cache classes;
  private final Cache nodes;
  private final Cache pods;
  private final ApiClient client;
  private final EventRecorder events;

  public PersistentVolumeReconciler(Cache claims, Cache volumes, Cache classes, Cache nodes, Cache pods,
                                    ApiClient client, EventRecorder events, Consumer<String> enqueue) {
    this.pods = pods;
    this.claims = claims;
    this.volumes = volumes;
    this.classes = classes;
    this.nodes = nodes;
    this.client = client;
    this.events = events;
    claims.listen(c -> {
      enqueue.accept(Cache.key(c.object()));
      String vol = VolumeBinder.spec(c.object()).getString("volumeName");
      if (c.current() == null && vol != null && !vol.isEmpty()) enqueue.accept(vol);
    });
    // A pod that ends or goes away may be what a terminating claim waits for.
    pods.listen(c -> {
      if (c.current() == null || !Workloads.isActive(c.current())) {
        for (String claim : claimsOf(c.object())) enqueue.accept(Meta.namespace(c.object()) + "/" + claim);
      }
    });
    volumes.listen(c -> {
      enqueue.accept(Meta.name(c.object()));
      JsonObject ref = VolumeBinder.spec(c.object()).getJsonObject("claimRef");
      if (ref != null) enqueue.accept(ref.getString("namespace") + "/" + ref.getString("name"));
      // A volume that appeared or came free may be what a pending claim waits for.
      if (c.current() != null && ref == null) {
        for (JsonObject pvc : claims.all()) {
          if (VolumeBinder.spec(pvc).getString("volumeName", "").isEmpty()) enqueue.accept(Cache.key(pvc));
        }
      }
    });
  }

  @Override
  public String name() {
    return "persistentvolume-binder";
  }

  @Override
  public Future<Result> reconcile(String key) {
    return key.contains("/") ? claim(key) : volume(key);
  }

  private Future<Result> claim(String key) {
    JsonObject pvc = claims.get(key);
    if (pvc == null) return Future.succeededFuture(Result.DONE);
    if (Meta.meta(pvc).containsKey("deletionTimestamp")) {
      boolean used = pods.list(Meta.namespace(pvc)).stream()
          .anyMatch(p -> Workloads.isActive(p) && claimsOf(p).contains(Meta.name(pvc)));
      return (used ? Future.succeededFuture() : unprotect(PVCS, pvc, PVC_PROTECTION)).map(Result.DONE);
    }
    String volumeName = VolumeBinder.spec(pvc).getString("volumeName", "");
    if (!volumeName.isEmpty()) return boundClaim(pvc, volumeName);
    String className = VolumeBinder.className(pvc);
    JsonObject sc = className.isEmpty() ? null : classes.get(className);
    String mode = sc == null ? "Immediate" : sc.getString("volumeBindingMode", "Immediate");
    String node = Meta.meta(pvc).getJsonObject("annotations", new JsonObject()).getString(VolumeBinder.SELECTED_NODE);
    if (mode.equals("WaitForFirstConsumer") && node == null) {
      if (phase(pvc) == null) {
        events.normal(pvc, "WaitForFirstConsumer", "waiting for first consumer to be created before binding");
      }
      return pending(pvc).map(Result.DONE);
    }
    JsonObject nodeObj = node == null ? null : nodes.get(node);
    Map<String, String> labels = nodeObj == null ? Map.of() : Meta.labels(nodeObj);
    JsonObject pv = VolumeBinder.pick(pvc, volumes.all(), node, labels);
    if (pv != null) return bind(pvc, pv).map(Result.DONE);
    if (sc != null && VolumeBinder.LOCAL_PATH_PROVISIONER.equals(sc.getString("provisioner"))) {
      if (node == null) {
        events.warning(pvc, "ProvisioningFailed", "storageclass \"" + className + "\": " + VolumeBinder.LOCAL_PATH_PROVISIONER
            + " provisions on the node of the claim's first pod; use volumeBindingMode WaitForFirstConsumer");
        return pending(pvc).map(Result.DONE);
      }
      String dir = nodeObj == null ? null
          : Meta.meta(nodeObj).getJsonObject("annotations", new JsonObject()).getString(VolumeBinder.LOCAL_PATH_DIR);
      if (dir == null) return pending(pvc).map(Result.after(2000));
      JsonObject made = VolumeBinder.provision(pvc, sc, node, dir);
      return client.create(PVS, null, made).recover(ApiError.ignoring(ApiError.Reason.AlreadyExists))
          .onSuccess(x -> events.normal(pvc, "ProvisioningSucceeded", "Successfully provisioned volume "
              + Meta.name(made)))
          .compose(x -> bind(pvc, made)).map(Result.DONE);
    }
    if (phase(pvc) == null || className.isEmpty()) {
      events.normal(pvc, "FailedBinding", sc == null && !className.isEmpty()
          ? "storageclass.storage.k8s.io \"" + className + "\" not found"
          : "no persistent volumes available for this claim and no storage class is set");
    }
    return pending(pvc).map(Result.DONE);
  }

  private Future<Result> boundClaim(JsonObject pvc, String volumeName) {
    JsonObject pv = volumes.get(volumeName);
    if (pv == null) {
      if (!"Lost".equals(phase(pvc))) {
        events.warning(pvc, "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!");
        return status(PVCS, pvc, new JsonObject().put("phase", "Lost")).map(Result.DONE);
      }
      return Future.succeededFuture(Result.DONE);
    }
    JsonObject ref = VolumeBinder.spec(pv).getJsonObject("claimRef");
    boolean mine = ref != null && Meta.namespace(pvc).equals(ref.getString("namespace"))
        && Meta.name(pvc).equals(ref.getString("name"));
    if (ref == null || mine) return bind(pvc, pv).map(Result.DONE);
    events.warning(pvc, "FailedBinding", "volume \"" + volumeName + "\" already bound to a different claim.");
    return pending(pvc).map(Result.DONE);
  }

  /** Both halves of a binding, volume first (so that a crash in between leaves it reserved for the claim). */
  private Future<Void> bind(JsonObject pvc, JsonObject pv) {
    JsonObject ref = VolumeBinder.spec(pv).getJsonObject("claimRef");
    Future<?> volume = Future.succeededFuture();
    if (ref == null || ref.getString("uid", "").isEmpty()) {
      volume = client.mergePatch(PVS, null, Meta.name(pv), null, new JsonObject()
          .put("metadata", new JsonObject().put("annotations", new JsonObject()
              .put("pv.kubernetes.io/bound-by-controller", "yes")))
          .put("spec", new JsonObject().put("claimRef", VolumeBinder.claimRef(pvc))));
    }
    if (!"Bound".equals(phase(pv))) {
      volume = volume.compose(x -> status(PVS, pv, new JsonObject().put("phase", "Bound")));
    }
    JsonObject pvSpec = VolumeBinder.spec(pv);
    return volume.compose(x -> {
      if (Meta.name(pv).equals(VolumeBinder.spec(pvc).getString("volumeName"))) return Future.succeededFuture();
      return client.mergePatch(PVCS, Meta.namespace(pvc), Meta.name(pvc), null, new JsonObject()
          .put("metadata", new JsonObject().put("annotations", new JsonObject()
              .put("pv.kubernetes.io/bind-completed", "yes").put("pv.kubernetes.io/bound-by-controller", "yes")))
          .put("spec", new JsonObject().put("volumeName", Meta.name(pv))));
    }).compose(x -> "Bound".equals(phase(pvc)) ? Future.succeededFuture()
        : status(PVCS, pvc, new JsonObject().put("phase", "Bound")
            .put("accessModes", pvSpec.getJsonArray("accessModes"))
            .put("capacity", pvSpec.getJsonObject("capacity")))).mapEmpty();
  }

  private Future<Result> volume(String name) {
    JsonObject pv = volumes.get(name);
    if (pv == null) return Future.succeededFuture(Result.DONE);
    JsonObject ref = VolumeBinder.spec(pv).getJsonObject("claimRef");
    if (Meta.meta(pv).containsKey("deletionTimestamp")) {
      boolean used = ref != null && claims.get(ref.getString("namespace"), ref.getString("name")) != null;
      return (used ? Future.succeededFuture() : unprotect(PVS, pv, PV_PROTECTION)).map(Result.DONE);
    }
    if (ref == null) {
      return ("Available".equals(phase(pv)) ? Future.succeededFuture()
          : status(PVS, pv, new JsonObject().put("phase", "Available"))).map(Result.DONE);
    }
    JsonObject pvc = claims.get(ref.getString("namespace"), ref.getString("name"));
    String uid = ref.getString("uid", "");
    boolean gone = pvc == null ? !uid.isEmpty() : !uid.isEmpty() && !uid.equals(Meta.meta(pvc).getString("uid"));
    if (!gone) {
      if (pvc != null && name.equals(VolumeBinder.spec(pvc).getString("volumeName")) && !"Bound".equals(phase(pv))) {
        return status(PVS, pv, new JsonObject().put("phase", "Bound")).map(Result.DONE);
      }
      return ("Available".equals(phase(pv)) || "Bound".equals(phase(pv)) ? Future.succeededFuture()
          : status(PVS, pv, new JsonObject().put("phase", "Available"))).map(Result.DONE);
    }
    String policy = VolumeBinder.spec(pv).getString("persistentVolumeReclaimPolicy", "Retain");
    if (policy.equals("Delete")) {
      return client.delete(PVS, null, name, null).recover(ApiError.ignoring(ApiError.Reason.NotFound))
          .map(Result.DONE);
    }
    if ("Released".equals(phase(pv))) return Future.succeededFuture(Result.DONE);
    return status(PVS, pv, new JsonObject().put("phase", "Released")).map(Result.DONE);
  }

  static final String PVC_PROTECTION = "kubernetes.io/pvc-protection";
  static final String PV_PROTECTION = "kubernetes.io/pv-protection";

  /** Drops a protection finalizer (with the object's resourceVersion, so a concurrent change is not lost). */
  private Future<Void> unprotect(ResourceType type, JsonObject obj, String finalizer) {
    JsonArray finalizers = Meta.meta(obj).getJsonArray("finalizers", new JsonArray());
    if (!finalizers.contains(finalizer)) return Future.succeededFuture();
    JsonArray rest = new JsonArray(finalizers.stream().filter(f -> !finalizer.equals(f)).toList());
    return client.mergePatch(type, type.namespaced() ? Meta.namespace(obj) : null, Meta.name(obj), null,
        new JsonObject().put("metadata", new JsonObject().put("finalizers", rest)
            .put("resourceVersion", Meta.meta(obj).getString("resourceVersion")))).mapEmpty();
  }

  static Set<String> claimsOf(JsonObject pod) {
    Set<String> out = new HashSet<>();
    for (Object o : pod.getJsonObject("spec", new JsonObject()).getJsonArray("volumes", new JsonArray())) {
      JsonObject c = ((JsonObject) o).getJsonObject("persistentVolumeClaim");
      if (c != null && c.getString("claimName") != null) out.add(c.getString("claimName"));
    }
    return out;
  }

  private Future<Void> pending(JsonObject pvc) {
    return "Pending".equals(phase(pvc)) ? Future.succeededFuture()
        : status(PVCS, pvc, new JsonObject().put("phase", "Pending"));
  }

  private Future<Void> status(ResourceType type, JsonObject obj, JsonObject status) {
    return client.mergePatch(type, type.namespaced() ? Meta.namespace(obj) : null, Meta.name(obj), "status",
            new JsonObject().put("status", status))
        .mapEmpty();
  }

  private static String phase(JsonObject o) {
    return o.getJsonObject("status", new JsonObject()).getString("phase");
  }
}
