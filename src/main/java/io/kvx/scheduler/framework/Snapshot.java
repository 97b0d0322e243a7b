package io.kvx.scheduler.framework;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster as one scheduling attempt sees it: every node with its pods, and listers for the rest.
 * Read-only for plugins; the scheduler's cache owns the NodeInfos.
 */
public final class Snapshot {

  private final List<NodeInfo> nodes;
  private final Map<String, NodeInfo> byName;
  private final Listers listers;
  private List<NodeInfo> withAffinity;
  private List<NodeInfo> withRequiredAntiAffinity;
  private Map<String, Integer> imageNodes;
  /** Pods waiting for the room a preemption made: node name -> pods nominated there. */
  private Map<String, ? extends Collection<PodInfo>> nominated = Map.of();

  private boolean sortedByName;

  public Snapshot(List<NodeInfo> nodes, Listers listers) {
    this(nodes, index(nodes), listers);
  }

  /** With the name index precomputed (the cache keeps one between node changes). */
  public Snapshot(List<NodeInfo> nodes, Map<String, NodeInfo> byName, Listers listers) {
    this.nodes = nodes;
    this.byName = byName;
    this.listers = listers;
  }

  public static Map<String, NodeInfo> index(List<NodeInfo> nodes) {
    Map<String, NodeInfo> m = new HashMap<>(nodes.size() * 2);
    for (NodeInfo n : nodes) m.put(n.name(), n);
    return m;
  }

  public static Snapshot of(Collection<NodeInfo> nodes) {
    return new Snapshot(new ArrayList<>(nodes), Listers.EMPTY);
  }

  /** The same snapshot knowing which pods are nominated to which node (status.nominatedNodeName). */
  public Snapshot withNominated(Map<String, ? extends Collection<PodInfo>> byNode) {
    this.nominated = byNode;
    return this;
  }

  /**
   * The node as {@code pod} must see it: with the pods nominated there that are not lower in priority than it added,
   * as kube-scheduler filters (so that the room a preemption freed is not taken by a pod that would not have
   * preempted for it). The node itself when there are none.
   */
  public NodeInfo withNominatedPods(NodeInfo node, PodInfo pod) {
    if (nominated.isEmpty()) return node; // the usual case: no lookup by name (a cache miss per node)
    Collection<PodInfo> waiting = nominated.get(node.name());
    if (waiting == null || waiting.isEmpty()) return node;
    NodeInfo copy = null;
    for (PodInfo p : waiting) {
      if (p.key().equals(pod.key()) || p.priority() < pod.priority()) continue;
      if (copy == null) copy = node.copy();
      copy.addPod(p);
    }
    return copy == null ? node : copy;
  }

  public List<NodeInfo> nodes() {
    return nodes;
  }

  /** Whether {@link #nodes()} is in name order (the scheduler cache's snapshots are). */
  public boolean sortedByName() {
    return sortedByName;
  }

  /** Says that {@link #nodes()} is in name order. */
  public Snapshot inNameOrder() {
    this.sortedByName = true;
    return this;
  }

  public NodeInfo get(String name) {
    return byName.get(name);
  }

  public Listers listers() {
    return listers;
  }

  /** The same snapshot with one node replaced (preemption dry runs). */
  public Snapshot with(NodeInfo replacement) {
    List<NodeInfo> copy = new ArrayList<>(nodes.size());
    for (NodeInfo n : nodes) copy.add(n.name().equals(replacement.name()) ? replacement : n);
    return new Snapshot(copy, listers);
  }

  public List<NodeInfo> havePodsWithAffinity() {
    if (withAffinity == null) withAffinity = nodes.stream().filter(NodeInfo::hasPodsWithAffinity).toList();
    return withAffinity;
  }

  public List<NodeInfo> havePodsWithRequiredAntiAffinity() {
    if (withRequiredAntiAffinity == null) {
      withRequiredAntiAffinity = nodes.stream().filter(NodeInfo::hasPodsWithRequiredAntiAffinity).toList();
    }
    return withRequiredAntiAffinity;
  }

  /** On how many nodes each (normalized) image is present. */
  public int nodesWithImage(String image) {
    if (imageNodes == null) imageNodes = countImages(nodes);
    return imageNodes.getOrDefault(image, 0);
  }

  /** Image -> how many of {@code nodes} have it. */
  public static Map<String, Integer> countImages(List<NodeInfo> nodes) {
    Map<String, Integer> m = new HashMap<>();
    for (NodeInfo n : nodes) for (String i : n.images().keySet()) m.merge(i, 1, Integer::sum);
    return m;
  }

  /** The same snapshot with the lists of nodes with (anti-)affinity pods already made (the cache keeps them). */
  public Snapshot withAffinityLists(List<NodeInfo> affinity, List<NodeInfo> requiredAntiAffinity) {
    this.withAffinity = affinity;
    this.withRequiredAntiAffinity = requiredAntiAffinity;
    return this;
  }

  /** The same snapshot with the image counts of its nodes already made (the scheduler's cache keeps them). */
  public Snapshot withImageCounts(Map<String, Integer> counts) {
    this.imageNodes = counts;
    return this;
  }

}
