package io.kvx.scheduler.plugins.noderesources;

import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.ScorePlugin;

import java.util.List;

/**
 * BalancedResourceAllocation: favours nodes whose resources would be used evenly with the pod placed
 * (cpu 90% and memory 10% is worse than 50/50): 100 × (1 − standard deviation of the used fractions).
 */
public final class BalancedAllocation implements ScorePlugin {

  public static final String NAME = "NodeResourcesBalancedAllocation";

  private final List<NodeResourcesFit.ResourceWeight> resources;

  public BalancedAllocation() {
    this(NodeResourcesFit.DEFAULT_RESOURCES);
  }

  public BalancedAllocation(List<NodeResourcesFit.ResourceWeight> resources) {
    this.resources = resources.isEmpty() ? NodeResourcesFit.DEFAULT_RESOURCES : resources;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    double[] f = new double[resources.size()];
    int n = 0;
    double sum = 0;
    for (NodeResourcesFit.ResourceWeight rw : resources) {
      long cap = node.allocatable().get(rw.name());
      if (cap == 0) continue;
      double frac = Math.min(1.0, (double) NodeResourcesFit.requested(node, pod, rw.name()) / cap);
      f[n++] = frac;
      sum += frac;
    }
    if (n == 0) return 0;
    double mean = sum / n;
    double var = 0;
    for (int i = 0; i < n; i++) var += (f[i] - mean) * (f[i] - mean);
    double std = Math.sqrt(var / n);
    return (long) ((1 - std) * MAX_SCORE);
  }
}
