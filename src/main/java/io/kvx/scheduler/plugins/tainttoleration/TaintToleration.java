package io.kvx.scheduler.plugins.tainttoleration;

import io.fabric8.kubernetes.api.model.Taint;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Status;

import java.util.List;
import java.util.Set;

/**
 * Taints and tolerations: a NoSchedule or NoExecute taint the pod does not tolerate keeps it off the
 * node (this covers CheckNodeMemoryPressure / CheckNodeDiskPressure: pressure conditions appear as
 * taints in {@link NodeInfo#taints()}); each untolerated PreferNoSchedule taint lowers the score.
 */
public final class TaintToleration implements FilterPlugin, ScorePlugin {

  public static final String NAME = "TaintToleration";
  public static final String REASON = "node(s) had untolerated taint(s)";
  private static final Status REJECTED = Status.unresolvable(REASON).withPlugin(NAME);

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
    return pod.toleratesAll(node.taintSet()) ? Status.SUCCESS : REJECTED;
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    Taint[] prefer = node.taintSet().prefer();
    long n = 0;
    for (Taint t : prefer) {
      if (!Selectors.tolerated(pod.preferTolerations(), t)) n++;
    }
    return n;
  }

  @Override
  public void normalizeScore(CycleState state, PodInfo pod, List<NodeInfo> nodes, long[] scores) {
    ScorePlugin.normalize(scores, true);
  }
}
