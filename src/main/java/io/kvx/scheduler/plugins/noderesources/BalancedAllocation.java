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
  private final String[] names;
  private final int[] kinds;

  public BalancedAllocation() {
    this(NodeResourcesFit.DEFAULT_RESOURCES);
  }

  public BalancedAllocation(List<NodeResourcesFit.ResourceWeight> resources) {
    this.resources = resources.isEmpty() ? NodeResourcesFit.DEFAULT_RESOURCES : resources;
    this.names = new String[this.resources.size()];
    this.kinds = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      names[i] = this.resources.get(i).name();
      kinds[i] = NodeResourcesFit.kind(names[i]);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    // Each fraction once (its lookups are the cost), then mean and standard deviation.
    double[] fractions = new double[names.length];
    int n = 0;
    double sum = 0;
    for (int i = 0; i < names.length; i++) {
      double frac = fraction(node, pod, i);
      if (frac < 0) continue;
      fractions[n++] = frac;
      sum += frac;
    }
    if (n == 0) return 0;
    double mean = sum / n;
    double var = 0;
    for (int i = 0; i < n; i++) var += (fractions[i] - mean) * (fractions[i] - mean);
    double std = Math.sqrt(var / n);
    return (long) ((1 - std) * MAX_SCORE);
  }

  /** The share of resource {@code i} used with the pod placed, at most 1; -1 if the node has none of it. */
  private double fraction(NodeInfo node, PodInfo pod, int i) {
    long cap = NodeResourcesFit.allocatable(node, kinds[i], names[i]);
    if (cap == 0) return -1;
    return Math.min(1.0, (double) NodeResourcesFit.requested(node, pod, kinds[i], names[i]) / cap);
  }
}
