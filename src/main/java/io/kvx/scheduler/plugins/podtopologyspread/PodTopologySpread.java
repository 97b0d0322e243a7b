package io.kvx.scheduler.plugins.podtopologyspread;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreFilterPlugin;
import io.kvx.scheduler.framework.PreScorePlugin;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Selectors;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;
import io.kvx.scheduler.plugins.nodeaffinity.NodeAffinity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Topology spread constraints. DoNotSchedule constraints filter: placing the pod in a domain must not
 * make (matching pods there + 1) − (the fewest in any eligible domain) exceed maxSkew. ScheduleAnyway
 * constraints score: fewer matching pods in the node's domains scores higher. Eligible nodes honour the
 * pod's node affinity (nodeAffinityPolicy Honor) and, if asked, its tolerations (nodeTaintsPolicy).
 * Pods with no constraints get the system defaults (zone skew 5, hostname skew 3, ScheduleAnyway) over
 * the selectors of the Services and controllers that select them.
 */
public final class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {

  public static final String NAME = "PodTopologySpread";
  public static final String REASON = "node(s) didn't match pod topology spread constraints";
  public static final String MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";
  private static final String FILTER_KEY = NAME + "/filter";
  private static final String SCORE_KEY = NAME + "/score";

  /** A constraint with its selector resolved (matchLabelKeys merged in). */
  record Constraint(String key, int maxSkew, int minDomains, LabelSelector selector, boolean honorAffinity,
                    boolean honorTaints) {}

  /** Matching pods per domain value for each constraint. */
  record Counts(List<Constraint> constraints, List<Map<String, Integer>> perDomain) {}

  private final boolean systemDefaults;

  public PodTopologySpread() {
    this(true);
  }

  public PodTopologySpread(boolean systemDefaults) {
    this.systemDefaults = systemDefaults;
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

  static List<Constraint> constraints(PodInfo pod, String whenUnsatisfiable) {
    List<Constraint> out = new ArrayList<>();
    for (TopologySpreadConstraint c : pod.spec().getTopologySpreadConstraints() == null
        ? List.<TopologySpreadConstraint>of() : pod.spec().getTopologySpreadConstraints()) {
      if (!whenUnsatisfiable.equals(c.getWhenUnsatisfiable())) continue;
      LabelSelector sel = c.getLabelSelector();
      if (c.getMatchLabelKeys() != null && !c.getMatchLabelKeys().isEmpty() && sel != null) {
        List<LabelSelectorRequirement> exprs = new ArrayList<>(sel.getMatchExpressions() == null ? List.of()
            : sel.getMatchExpressions());
        for (String k : c.getMatchLabelKeys()) {
          String v = pod.labels().get(k);
          if (v != null) exprs.add(new LabelSelectorRequirement(k, "In", List.of(v)));
        }
        sel = new LabelSelector(exprs, sel.getMatchLabels());
      }
      out.add(new Constraint(c.getTopologyKey(), c.getMaxSkew() == null ? 1 : c.getMaxSkew(),
          c.getMinDomains() == null ? 1 : c.getMinDomains(), sel,
          !"Ignore".equals(c.getNodeAffinityPolicy()), "Honor".equals(c.getNodeTaintsPolicy())));
    }
    return out;
  }

  private static boolean eligible(List<Constraint> cs, PodInfo pod, NodeInfo node) {
    for (Constraint c : cs) if (!node.labels().containsKey(c.key())) return false;
    Constraint first = cs.get(0);
    if (first.honorAffinity() && !NodeAffinity.matches(pod, node)) return false;
    return !first.honorTaints() || pod.toleratesAll(node.taintSet());
  }

  private static Counts count(List<Constraint> cs, PodInfo pod, Iterable<NodeInfo> nodes) {
    return count(cs, pod, nodes, null);
  }

  /**
   * Matching pods per domain of each constraint. With {@code domains} (per constraint), only nodes in
   * those domains are counted: scoring needs the counts of the domains some feasible node is in, as
   * kube-scheduler's PreScore counts (for kubernetes.io/hostname just the feasible nodes).
   */
  private static Counts count(List<Constraint> cs, PodInfo pod, Iterable<NodeInfo> nodes, List<Set<String>> domains) {
    List<Map<String, Integer>> per = new ArrayList<>();
    for (int i = 0; i < cs.size(); i++) per.add(new HashMap<>());
    String[] keys = new String[cs.size()];
    for (int i = 0; i < cs.size(); i++) keys[i] = memoKey(pod.namespace(), cs.get(i).selector());
    for (NodeInfo n : nodes) {
      if (!eligible(cs, pod, n)) continue;
      for (int i = 0; i < cs.size(); i++) {
        Constraint c = cs.get(i);
        if (domains != null && !domains.get(i).contains(n.labels().get(c.key()))) continue;
        LabelSelector sel = c.selector();
        String ns = pod.namespace();
        int matching = n.countPods(keys[i], p -> p.namespace().equals(ns)
            && p.pod().getMetadata().getDeletionTimestamp() == null && Selectors.matches(sel, p.labels()));
        per.get(i).merge(n.labels().get(c.key()), matching, Integer::sum);
      }
    }
    return new Counts(cs, per);
  }

  /** A canonical text for "pods of this namespace matching this selector" (labels sorted). */
  static String memoKey(String namespace, LabelSelector sel) {
    StringBuilder sb = new StringBuilder(NAME).append('|').append(namespace).append('|');
    if (sel == null) return sb.append("<none>").toString();
    if (sel.getMatchLabels() != null) sb.append(new java.util.TreeMap<>(sel.getMatchLabels()));
    sb.append('|');
    if (sel.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : sel.getMatchExpressions()) {
        sb.append(r.getKey()).append(' ').append(r.getOperator()).append(' ').append(r.getValues()).append(';');
      }
    }
    return sb.toString();
  }

