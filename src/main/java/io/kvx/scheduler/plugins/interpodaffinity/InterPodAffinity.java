package io.kvx.scheduler.plugins.interpodaffinity;

import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.PreScorePlugin;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Inter-pod affinity. Filter: the pod's required affinity terms must find a matching pod in the node's
 * topology domain (or, for the first pod of a group, match the pod itself), its required anti-affinity
 * terms must find none, and no existing pod's required anti-affinity may match the pod. Score: preferred
 * terms of the pod and of existing pods (and existing pods' required affinity, at hardPodAffinityWeight)
 * add or subtract their weights per topology domain.
 */
public final class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {

  public static final String NAME = "InterPodAffinity";
  public static final String EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules";
  public static final String AFFINITY = "node(s) didn't match pod affinity rules";
  public static final String ANTI = "node(s) didn't match pod anti-affinity rules";
  private static final String FILTER_KEY = NAME + "/filter";
  private static final String SCORE_KEY = NAME + "/score";

  /** A topology domain: a label key and value. */
  record Domain(String key, String value) {}

  /** What PreFilter counts: pods matching each kind of term per domain. */
  record Counts(Map<Domain, Integer> existingAnti, Map<Domain, Integer> affinity, Map<Domain, Integer> anti,
                boolean anyAffinityMatch) {}

  private final long hardPodAffinityWeight;

  public InterPodAffinity() {
    this(1);
  }

  public InterPodAffinity(long hardPodAffinityWeight) {
    this.hardPodAffinityWeight = hardPodAffinityWeight;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<ClusterEvent> events() {
    return Set.of(ClusterEvent.NODE_ADD, ClusterEvent.NODE_UPDATE, ClusterEvent.ASSIGNED_POD_ADD,
        ClusterEvent.ASSIGNED_POD_DELETE);
  }

  /** Whether {@code target} is selected by a term written on a pod in {@code ownerNamespace}. */
  static boolean matches(PodAffinityTerm term, String ownerNamespace, PodInfo target, Listers listers) {
    if (term.getLabelSelector() == null) return false;
    List<String> namespaces = term.getNamespaces() == null ? List.of() : term.getNamespaces();
    boolean nsOk;
    if (term.getNamespaceSelector() != null) {
      nsOk = namespaces.contains(target.namespace())
          || Selectors.matches(term.getNamespaceSelector(), listers.namespaceLabels(target.namespace()));
    } else {
      nsOk = namespaces.isEmpty() ? ownerNamespace.equals(target.namespace()) : namespaces.contains(target.namespace());
    }
    return nsOk && Selectors.matches(term.getLabelSelector(), target.labels());
  }

  private static void count(Map<Domain, Integer> m, NodeInfo node, String key, int delta) {
    String v = node.labels().get(key);
    if (v != null) m.merge(new Domain(key, v), delta, Integer::sum);
  }

  @Override
  public Status preFilter(CycleState state, PodInfo pod, Snapshot snapshot) {
    List<PodAffinityTerm> affinity = pod.requiredAffinity();
    List<PodAffinityTerm> anti = pod.requiredAntiAffinity();
    List<NodeInfo> antiNodes = snapshot.havePodsWithRequiredAntiAffinity();
    if (affinity.isEmpty() && anti.isEmpty() && antiNodes.isEmpty()) return Status.SKIP;
    Listers l = snapshot.listers();
    Map<Domain, Integer> existingAnti = new HashMap<>();
    for (NodeInfo n : antiNodes) {
      for (PodInfo p : n.pods()) {
        for (PodAffinityTerm t : p.requiredAntiAffinity()) {
          if (matches(t, p.namespace(), pod, l)) count(existingAnti, n, t.getTopologyKey(), 1);
        }
      }
    }
    Map<Domain, Integer> aff = new HashMap<>();
    Map<Domain, Integer> antiCounts = new HashMap<>();
    boolean any = false;
    if (!affinity.isEmpty() || !anti.isEmpty()) {
      for (NodeInfo n : snapshot.nodes()) {
        for (PodInfo p : n.pods()) {
          boolean all = !affinity.isEmpty();
          for (PodAffinityTerm t : affinity) all &= matches(t, pod.namespace(), p, l);
          // A pod counts for affinity only if it matches every term (the terms are ANDed).
          if (all) {
            any = true;
            for (PodAffinityTerm t : affinity) count(aff, n, t.getTopologyKey(), 1);
          }
          for (PodAffinityTerm t : anti) {
            if (matches(t, pod.namespace(), p, l)) count(antiCounts, n, t.getTopologyKey(), 1);
          }
        }
      }
    }
    state.write(FILTER_KEY, new Counts(existingAnti, aff, antiCounts, any));
    return Status.SUCCESS;
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    Counts c = state.read(FILTER_KEY);
    if (c == null) return Status.SUCCESS;
    for (Map.Entry<String, String> label : node.labels().entrySet()) {
      if (c.existingAnti().getOrDefault(new Domain(label.getKey(), label.getValue()), 0) > 0) {
        return Status.unschedulable(EXISTING_ANTI);
      }
    }
    for (PodAffinityTerm t : pod.requiredAntiAffinity()) {
      String v = node.labels().get(t.getTopologyKey());
      if (v != null && c.anti().getOrDefault(new Domain(t.getTopologyKey(), v), 0) > 0) {
        return Status.unschedulable(ANTI);
      }
    }
    List<PodAffinityTerm> affinity = pod.requiredAffinity();
    if (!affinity.isEmpty()) {
      boolean ok = true;
      for (PodAffinityTerm t : affinity) {
        String v = node.labels().get(t.getTopologyKey());
        if (v == null || c.affinity().getOrDefault(new Domain(t.getTopologyKey(), v), 0) <= 0) {
          ok = false;
          break;
        }
      }
      if (!ok) {
        // The first pod of a group that selects itself may go anywhere that has the topology keys.
        boolean self = !c.anyAffinityMatch();
        for (PodAffinityTerm t : affinity) {
          self &= matches(t, pod.namespace(), pod, Listers.EMPTY) && node.labels().containsKey(t.getTopologyKey());
        }
        if (!self) return Status.unresolvable(AFFINITY);
      }
    }
    return Status.SUCCESS;
  }

  @Override
  public Status preScore(CycleState state, PodInfo pod, List<NodeInfo> feasible, Snapshot snapshot) {
    List<WeightedPodAffinityTerm> prefAff = pod.preferredAffinity();
    List<WeightedPodAffinityTerm> prefAnti = pod.preferredAntiAffinity();
    boolean own = !prefAff.isEmpty() || !prefAnti.isEmpty();
    List<NodeInfo> nodes = own ? snapshot.nodes() : snapshot.havePodsWithAffinity();
    if (nodes.isEmpty()) return Status.SKIP;
    Listers l = snapshot.listers();
    Map<Domain, Long> scores = new HashMap<>();
    for (NodeInfo n : nodes) {
      for (PodInfo p : n.pods()) {
        for (WeightedPodAffinityTerm w : prefAff) add(scores, n, w.getPodAffinityTerm(), pod.namespace(), p, w.getWeight(), l);
        for (WeightedPodAffinityTerm w : prefAnti) add(scores, n, w.getPodAffinityTerm(), pod.namespace(), p, -w.getWeight(), l);
        if (!p.hasAffinity()) continue;
        if (hardPodAffinityWeight > 0) {
          for (PodAffinityTerm t : p.requiredAffinity()) add(scores, n, t, p.namespace(), pod, hardPodAffinityWeight, l);
        }
        for (WeightedPodAffinityTerm w : p.preferredAffinity()) add(scores, n, w.getPodAffinityTerm(), p.namespace(), pod, w.getWeight(), l);
        for (WeightedPodAffinityTerm w : p.preferredAntiAffinity()) add(scores, n, w.getPodAffinityTerm(), p.namespace(), pod, -w.getWeight(), l);
      }
    }
    if (scores.isEmpty()) return Status.SKIP;
    state.write(SCORE_KEY, scores);
    return Status.SUCCESS;
  }

  private static void add(Map<Domain, Long> scores, NodeInfo node, PodAffinityTerm term, String ownerNs,
                          PodInfo target, long weight, Listers l) {
    if (weight == 0 || term == null || !matches(term, ownerNs, target, l)) return;
    String v = node.labels().get(term.getTopologyKey());
    if (v != null) scores.merge(new Domain(term.getTopologyKey(), v), weight, Long::sum);
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    Map<Domain, Long> scores = state.read(SCORE_KEY);
    if (scores == null) return 0;
    long s = 0;
    for (Map.Entry<String, String> label : node.labels().entrySet()) {
      s += scores.getOrDefault(new Domain(label.getKey(), label.getValue()), 0L);
    }
    return s;
  }

  @Override
  public void normalizeScore(CycleState state, PodInfo pod, List<NodeInfo> nodes, long[] scores) {
    if (state.read(SCORE_KEY) == null || scores.length == 0) return;
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    for (long v : scores) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    long span = max - min;
    for (int i = 0; i < scores.length; i++) scores[i] = span == 0 ? 0 : (scores[i] - min) * MAX_SCORE / span;
  }
}
