package io.kvx.scheduler.plugins.volumezone;

import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodClaims;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * NoVolumeZoneConflict: a pod whose bound PersistentVolumes are labelled with a zone or region fits only
 * on nodes with the same label value (a value "a__b" means either). Unbound claims are VolumeBinding's
 * business and are skipped here.
 */
public final class VolumeZone implements PreFilterPlugin, FilterPlugin {

  public static final String NAME = "VolumeZone";
  public static final String REASON = "node(s) had no available volume zone";
  static final List<String> TOPOLOGY_LABELS = List.of("topology.kubernetes.io/zone", "topology.kubernetes.io/region",
      "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region");
  private static final String KEY = NAME + "/constraints";

  /** A label the node must carry with one of the values. */
  record Constraint(String key, Set<String> values) {}

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
    List<PodClaims.Claim> claims = new ArrayList<>();
    Status resolved = PodClaims.resolve(pod, snapshot.listers(), claims);
    if (!resolved.isSuccess()) return resolved;
    List<Constraint> constraints = new ArrayList<>();
    for (PodClaims.Claim c : claims) {
      // Unbound claims are VolumeBinding's business.
      Map<String, String> labels = c.volume() == null ? null : c.volume().getMetadata().getLabels();
      if (labels == null) continue;
      for (String key : TOPOLOGY_LABELS) {
        String val = labels.get(key);
        if (val != null) constraints.add(new Constraint(key, Set.of(val.split("__"))));
      }
    }
    if (constraints.isEmpty()) return Status.SKIP;
    state.write(KEY, constraints);
    return Status.SUCCESS;
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    List<Constraint> constraints = state.read(KEY);
    if (constraints == null) return Status.SUCCESS;
    // Nodes with no topology labels at all are not checked (as Kubernetes does).
    boolean hasAny = false;
    for (String k : TOPOLOGY_LABELS) hasAny |= node.labels().containsKey(k);
    if (!hasAny) return Status.SUCCESS;
    for (Constraint c : constraints) {
      String v = node.labels().get(c.key());
      if (v == null || !c.values().contains(v)) return Status.unresolvable(REASON);
    }
    return Status.SUCCESS;
  }
}