  @Override
  public Status preFilter(CycleState state, PodInfo pod, Snapshot snapshot) {
    List<Constraint> cs = constraints(pod, "DoNotSchedule");
    if (cs.isEmpty()) return Status.SKIP;
    state.write(FILTER_KEY, count(cs, pod, snapshot.nodes()));
    return Status.SUCCESS;
  }

  @Override
  public Status filter(CycleState state, PodInfo pod, NodeInfo node) {
    Counts counts = state.read(FILTER_KEY);
    if (counts == null) return Status.SUCCESS;
    for (int i = 0; i < counts.constraints().size(); i++) {
      Constraint c = counts.constraints().get(i);
      String domain = node.labels().get(c.key());
      if (domain == null) return Status.unresolvable(MISSING_LABEL);
      Map<String, Integer> per = counts.perDomain().get(i);
      int min = Integer.MAX_VALUE;
      for (int v : per.values()) min = Math.min(min, v);
      if (per.isEmpty() || per.size() < c.minDomains()) min = 0;
      int self = Selectors.matches(c.selector(), pod.labels()) ? 1 : 0;
      int skew = per.getOrDefault(domain, 0) + self - min;
      if (skew > c.maxSkew()) return Status.unschedulable(REASON);
    }
    return Status.SUCCESS;
  }

  @Override
  public Status preScore(CycleState state, PodInfo pod, List<NodeInfo> feasible, Snapshot snapshot) {
    List<Constraint> cs = constraints(pod, "ScheduleAnyway");
    if (cs.isEmpty() && systemDefaults && (pod.spec().getTopologySpreadConstraints() == null
        || pod.spec().getTopologySpreadConstraints().isEmpty())) {
      List<LabelSelector> sels = snapshot.listers().spreadSelectors(pod);
      if (!sels.isEmpty()) {
        LabelSelector merged = merge(sels);
        cs = List.of(new Constraint("topology.kubernetes.io/zone", 5, 1, merged, true, false),
            new Constraint("kubernetes.io/hostname", 3, 1, merged, true, false));
        // System defaults apply only where the nodes carry the labels.
        cs = cs.stream().filter(c -> feasible.stream().anyMatch(n -> n.labels().containsKey(c.key()))).toList();
      }
    }
    if (cs.isEmpty()) return Status.SKIP;
    // Counted over every node of a domain that some feasible node is in (the spread is cluster-wide).
    List<Set<String>> domains = new ArrayList<>();
    for (Constraint c : cs) {
      Set<String> d = new java.util.HashSet<>();
      for (NodeInfo n : feasible) {
        String v = n.labels().get(c.key());
        if (v != null) d.add(v);
      }
      domains.add(d);
    }
    Counts counts = count(cs, pod, snapshot.nodes(), domains);
    state.write(SCORE_KEY, counts);
    return Status.SUCCESS;
  }

  private static LabelSelector merge(List<LabelSelector> sels) {
    Map<String, String> labels = new HashMap<>();
    List<LabelSelectorRequirement> exprs = new ArrayList<>();
    for (LabelSelector s : sels) {
      if (s.getMatchLabels() != null) labels.putAll(s.getMatchLabels());
      if (s.getMatchExpressions() != null) exprs.addAll(s.getMatchExpressions());
    }
    return new LabelSelector(exprs, labels);
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    Counts counts = state.read(SCORE_KEY);
    if (counts == null) return 0;
    double s = 0;
    for (int i = 0; i < counts.constraints().size(); i++) {
      Constraint c = counts.constraints().get(i);
      String domain = node.labels().get(c.key());
      if (domain == null) return -1;
      Map<String, Integer> per = counts.perDomain().get(i);
      // Constraints over many domains weigh more (log scale), as kube-scheduler does.
      double weight = Math.log(per.size() + 2);
      s += per.getOrDefault(domain, 0) * weight + (c.maxSkew() - 1);
    }
    return Math.round(s);
  }

  @Override
  public void normalizeScore(CycleState state, PodInfo pod, List<NodeInfo> nodes, long[] scores) {
    if (state.read(SCORE_KEY) == null) return;
    long min = Long.MAX_VALUE;
    long max = 0;
    for (long v : scores) {
      if (v < 0) continue;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    final long lo = min == Long.MAX_VALUE ? 0 : min;
    final long hi = max;
    for (int i = 0; i < scores.length; i++) {
      long v = scores[i];
      scores[i] = v < 0 ? 0L : hi == 0 ? MAX_SCORE : MAX_SCORE * (hi + lo - v) / hi;
    }
  }
}
