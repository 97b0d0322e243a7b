package io.kvx.scheduler.plugins.tainttoleration;

import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Status;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Taints and tolerations: a NoSchedule or NoExecute taint the pod does not tolerate keeps it off the
 * node (this covers CheckNodeMemoryPressure / CheckNodeDiskPressure: pressure conditions appear as
 * taints in {@link NodeInfo#taints()}); each untolerated PreferNoSchedule taint lowers the score.
 */
public final class TaintToleration implements FilterPlugin, ScorePlugin {

  public static final String NAME = "TaintToleration";
  public static final String REASON = "node(s) had untolerated taint(s)";

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
    List<Toleration> tolerations = tolerations(pod);
    for (Taint t : node.taints()) {
      if (("NoSchedule".equals(t.getEffect()) || "NoExecute".equals(t.getEffect()))
          && !Selectors.tolerated(tolerations, t)) {
        return Status.unresolvable(REASON);
      }
    }
    return Status.SUCCESS;
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    List<Toleration> prefer = new ArrayList<>();
    for (Toleration t : tolerations(pod)) {
      if (t.getEffect() == null || t.getEffect().isEmpty() || "PreferNoSchedule".equals(t.getEffect())) prefer.add(t);
    }
    long n = 0;
    for (Taint t : node.taints()) {
      if ("PreferNoSchedule".equals(t.getEffect()) && !Selectors.tolerated(prefer, t)) n++;
    }
    return n;
  }

  @Override
  public void normalizeScore(CycleState state, PodInfo pod, Map<String, Long> scores) {
    ScorePlugin.normalize(scores, true);
  }

  private static List<Toleration> tolerations(PodInfo pod) {
    List<Toleration> t = pod.spec().getTolerations();
    return t == null ? List.of() : t;
  }
}
