package io.kvx.scheduler;

import io.fabric8.kubernetes.api.model.Node;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Taints;
import io.fabric8.kubernetes.api.model.Taint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What the scheduler knows of the cluster, pure: nodes and the pods on them, bound or assumed (a pod
 * counts against its node from the moment the scheduler picks it, before the binding is written, so
 * the next attempt already sees it). Snapshots share the NodeInfos; a cycle runs to completion before
 * the cache changes again.
 */
public final class SchedulerCache {

  private final Map<String, NodeInfo> nodes = new HashMap<>();
  private final Map<String, String> podNode = new HashMap<>();
  private final Set<String> assumed = new HashSet<>();
  private List<NodeInfo> ordered;
  private Map<String, NodeInfo> index;
  /** On how many nodes each image is, kept between node changes (ImageLocality asks for it every attempt). */
  private Map<String, Integer> imageNodes;
  /**
   * The nodes with pods that have (anti-)affinity, kept until such a pod or a node comes or goes (InterPodAffinity
   * asks for them every attempt; usually there are none).
   */
  private List<NodeInfo> withAffinity;
  private List<NodeInfo> withRequiredAntiAffinity;
  /** One shared taint set per distinct list of taints (see {@link Taints}). */
  private final Map<List<Taint>, Taints> taintSets = new HashMap<>();

  /** Adds or updates a node; true if something a plugin looks at changed. */
  public boolean upsertNode(Node node) {
    String name = node.getMetadata().getName();
    NodeInfo info = nodes.get(name);
    if (info == null) {
      info = new NodeInfo(node);
      info.internTaints(taintSets);
      nodes.put(name, info);
      nodesChanged();
      return true;
    }
    boolean wasPlaceholder = info.node() == null;
    var labels = info.labels();
    var taints = info.taints();
    var alloc = info.allocatable();
    var images = info.images().keySet();
    boolean unsched = info.unschedulable();
    info.setNode(node);
    // Sets no node uses any more are dropped now and then (taints change rarely).
    if (taintSets.size() > 4 * nodes.size() + 16) taintSets.clear();
    info.internTaints(taintSets);
    if (wasPlaceholder) nodesChanged();
    if (wasPlaceholder || !images.equals(info.images().keySet())) imageNodes = null;
    return wasPlaceholder || !labels.equals(info.labels()) || !taints.equals(info.taints())
        || !alloc.equals(info.allocatable()) || unsched != info.unschedulable()
        || !images.equals(info.images().keySet());
  }

  public void removeNode(String name) {
    NodeInfo info = nodes.get(name);
    if (info == null) return;
    if (info.pods().isEmpty()) nodes.remove(name);
    else nodes.put(name, placeholder(info));
    nodesChanged();
  }

  private void nodesChanged() {
    ordered = null;
    imageNodes = null;
    withAffinity = null;
    withRequiredAntiAffinity = null;
  }

  /** A pod with (anti-)affinity came or went: the lists of nodes with such pods are made again when asked. */
  private void affinityChanged(PodInfo pod) {
    if (pod != null && pod.hasAffinity()) {
      withAffinity = null;
      withRequiredAntiAffinity = null;
    }
  }

  /** Pods may outlive their node in the cache (until their deletion arrives); they need a home. */
  private static NodeInfo placeholder(NodeInfo info) {
    NodeInfo p = new NodeInfo(info.name());
    info.pods().forEach(p::addPod);
    return p;
  }

  /** A pod bound to a node (also confirms an assumed pod). Returns true if it is new on the node. */
  public boolean addPod(PodInfo pod) {
    String node = pod.nodeName();
    String old = podNode.get(pod.key());
    assumed.remove(pod.key());
    if (old != null && !old.equals(node)) removePod(pod.key());
    podNode.put(pod.key(), node);
    NodeInfo info = nodes.computeIfAbsent(node, NodeInfo::new);
    affinityChanged(info.pod(pod.key()));
    info.addPod(pod);
    affinityChanged(pod);
    return old == null;
  }

  /** The pod counts against the node from now, before the binding is written. */
  public void assume(PodInfo pod, String node) {
    podNode.put(pod.key(), node);
    assumed.add(pod.key());
    NodeInfo info = nodes.computeIfAbsent(node, NodeInfo::new);
    affinityChanged(info.pod(pod.key()));
    info.addPod(pod);
    affinityChanged(pod);
  }

  /** The binding failed: the assumed pod no longer counts. */
  public void forget(String key) {
    if (assumed.remove(key)) removePod(key);
  }

  /** The pod of that key where the cache has it (bound or assumed), or null. */
  public PodInfo pod(String key) {
    String node = podNode.get(key);
    NodeInfo info = node == null ? null : nodes.get(node);
    return info == null ? null : info.pod(key);
  }

  public boolean isAssumed(String key) {
    return assumed.contains(key);
  }

  public boolean placed(String key) {
    return podNode.containsKey(key);
  }

  /** Removes a pod from its node; returns whether it was on one. */
  public boolean removePod(String key) {
    String node = podNode.remove(key);
    assumed.remove(key);
    if (node == null) return false;
    NodeInfo info = nodes.get(node);
    if (info != null) {
      affinityChanged(info.pod(key));
      info.removePod(key);
      if (info.node() == null && info.pods().isEmpty()) nodes.remove(node);
    }
    return true;
  }

  public Snapshot snapshot(Listers listers) {
    if (ordered == null) {
      List<NodeInfo> l = new ArrayList<>();
      for (NodeInfo n : nodes.values()) if (n.node() != null) l.add(n);
      l.sort(Comparator.comparing(NodeInfo::name));
      ordered = l;
      index = Snapshot.index(l);
    }
    if (imageNodes == null) imageNodes = Snapshot.countImages(ordered);
    if (withAffinity == null) {
      withAffinity = ordered.stream().filter(NodeInfo::hasPodsWithAffinity).toList();
      withRequiredAntiAffinity = ordered.stream().filter(NodeInfo::hasPodsWithRequiredAntiAffinity).toList();
    }
    return new Snapshot(ordered, index, listers).inNameOrder().withImageCounts(imageNodes)
        .withAffinityLists(withAffinity, withRequiredAntiAffinity);
  }

  public NodeInfo node(String name) {
    return nodes.get(name);
  }

  public int nodeCount() {
    return (int) nodes.values().stream().filter(n -> n.node() != null).count();
  }

  static boolean same(Object a, Object b) {
    return Objects.equals(a, b);
  }
}
