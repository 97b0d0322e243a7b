package io.kvx.scheduler.plugins.noderesources;

import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Resource;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Status;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PodFitsResources as a filter (cpu, memory, ephemeral-storage, pod count, extended resources; every
 * shortage is a reason) and the node-resource scores: LeastAllocated (LeastRequestedPriority: more room
 * left scores higher), MostAllocated (bin packing) or RequestedToCapacityRatio, over weighted resources.
 */
public final class NodeResourcesFit implements FilterPlugin, ScorePlugin {

  public static final String NAME = "NodeResourcesFit";

  public enum Strategy { LeastAllocated, MostAllocated, RequestedToCapacityRatio }

  /** A scored resource and its weight. */
  public record ResourceWeight(String name, long weight) {}

  /** A point of the RequestedToCapacityRatio shape: utilization 0..100 → score 0..10. */
  public record ShapePoint(long utilization, long score) {}

  public static final List<ResourceWeight> DEFAULT_RESOURCES = List.of(new ResourceWeight(Resource.CPU, 1),
      new ResourceWeight(Resource.MEMORY, 1));

  private final Strategy strategy;
  private final List<ResourceWeight> resources;
  /** The scored resources as arrays: name, field ({@link #kind}) and weight. */
  private final String[] names;
  private final int[] kinds;
  private final long[] weightOf;
  private final List<ShapePoint> shape;
  private final Set<String> ignored;
  private final Set<String> ignoredGroups;

  public NodeResourcesFit() {
    this(Strategy.LeastAllocated, DEFAULT_RESOURCES, List.of(), Set.of(), Set.of());
  }

  public NodeResourcesFit(Strategy strategy, List<ResourceWeight> resources, List<ShapePoint> shape,
                          Set<String> ignoredResources, Set<String> ignoredResourceGroups) {
    this.strategy = strategy;
    this.resources = resources.isEmpty() ? DEFAULT_RESOURCES : resources;
    this.names = new String[this.resources.size()];
    this.kinds = new int[names.length];
    this.weightOf = new long[names.length];
    for (int i = 0; i < names.length; i++) {
      names[i] = this.resources.get(i).name();
      kinds[i] = kind(names[i]);
      weightOf[i] = this.resources.get(i).weight();
    }
    this.shape = shape.isEmpty() ? List.of(new ShapePoint(0, 10), new ShapePoint(100, 0)) : shape;
    this.ignored = ignoredResources;
    this.ignoredGroups = ignoredResourceGroups;
  }

  public Strategy strategy() {
    return strategy;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<ClusterEvent> events() {
    return Set.of(ClusterEvent.NODE_ADD, ClusterEvent.NODE_UPDATE, ClusterEvent.ASSIGNED_POD_DELETE);
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    Resource want = pod.requests();
    // The common case, from the node's own fields and without a list: everything fits.
    if (node.requestedPods() + 1 <= node.allocatablePods()
        && (want.milliCpu() <= 0 || node.requestedMilliCpu() + want.milliCpu() <= node.allocatableMilliCpu())
        && (want.memory() <= 0 || node.requestedMemory() + want.memory() <= node.allocatableMemory())
        && (want.ephemeralStorage() <= 0
            || node.requestedEphemeralStorage() + want.ephemeralStorage() <= node.allocatableEphemeralStorage())
        && want.scalar().isEmpty()) {
      return Status.SUCCESS;
    }
    Resource used = node.requested();
    Resource cap = node.allocatable();
    List<String> reasons = new ArrayList<>();
    // Preemption helps only if the pod would fit on the empty node.
    boolean unresolvable = false;
    if (used.pods() + 1 > cap.pods()) reasons.add("Too many pods");
    for (String r : List.of(Resource.CPU, Resource.MEMORY, Resource.EPHEMERAL_STORAGE)) {
      long w = want.get(r);
      if (w > 0 && used.get(r) + w > cap.get(r)) {
        reasons.add("Insufficient " + r);
        if (w > cap.get(r)) unresolvable = true;
      }
    }
    for (Map.Entry<String, Long> e : want.scalar().entrySet()) {
      String r = e.getKey();
      if (e.getValue() <= 0 || ignored.contains(r)) continue;
      int slash = r.indexOf('/');
      if (slash > 0 && ignoredGroups.contains(r.substring(0, slash))) continue;
      if (used.get(r) + e.getValue() > cap.get(r)) {
        reasons.add("Insufficient " + r);
        if (e.getValue() > cap.get(r)) unresolvable = true;
      }
    }
    if (reasons.isEmpty()) return Status.SUCCESS;
    String[] rs = reasons.toArray(String[]::new);
    return unresolvable ? Status.unresolvable(rs) : Status.unschedulable(rs);
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    long total = 0;
    long weights = 0;
    for (int i = 0; i < names.length; i++) {
      long cap = allocatable(node, kinds[i], names[i]);
      if (cap == 0) continue;
      long req = requested(node, pod, kinds[i], names[i]);
      long s = switch (strategy) {
        case LeastAllocated -> req > cap ? 0 : (cap - req) * MAX_SCORE / cap;
        case MostAllocated -> req > cap ? MAX_SCORE : req * MAX_SCORE / cap;
        case RequestedToCapacityRatio -> shapeScore(Math.min(100, req * 100 / cap));
      };
      total += s * weightOf[i];
      weights += weightOf[i];
    }
    return weights == 0 ? 0 : total / weights;
  }

  /** Which field of a {@link Resource} a name reads: cpu, memory, ephemeral-storage, pods, else a scalar. */
  static int kind(String resource) {
    return switch (resource) {
      case Resource.CPU -> 0;
      case Resource.MEMORY -> 1;
      case Resource.EPHEMERAL_STORAGE -> 2;
      case Resource.PODS -> 3;
      default -> 4;
    };
  }

  static long allocatable(NodeInfo node, int kind, String name) {
    return switch (kind) {
      case 0 -> node.allocatableMilliCpu();
      case 1 -> node.allocatableMemory();
      case 2 -> node.allocatableEphemeralStorage();
      case 3 -> node.allocatablePods();
      default -> node.allocatable().get(name);
    };
  }

  /** Requested on the node with the pod; cpu and memory count a request of zero as the defaults. */
  static long requested(NodeInfo node, PodInfo pod, int kind, String name) {
    return switch (kind) {
      case 0 -> node.nonZeroRequestedMilliCpu() + pod.nonZeroRequests().milliCpu();
      case 1 -> node.nonZeroRequestedMemory() + pod.nonZeroRequests().memory();
      case 2 -> node.requestedEphemeralStorage() + pod.requests().ephemeralStorage();
      case 3 -> node.requestedPods() + pod.requests().pods();
      default -> node.requested().get(name) + pod.requests().get(name);
    };
  }

  static long requested(NodeInfo node, PodInfo pod, String resource) {
    return requested(node, pod, kind(resource), resource);
  }

  private long shapeScore(long utilization) {
    // Piecewise linear through the shape points; the shape's scores are 0..10.
    ShapePoint prev = shape.get(0);
    if (utilization <= prev.utilization()) return prev.score() * 10;
    for (ShapePoint p : shape) {
      if (utilization <= p.utilization()) {
        long span = p.utilization() - prev.utilization();
        long s = span == 0 ? p.score() * 10
            : (prev.score() * 10 * span + (p.score() - prev.score()) * 10 * (utilization - prev.utilization())) / span;
        return s;
      }
      prev = p;
    }
    return prev.score() * 10;
  }
}
