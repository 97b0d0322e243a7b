package io.kvx.scheduler.plugins.nodename;

import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Status;

import java.util.Set;

/** PodFitsHost / HostName: a pod that names a node (spec.nodeName) fits only there. */
public final class NodeName implements FilterPlugin {

  public static final String NAME = "NodeName";
  public static final String REASON = "node(s) didn't match the requested node name";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<ClusterEvent> events() {
    return Set.of(ClusterEvent.NODE_ADD);
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    String want = pod.spec().getNodeName();
    return want == null || want.isEmpty() || want.equals(node.name()) ? Status.SUCCESS : Status.unresolvable(REASON);
  }
}
