package io.kvx.scheduler.plugins.nodeaffinity;

import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.PreScorePlugin;
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
public final class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {

  public static final String NAME = "NodeAffinity";
  public static final String REASON = "node(s) didn't match Pod's node affinity/selector";
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
  public Status preFilter(CycleState state, PodInfo pod, Snapshot snapshot) {
    return pod.nodeSelectorKeys().length == 0 && pod.requiredNodeAffinity() == null ? Status.SKIP : Status.SUCCESS;
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    return matches(pod, node) ? Status.SUCCESS : REJECTED;
  }

  /** Whether the node satisfies the pod's nodeSelector and required node affinity. */
  public static boolean matches(PodInfo pod, NodeInfo node) {
    String[] keys = pod.nodeSelectorKeys();
    if (keys.length > 0 && !node.matchesSelector(keys, pod.nodeSelectorValues())) return false;
    NodeSelector required = pod.requiredNodeAffinity();
    return required == null || Selectors.matches(required, node);
  }

  /** Skips Score for a pod without preferred terms, as kube-scheduler's PreScore does. */
  @Override
  public Status preScore(CycleState state, PodInfo pod, List<NodeInfo> feasible, Snapshot snapshot) {
    return pod.preferredNodeAffinity().isEmpty() ? Status.SKIP : Status.SUCCESS;
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    long sum = 0;
    for (PreferredSchedulingTerm t : pod.preferredNodeAffinity()) {
      if (t.getWeight() != null && t.getWeight() != 0 && t.getPreference() != null
          && Selectors.matches(t.getPreference(), node)) {
        sum += t.getWeight();
      }
    }
    return sum;
  }

  @Override
  public void normalizeScore(CycleState state, PodInfo pod, List<NodeInfo> nodes, long[] scores) {
    ScorePlugin.normalize(scores, false);
  }
}
