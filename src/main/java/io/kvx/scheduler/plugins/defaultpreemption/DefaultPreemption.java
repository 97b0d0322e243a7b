package io.kvx.scheduler.plugins.defaultpreemption;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.Framework;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PostFilterPlugin;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Preemption: for a pod that fits nowhere, finds nodes where evicting lower-priority pods would make it
 * fit, keeps as many of those pods as still allows the fit (highest priority first, PodDisruptionBudget-
 * protected ones before the rest), and picks the node whose victims violate the fewest budgets, then
 * have the lowest top priority, the lowest priority sum, and are fewest. Returns the plan; the caller
 * evicts and nominates.
 */
public final class DefaultPreemption implements PostFilterPlugin {

  public static final String NAME = "DefaultPreemption";
  public static final String NOT_HELPFUL = "Preemption is not helpful for scheduling";
  public static final String NO_VICTIMS = "No preemption victims found for incoming pod";

  private final Supplier<Framework> framework;

  /** A node where preemption works, and its cost. */
  record Candidate(String node, List<PodInfo> victims, int pdbViolations) {}

  public DefaultPreemption(Supplier<Framework> framework) {
    this.framework = framework;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Result postFilter(CycleState state, PodInfo pod, Snapshot snapshot, Map<String, Status> filtered) {
    if ("Never".equals(pod.spec().getPreemptionPolicy())) {
      return Result.failed(Status.unschedulable("preemption: not eligible due to preemptionPolicy=Never."));
    }
    int total = snapshot.nodes().size();
    Map<String, Integer> reasons = new HashMap<>();
    List<Candidate> candidates = new ArrayList<>();
    for (NodeInfo node : snapshot.nodes()) {
      Status s = filtered.get(node.name());
      if (s != null && s.code() == Status.Code.UNSCHEDULABLE_AND_UNRESOLVABLE) {
        reasons.merge(NOT_HELPFUL, 1, Integer::sum);
        continue;
      }
      Candidate c = s == null ? null : victims(pod, node, snapshot);
      if (c == null) reasons.merge(NO_VICTIMS, 1, Integer::sum);
      else candidates.add(c);
    }
    if (candidates.isEmpty()) {
      List<String> parts = new ArrayList<>();
      reasons.forEach((r, n) -> parts.add(n + " " + r));
      parts.sort(null);
      return Result.failed(Status.unschedulable("preemption: 0/" + total + " nodes are available: "
          + String.join(", ", parts) + "."));
    }
    candidates.sort(Comparator.comparingInt(Candidate::pdbViolations)
        .thenComparingInt(c -> c.victims().stream().mapToInt(PodInfo::priority).max().orElse(Integer.MIN_VALUE))
        .thenComparingLong(c -> c.victims().stream().mapToLong(v -> (long) v.priority() + Integer.MAX_VALUE + 1).sum())
        .thenComparingInt(c -> c.victims().size())
        .thenComparing(Candidate::node));
    Candidate best = candidates.get(0);
    return new Result(Status.SUCCESS, best.node(), best.victims());
  }

  /** The fewest lower-priority pods to evict from the node so the pod fits, or null if none does. */
  Candidate victims(PodInfo pod, NodeInfo node, Snapshot snapshot) {
    NodeInfo sim = node.copy();
    List<PodInfo> lower = new ArrayList<>();
    for (PodInfo p : node.pods()) {
      if (p.priority() < pod.priority() && p.pod().getMetadata().getDeletionTimestamp() == null) lower.add(p);
    }
    if (lower.isEmpty()) return null;
    for (PodInfo p : lower) sim.removePod(p.key());
    if (!fits(pod, sim, snapshot)) return null;
    // Try to keep pods, most important first; budget-protected ones get their chance first.
    Map<String, Integer> allowed = disruptionsAllowed(snapshot, node);
    lower.sort(Comparator.comparingInt(PodInfo::priority).reversed().thenComparingLong(PodInfo::createdAt));
    List<PodInfo> protectedFirst = new ArrayList<>();
    List<PodInfo> rest = new ArrayList<>();
    for (PodInfo p : lower) (violates(p, snapshot, allowed, false) ? protectedFirst : rest).add(p);
    List<PodInfo> victims = new ArrayList<>();
    int violations = 0;
    for (List<PodInfo> group : List.of(protectedFirst, rest)) {
      for (PodInfo p : group) {
        sim.addPod(p);
        if (!fits(pod, sim, snapshot)) {
          sim.removePod(p.key());
          victims.add(p);
          if (violates(p, snapshot, allowed, true)) violations++;
        }
      }
    }
    return new Candidate(node.name(), victims, violations);
  }

  private boolean fits(PodInfo pod, NodeInfo sim, Snapshot snapshot) {
    Framework fw = framework.get();
    CycleState st = new CycleState();
    Snapshot s = snapshot.with(sim);
    return fw.runPreFilter(st, pod, s).isSuccess() && fw.runFilters(st, pod, sim).isSuccess();
  }

  /** Per budget (namespace/name), how many more of its pods may go. */
  private static Map<String, Integer> disruptionsAllowed(Snapshot snapshot, NodeInfo node) {
    Map<String, Integer> out = new HashMap<>();
    for (PodInfo p : node.pods()) {
      for (PodDisruptionBudget b : snapshot.listers().pdbs(p.namespace())) {
        String key = b.getMetadata().getNamespace() + "/" + b.getMetadata().getName();
        if (out.containsKey(key)) continue;
        out.put(key, allowed(b, snapshot));
      }
    }
    return out;
  }

  static int allowed(PodDisruptionBudget b, Snapshot snapshot) {
    if (b.getStatus() != null && b.getStatus().getObservedGeneration() != null
        && b.getStatus().getDisruptionsAllowed() != null) {
      return b.getStatus().getDisruptionsAllowed();
    }
    // No disruption controller has looked at it yet: work it out from the pods we know.
    int matching = 0;
    for (NodeInfo n : snapshot.nodes()) {
      for (PodInfo p : n.pods()) {
        if (p.namespace().equals(b.getMetadata().getNamespace()) && b.getSpec() != null
            && Selectors.matches(b.getSpec().getSelector(), p.labels())) matching++;
      }
    }
    if (b.getSpec() == null) return Integer.MAX_VALUE;
    if (b.getSpec().getMinAvailable() != null) return matching - resolve(b.getSpec().getMinAvailable(), matching, true);
    if (b.getSpec().getMaxUnavailable() != null) return resolve(b.getSpec().getMaxUnavailable(), matching, false);
    return Integer.MAX_VALUE;
  }

  private static int resolve(IntOrString v, int total, boolean roundUp) {
    if (v.getIntVal() != null) return v.getIntVal();
    String s = v.getStrVal();
    if (s != null && s.endsWith("%")) {
      double pct = Double.parseDouble(s.substring(0, s.length() - 1)) / 100.0;
      return (int) (roundUp ? Math.ceil(pct * total) : Math.floor(pct * total));
    }
    return s == null ? 0 : Integer.parseInt(s);
  }

  /** Whether evicting the pod breaks a budget; {@code consume} spends the budget's allowance. */
  private static boolean violates(PodInfo p, Snapshot snapshot, Map<String, Integer> allowed, boolean consume) {
    boolean violated = false;
    for (PodDisruptionBudget b : snapshot.listers().pdbs(p.namespace())) {
      if (b.getSpec() == null || !Selectors.matches(b.getSpec().getSelector(), p.labels())) continue;
      String key = b.getMetadata().getNamespace() + "/" + b.getMetadata().getName();
      int left = allowed.getOrDefault(key, Integer.MAX_VALUE);
      if (left <= 0) violated = true;
      if (consume) allowed.put(key, left - 1);
    }
    return violated;
  }
}
