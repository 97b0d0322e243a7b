package io.kvx.scheduler.plugins.nodeunschedulable;

import io.fabric8.kubernetes.api.model.Taint;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Status;

import java.util.Set;

/** A cordoned node (spec.unschedulable) takes only pods that tolerate node.kubernetes.io/unschedulable. */
public final class NodeUnschedulable implements FilterPlugin {

  public static final String NAME = "NodeUnschedulable";
  public static final String REASON = "node(s) were unschedulable";
  static final Taint TAINT = new Taint("NoSchedule", "node.kubernetes.io/unschedulable", null, null);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<ClusterEvent> events() {
    return Set.of(ClusterEvent.NODE_ADD, ClusterEvent.NODE_UPDATE);
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    if (!node.unschedulable()) return Status.SUCCESS;
    var tolerations = pod.spec().getTolerations();
    if (tolerations != null && Selectors.tolerated(tolerations, TAINT)) return Status.SUCCESS;
    return Status.unresolvable(REASON);
  }
}
