package io.kvx.scheduler;

import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.ScorePlugin;
import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One scheduling cycle, pure: filter every node, score the survivors, pick the highest weighted sum
 * (ties go to the first node by name, for repeatable plans). A pod that fits nowhere gets
 * Kubernetes' FailedScheduling message.
 */
public final class Scheduler {

  /** The chosen node, or null with the reason the pod fits nowhere. */
  public record Decision(String node, String message) {}

  /** A score plugin and its weight in the final sum. */
  public record WeightedScore(ScorePlugin plugin, int weight) {}

  private final List<FilterPlugin> filters;
  private final List<WeightedScore> scores;

  public Scheduler(List<FilterPlugin> filters, List<WeightedScore> scores) {
    this.filters = filters;
    this.scores = scores;
  }

  public Decision schedule(JsonObject pod, Collection<NodeInfo> nodes) {
    Map<String, Integer> reasons = new TreeMap<>();
    String best = null;
    long bestScore = Long.MIN_VALUE;
    for (NodeInfo node : nodes.stream().sorted((a, b) -> a.name().compareTo(b.name())).toList()) {
      String reason = null;
      for (FilterPlugin f : filters) {
        reason = f.filter(pod, node);
        if (reason != null) break;
      }
      if (reason != null) {
        reasons.merge(reason, 1, Integer::sum);
        continue;
      }
      long total = 0;
      for (WeightedScore s : scores) total += s.weight() * s.plugin().score(pod, node);
      if (total > bestScore) {
        bestScore = total;
        best = node.name();
      }
    }
    if (best != null) return new Decision(best, null);
    StringBuilder msg = new StringBuilder("0/" + nodes.size() + " nodes are available");
    if (!reasons.isEmpty()) {
      msg.append(": ");
      StringBuilder parts = new StringBuilder();
      reasons.forEach((r, n) -> parts.append(parts.isEmpty() ? "" : ", ").append(n).append(" ").append(r));
      msg.append(parts);
    }
    return new Decision(null, msg.append(".").toString());
  }
}
