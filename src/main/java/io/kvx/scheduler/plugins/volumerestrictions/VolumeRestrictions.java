package io.kvx.scheduler.plugins.volumerestrictions;

import io.fabric8.kubernetes.api.model.Volume;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * NoDiskConflict: disks that attach to one node at a time cannot be shared by two pods on a node: the same
 * GCE PD (unless both mount it read-only), AWS EBS volume, Ceph RBD image (overlapping monitors, same
 * pool and image, unless both read-only) or iSCSI IQN (unless both read-only).
 */
public final class VolumeRestrictions implements PreFilterPlugin, FilterPlugin {

  public static final String NAME = "VolumeRestrictions";
  public static final String REASON = "node(s) had no available disk";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<ClusterEvent> events() {
    return Set.of(ClusterEvent.NODE_ADD, ClusterEvent.ASSIGNED_POD_DELETE);
  }

  @Override
  public Status preFilter(CycleState state, PodInfo pod, Snapshot snapshot) {
    for (Volume v : volumes(pod)) if (restricted(v)) return Status.SUCCESS;
    return Status.SKIP;
  }

  private static boolean restricted(Volume v) {
    return v.getGcePersistentDisk() != null || v.getAwsElasticBlockStore() != null || v.getRbd() != null
        || v.getIscsi() != null;
  }

  private static List<Volume> volumes(PodInfo pod) {
    return pod.spec().getVolumes() == null ? List.of() : pod.spec().getVolumes();
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    for (Volume v : volumes(pod)) {
      if (!restricted(v)) continue;
      for (PodInfo other : node.pods()) {
        for (Volume o : volumes(other)) {
          if (conflict(v, o)) return Status.unschedulable(REASON);
        }
      }
    }
    return Status.SUCCESS;
  }

  static boolean conflict(Volume a, Volume b) {
    if (a.getGcePersistentDisk() != null && b.getGcePersistentDisk() != null) {
      var x = a.getGcePersistentDisk();
      var y = b.getGcePersistentDisk();
      return Objects.equals(x.getPdName(), y.getPdName()) && !(ro(x.getReadOnly()) && ro(y.getReadOnly()));
    }
    if (a.getAwsElasticBlockStore() != null && b.getAwsElasticBlockStore() != null) {
      return Objects.equals(a.getAwsElasticBlockStore().getVolumeID(), b.getAwsElasticBlockStore().getVolumeID());
    }
    if (a.getIscsi() != null && b.getIscsi() != null) {
      var x = a.getIscsi();
      var y = b.getIscsi();
      return Objects.equals(x.getIqn(), y.getIqn()) && !(ro(x.getReadOnly()) && ro(y.getReadOnly()));
    }
    if (a.getRbd() != null && b.getRbd() != null) {
      var x = a.getRbd();
      var y = b.getRbd();
      boolean sharedMonitor = x.getMonitors() != null && y.getMonitors() != null
          && x.getMonitors().stream().anyMatch(y.getMonitors()::contains);
      String px = x.getPool() == null ? "rbd" : x.getPool();
      String py = y.getPool() == null ? "rbd" : y.getPool();
      return sharedMonitor && px.equals(py) && Objects.equals(x.getImage(), y.getImage())
          && !(ro(x.getReadOnly()) && ro(y.getReadOnly()));
    }
    return false;
  }

  private static boolean ro(Boolean b) {
    return Boolean.TRUE.equals(b);
  }
}
