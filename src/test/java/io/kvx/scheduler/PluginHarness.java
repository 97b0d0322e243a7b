package io.kvx.scheduler;

import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.PreScorePlugin;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs one plugin's extension points the way the framework does. */
public final class PluginHarness {

  private PluginHarness() {
  }

  /** PreFilter then Filter on one node: the reasons, or "" if it fits. */
  public static String filter(FilterPlugin p, PodInfo pod, NodeInfo node, List<NodeInfo> all, Listers listers) {
    CycleState state = new CycleState();
    Snapshot s = new Snapshot(all, listers);
    if (p instanceof PreFilterPlugin pf) {
      Status st = pf.preFilter(state, pod, s);
      if (st.isSkip()) return "";
      if (!st.isSuccess()) return st.message();
    }
    Status st = p.filter(state, pod, node);
    return st.isSuccess() ? "" : st.message();
  }

  public static String filter(FilterPlugin p, PodInfo pod, NodeInfo node) {
    return filter(p, pod, node, List.of(node), Listers.EMPTY);
  }

  /** PreScore, Score and NormalizeScore over all nodes: node → 0..100. */
  public static Map<String, Long> score(ScorePlugin p, PodInfo pod, List<NodeInfo> nodes, Listers listers) {
    CycleState state = new CycleState();
    Snapshot s = new Snapshot(nodes, listers);
    Map<String, Long> out = new LinkedHashMap<>();
    if (p instanceof PreScorePlugin ps && ps.preScore(state, pod, nodes, s).isSkip()) {
      nodes.forEach(n -> out.put(n.name(), 0L));
      return out;
    }
    long[] scores = new long[nodes.size()];
    for (int i = 0; i < scores.length; i++) scores[i] = p.score(state, pod, nodes.get(i));
    p.normalizeScore(state, pod, nodes, scores);
    for (int i = 0; i < scores.length; i++) out.put(nodes.get(i).name(), scores[i]);
    return out;
  }

  public static Map<String, Long> score(ScorePlugin p, PodInfo pod, List<NodeInfo> nodes) {
    return score(p, pod, nodes, Listers.EMPTY);
  }
}
