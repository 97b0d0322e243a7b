package io.kvx.scheduler.plugins.volumebinding;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.kvx.scheduler.framework.Cluster;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodClaims;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreBindPlugin;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * VolumeBinding (CheckVolumeBinding): a pod's bound claims must have volumes whose node affinity allows
 * the node ("node(s) had volume node affinity conflict"); unbound claims of an Immediate class make the pod
 * wait ("pod has unbound immediate PersistentVolumeClaims"); unbound WaitForFirstConsumer claims need, on
 * the node, an available volume that fits or a class with a provisioner ("node(s) didn't find available
 * persistent volumes to bind"). PreBind annotates those claims with the chosen node; the controller
 * manager's volume binder then binds or provisions, and the kubelet waits for the binding to mount.
 */
public final class VolumeBinding implements PreFilterPlugin, FilterPlugin, PreBindPlugin {

  public static final String NAME = "VolumeBinding";
  public static final String CONFLICT = "node(s) had volume node affinity conflict";
  public static final String NO_VOLUME = "node(s) didn't find available persistent volumes to bind";
  public static final String UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims";
  private static final String KEY = NAME + "/claims";

  /** An unbound WaitForFirstConsumer claim: the volumes that could take it, and whether its class provisions. */
  record Delayed(PersistentVolumeClaim pvc, List<PersistentVolume> candidates, boolean provisionable) {}

  /** What the filter checks: the bound volumes and the delayed claims. */
  record Claims(List<PersistentVolume> bound, List<Delayed> delayed) {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<ClusterEvent> events() {
    return Set.of(ClusterEvent.NODE_ADD, ClusterEvent.NODE_UPDATE, ClusterEvent.VOLUME_CHANGE);
  }

  @Override
  public Status preFilter(CycleState state, PodInfo pod, Snapshot snapshot) {
    List<PodClaims.Claim> all = new ArrayList<>();
    Status resolved = PodClaims.resolve(pod, snapshot.listers(), all);
    if (!resolved.isSuccess()) return resolved;
    Claims claims = new Claims(new ArrayList<>(), new ArrayList<>());
    for (PodClaims.Claim c : all) {
      PersistentVolumeClaim pvc = c.pvc();
      if (pvc.getMetadata().getDeletionTimestamp() != null) {
        return Status.unresolvable("persistentvolumeclaim \"" + pvc.getMetadata().getName() + "\" is being deleted");
      }
      if (c.volume() != null) {
        claims.bound().add(c.volume());
        continue;
      }
      String cls = pvc.getSpec() == null || pvc.getSpec().getStorageClassName() == null ? ""
          : pvc.getSpec().getStorageClassName();
      StorageClass sc = cls.isEmpty() ? null : snapshot.listers().storageClass(cls);
      if (sc == null || !"WaitForFirstConsumer".equals(sc.getVolumeBindingMode())) {
        return Status.unresolvable(UNBOUND_IMMEDIATE);
      }
      List<PersistentVolume> candidates = new ArrayList<>();
      for (PersistentVolume pv : snapshot.listers().pvs()) {
        if (fits(pvc, cls, pv)) candidates.add(pv);
      }
      claims.delayed().add(new Delayed(pvc, candidates,
          sc.getProvisioner() != null && !sc.getProvisioner().equals("kubernetes.io/no-provisioner")));
    }
    if (claims.bound().isEmpty() && claims.delayed().isEmpty()) return Status.SKIP;
    state.write(KEY, claims);
    return Status.SUCCESS;
  }

  /** An available volume of the class, big enough, with the modes asked for (node affinity checked later). */
  static boolean fits(PersistentVolumeClaim pvc, String cls, PersistentVolume pv) {
    if (pv.getSpec() == null || pv.getMetadata().getDeletionTimestamp() != null) return false;
    if (pv.getSpec().getClaimRef() != null) {
      var ref = pv.getSpec().getClaimRef();
      if (!pvc.getMetadata().getName().equals(ref.getName())
          || !pvc.getMetadata().getNamespace().equals(ref.getNamespace())) {
        return false;
      }
    } else if (pv.getStatus() != null && pv.getStatus().getPhase() != null
        && !pv.getStatus().getPhase().equals("Available")) {
      return false;
    }
    String pvClass = pv.getSpec().getStorageClassName() == null ? "" : pv.getSpec().getStorageClassName();
    if (!cls.equals(pvClass)) return false;
    List<String> want = pvc.getSpec().getAccessModes() == null ? List.of() : pvc.getSpec().getAccessModes();
    List<String> have = pv.getSpec().getAccessModes() == null ? List.of() : pv.getSpec().getAccessModes();
    if (!have.containsAll(want)) return false;
    Quantity req = pvc.getSpec().getResources() == null || pvc.getSpec().getResources().getRequests() == null ? null
        : pvc.getSpec().getResources().getRequests().get("storage");
    Quantity cap = pv.getSpec().getCapacity() == null ? null : pv.getSpec().getCapacity().get("storage");
    BigDecimal r = req == null ? BigDecimal.ZERO : req.getNumericalAmount();
    BigDecimal c = cap == null ? BigDecimal.ZERO : cap.getNumericalAmount();
    return c.compareTo(r) >= 0;
  }

  static boolean allows(PersistentVolume pv, NodeInfo node) {
    if (pv.getSpec().getNodeAffinity() == null || pv.getSpec().getNodeAffinity().getRequired() == null) return true;
    return Selectors.matches(pv.getSpec().getNodeAffinity().getRequired(), node);
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    Claims claims = state.read(KEY);
    if (claims == null) return Status.SUCCESS;
    for (PersistentVolume pv : claims.bound()) {
      if (!allows(pv, node)) return Status.unresolvable(CONFLICT);
    }
    for (Delayed d : claims.delayed()) {
      if (!d.provisionable() && d.candidates().stream().noneMatch(pv -> allows(pv, node))) {
        return Status.unschedulable(NO_VOLUME);
      }
    }
    return Status.SUCCESS;
  }

  @Override
  public CompletionStage<Status> preBind(CycleState state, PodInfo pod, String node, Cluster cluster) {
    Claims claims = state.read(KEY);
    if (claims == null || claims.delayed().isEmpty()) return CompletableFuture.completedFuture(Status.SUCCESS);
    CompletableFuture<?>[] all = claims.delayed().stream()
        .map(d -> cluster.selectNodeForClaim(d.pvc().getMetadata().getNamespace(), d.pvc().getMetadata().getName(),
            node).toCompletableFuture()).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(all).handle((v, e) -> e == null ? Status.SUCCESS
        : Status.error("binding volumes: " + e.getMessage()));
  }
}
