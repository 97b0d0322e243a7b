package io.kvx.scheduler;

import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.Framework;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PostFilterPlugin;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One scheduling cycle, pure (Nomad's shape: a snapshot in, a plan out): PreFilter, Filter over the
 * nodes (stopping once enough feasible nodes are found, as kube-scheduler's percentageOfNodesToScore),
 * PreScore, Score, NormalizeScore, the highest weighted sum wins. A pod that fits nowhere runs PostFilter
 * (preemption) and gets Kubernetes' FailedScheduling message.
 */
public final class Scheduler {

  /** kube-scheduler never looks for fewer feasible nodes than this. */
  static final int MIN_FEASIBLE_NODES_TO_FIND = 100;
  static final int MIN_FEASIBLE_NODES_PERCENTAGE = 5;

  /**
   * The plan for one pod: a node, or why not (message, the plugins that rejected it) and, from
   * preemption, a nominated node with the victims to evict.
   */
  public record Result(String node, String message, Set<String> rejectors, String nominatedNode,
                       List<PodInfo> victims, CycleState state, int evaluatedNodes, int feasibleNodes) {

    public boolean scheduled() {
      return node != null;
    }
  }

  private int nextStartNodeIndex;

  public Result schedule(Framework fw, PodInfo pod, Snapshot snapshot) {
    CycleState state = new CycleState();
    List<NodeInfo> all = snapshot.nodes();
    if (all.isEmpty()) {
      return new Result(null, "no nodes available to schedule pods", Set.of(), null, List.of(), state, 0, 0);
    }
    Status pre = fw.runPreFilter(state, pod, snapshot);
    Map<String, Status> filtered = new HashMap<>();
    if (!pre.isSuccess()) {
      if (pre.code() == Status.Code.ERROR) return error(pre, state);
      for (NodeInfo n : all) filtered.put(n.name(), pre);
      return unschedulable(fw, pod, snapshot, state, filtered, pre.message(), 0);
    }
    // A pod nominated by an earlier preemption tries its nominated node first.
    String nominated = pod.pod().getStatus() == null ? null : pod.pod().getStatus().getNominatedNodeName();
    if (nominated != null && !nominated.isEmpty() && snapshot.get(nominated) != null) {
      Status s = filter(fw, state, pod, snapshot, snapshot.get(nominated));
      if (s.isSuccess()) return new Result(nominated, null, Set.of(), null, List.of(), state, 1, 1);
    }
    int n = all.size();
    int want = numFeasibleNodesToFind(fw.percentageOfNodesToScore(), n);
    List<NodeInfo> feasible = new ArrayList<>(Math.min(want, n));
    // Where each feasible node is in the snapshot's list: in name order when the snapshot says so.
    int[] positions = new int[Math.min(want, n)];
    int start = nextStartNodeIndex % n;
    int processed = 0;
    for (int i = 0; i < n && feasible.size() < want; i++) {
      NodeInfo node = all.get((start + i) % n);
      processed++;
      Status s = filter(fw, state, pod, snapshot, node);
      if (s.isSuccess()) {
        positions[feasible.size()] = (start + i) % n;
        feasible.add(node);
      } else if (s.code() == Status.Code.ERROR) {
        return error(s, state);
      } else {
        filtered.put(node.name(), s);
      }
    }
    nextStartNodeIndex = (start + processed) % n;
    if (feasible.isEmpty()) return unschedulable(fw, pod, snapshot, state, filtered, null, processed);
    if (feasible.size() == 1) return new Result(feasible.get(0).name(), null, Set.of(), null, List.of(), state,
        processed, 1);
    long[] scores = fw.runScore(state, pod, feasible, snapshot);
    int best = -1;
    long bestScore = Long.MIN_VALUE;
    boolean byPosition = snapshot.sortedByName();
    for (int i = 0; i < scores.length; i++) {
      long s = scores[i];
      // Ties go to the first node by name, so plans are repeatable (kube-scheduler picks at random); in a snapshot
      // listed by name that is the first by position (no string comparisons over hundreds of tied nodes).
      if (s > bestScore || (s == bestScore && (byPosition ? positions[i] < positions[best]
          : feasible.get(i).name().compareTo(feasible.get(best).name()) < 0))) {
        bestScore = s;
        best = i;
      }
    }
    return new Result(feasible.get(best).name(), null, Set.of(), null, List.of(), state, processed, feasible.size());
  }

  /**
   * The filters on a node with the equal- or higher-priority pods nominated there added, and, when there are
   * such pods, on the node as it is too (a pod that fits only beside them, by inter-pod affinity to one of them,
   * must not count on pods that may never arrive), as kube-scheduler runs them.
   */
  private static Status filter(Framework fw, CycleState state, PodInfo pod, Snapshot snapshot, NodeInfo node) {
    NodeInfo withNominated = snapshot.withNominatedPods(node, pod);
    Status s = fw.runFilters(state, pod, withNominated);
    if (!s.isSuccess() || withNominated == node) return s;
    return fw.runFilters(state, pod, node);
  }

  /**
   * How many feasible nodes to look for: all of a small cluster; of a big one a share that shrinks as it
   * grows (50% minus 1% per 125 nodes, at least 5%) unless the profile sets a percentage.
   */
  static int numFeasibleNodesToFind(int percentage, int numAllNodes) {
    if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100) return numAllNodes;
    int pct = percentage;
    if (pct <= 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - numAllNodes / 125);
    return Math.max(MIN_FEASIBLE_NODES_TO_FIND, numAllNodes * pct / 100);
  }

  private static Result error(Status s, CycleState state) {
    return new Result(null, s.message(), Set.of(), null, List.of(), state, 0, 0);
  }

  private Result unschedulable(Framework fw, PodInfo pod, Snapshot snapshot, CycleState state,
                               Map<String, Status> filtered, String preFilterMessage, int processed) {
    Set<String> rejectors = new LinkedHashSet<>();
    filtered.values().forEach(s -> {
      if (s.plugin() != null) rejectors.add(s.plugin());
    });
    int total = snapshot.nodes().size();
    StringBuilder msg = new StringBuilder("0/").append(total).append(" nodes are available:");
    if (preFilterMessage != null) {
      msg.append(' ').append(preFilterMessage).append('.');
    } else {
      msg.append(' ').append(histogram(filtered.values())).append('.');
    }
    String nominated = null;
    List<PodInfo> victims = List.of();
    if (fw.hasPostFilters()) {
      PostFilterPlugin.Result r = fw.runPostFilter(state, pod, snapshot, filtered);
      if (r.status().isSuccess()) {
        nominated = r.nominatedNode();
        victims = r.victims();
      } else if (!r.status().reasons().isEmpty()) {
        msg.append(' ').append(r.status().message());
      }
    }
    return new Result(null, msg.toString(), rejectors, nominated, victims, state, processed, 0);
  }

  /** "3 Insufficient cpu, 2 node(s) didn't match ...": counts per reason, sorted as strings. */
  public static String histogram(Iterable<Status> statuses) {
    Map<String, Integer> reasons = new HashMap<>();
    for (Status s : statuses) for (String r : s.reasons()) reasons.merge(r, 1, Integer::sum);
    TreeMap<String, Boolean> sorted = new TreeMap<>();
    reasons.forEach((r, c) -> sorted.put(c + " " + r, true));
    return String.join(", ", sorted.keySet());
  }
}
