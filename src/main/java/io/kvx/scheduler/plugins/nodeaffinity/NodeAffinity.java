package io.kvx.scheduler.plugins.nodeaffinity;

import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MatchNodeSelector and node affinity: spec.nodeSelector and requiredDuringScheduling terms
 * (matchExpressions In/NotIn/Exists/DoesNotExist/Gt/Lt, matchFields on metadata.name) filter;
 * preferredDuringScheduling terms add their weights to the score (NodeAffinityPriority).
 */
public final class NodeAffinity implements PreFilterPlugin, FilterPlugin, ScorePlugin {

  public static final String NAME = "NodeAffinity";
  public static final String REASON = "node(s) didn't match Pod's node affinity/selector";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<ClusterEvent> events() {
    return Set.of(ClusterEvent.NODE_ADD, ClusterEvent.NODE_UPDATE);
  }

  @Override
  public Status preFilter(CycleState state, PodInfo pod, Snapshot snapshot) {
    Map<String, String> sel = pod.spec().getNodeSelector();
    return (sel == null || sel.isEmpty()) && required(pod) == null ? Status.SKIP : Status.SUCCESS;
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    return matches(pod, node) ? Status.SUCCESS : Status.unresolvable(REASON);
  }

  /** Whether the node satisfies the pod's nodeSelector and required node affinity. */
  public static boolean matches(PodInfo pod, NodeInfo node) {
    Map<String, String> sel = pod.spec().getNodeSelector();
    if (sel != null) {
      for (Map.Entry<String, String> e : sel.entrySet()) {
        if (!e.getValue().equals(node.labels().get(e.getKey()))) return false;
      }
    }
    NodeSelector required = required(pod);
    return required == null || Selectors.matches(required, node);
  }

  private static NodeSelector required(PodInfo pod) {
    var a = pod.spec().getAffinity();
    if (a == null || a.getNodeAffinity() == null) return null;
    return a.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution();
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    var a = pod.spec().getAffinity();
    if (a == null || a.getNodeAffinity() == null) return 0;
    List<PreferredSchedulingTerm> terms = a.getNodeAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
    if (terms == null) return 0;
    long sum = 0;
    for (PreferredSchedulingTerm t : terms) {
      if (t.getWeight() != null && t.getWeight() != 0 && t.getPreference() != null
          && Selectors.matches(t.getPreference(), node)) {
        sum += t.getWeight();
      }
    }
    return sum;
  }

  @Override
  public void normalizeScore(CycleState state, PodInfo pod, Map<String, Long> scores) {
    ScorePlugin.normalize(scores, false);
  }
}
