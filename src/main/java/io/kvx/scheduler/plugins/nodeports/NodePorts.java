package io.kvx.scheduler.plugins.nodeports;

import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.Set;

/** PodFitsHostPorts: a host port (protocol, IP, port) can be held by one pod per node; 0.0.0.0 overlaps every IP. */
public final class NodePorts implements PreFilterPlugin, FilterPlugin {

  public static final String NAME = "NodePorts";
  public static final String REASON = "node(s) didn't have free ports for the requested pod ports";

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
    return pod.hostPorts().isEmpty() ? Status.SKIP : Status.SUCCESS;
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    for (PodInfo.HostPort want : pod.hostPorts()) {
      for (PodInfo.HostPort used : node.usedPorts()) {
        if (want.conflicts(used)) return Status.unschedulable(REASON);
      }
    }
    return Status.SUCCESS;
  }
}
