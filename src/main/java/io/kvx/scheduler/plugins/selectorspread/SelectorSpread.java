package io.kvx.scheduler.plugins.selectorspread;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreScorePlugin;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SelectorSpreadPriority / ServiceSpreadingPriority: pods selected by the same Services, ReplicaSets,
 * ReplicationControllers or StatefulSets are spread over nodes and, where nodes carry zone labels, zones
 * (the zone counting for two thirds).
 */
public final class SelectorSpread implements PreScorePlugin, ScorePlugin {

  public static final String NAME = "SelectorSpread";
  static final String ZONE = "topology.kubernetes.io/zone";
  private static final String KEY = NAME + "/selectors";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Status preScore(CycleState state, PodInfo pod, List<NodeInfo> feasible, Snapshot snapshot) {
    List<LabelSelector> selectors = snapshot.listers().spreadSelectors(pod);
    if (selectors.isEmpty()) return Status.SKIP;
    state.write(KEY, selectors);
    return Status.SUCCESS;
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    List<LabelSelector> selectors = state.read(KEY);
    if (selectors == null) return 0;
    long n = 0;
    for (PodInfo p : node.pods()) {
      if (!p.namespace().equals(pod.namespace()) || p.pod().getMetadata().getDeletionTimestamp() != null) continue;
      for (LabelSelector s : selectors) {
        if (Selectors.matches(s, p.labels())) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  @Override
  public void normalizeScore(CycleState state, PodInfo pod, List<NodeInfo> nodes, long[] scores) {
    // Raw scores are counts of matching pods per node; nodes with a zone label also spread over zones.
    long max = 0;
    for (long v : scores) max = Math.max(max, v);
    Map<String, Long> perZone = new HashMap<>();
    for (int i = 0; i < scores.length; i++) {
      String z = nodes.get(i).labels().get(ZONE);
      if (z != null) perZone.merge(z, scores[i], Long::sum);
    }
    long maxZone = 0;
    for (long v : perZone.values()) maxZone = Math.max(maxZone, v);
    for (int i = 0; i < scores.length; i++) {
      long v = scores[i];
      double s = max == 0 ? MAX_SCORE : (double) MAX_SCORE * (max - v) / max;
      String z = nodes.get(i).labels().get(ZONE);
      if (z != null && !perZone.isEmpty()) {
        double zs = maxZone == 0 ? MAX_SCORE : (double) MAX_SCORE * (maxZone - perZone.get(z)) / maxZone;
        s = s / 3 + zs * 2 / 3;
      }
      scores[i] = (long) s;
    }
  }
}
