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
    recordZones(state, feasible);
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
  public void normalizeScore(CycleState state, PodInfo pod, Map<String, Long> scores) {
    // Raw scores are counts of matching pods; zones are looked up through the node names in the state.
    Map<String, String> zones = state.read(NAME + "/zones");
    long max = 0;
    for (long v : scores.values()) max = Math.max(max, v);
    Map<String, Long> perZone = new HashMap<>();
    if (zones != null) scores.forEach((n, v) -> {
      String z = zones.get(n);
      if (z != null) perZone.merge(z, v, Long::sum);
    });
    long maxZone = 0;
    for (long v : perZone.values()) maxZone = Math.max(maxZone, v);
    final long top = max;
    final long topZone = maxZone;
    scores.replaceAll((n, v) -> {
      double s = top == 0 ? MAX_SCORE : (double) MAX_SCORE * (top - v) / top;
      String z = zones == null ? null : zones.get(n);
      if (z != null && !perZone.isEmpty()) {
        double zs = topZone == 0 ? MAX_SCORE : (double) MAX_SCORE * (topZone - perZone.get(z)) / topZone;
        s = s / 3 + zs * 2 / 3;
      }
      return (long) s;
    });
  }

  /** Records the zone of each feasible node so normalization can spread over zones. */
  private static void recordZones(CycleState state, List<NodeInfo> feasible) {
    Map<String, String> zones = new HashMap<>();
    for (NodeInfo n : feasible) {
      String z = n.labels().get(ZONE);
      if (z != null) zones.put(n.name(), z);
    }
    state.write(NAME + "/zones", zones);
  }
}
