package io.kvx.scheduler;

import io.fabric8.kubernetes.api.model.Node;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Snapshot;

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

  /** Adds or updates a node; true if something a plugin looks at changed. */
  public boolean upsertNode(Node node) {
    String name = node.getMetadata().getName();
    NodeInfo info = nodes.get(name);
    if (info == null) {
      nodes.put(name, new NodeInfo(node));
      ordered = null;
      imageNodes = null;
      return true;
    }
    boolean wasPlaceholder = info.node() == null;
    var labels = info.labels();
    var taints = info.taints();
    var alloc = info.allocatable();
    var images = info.images().keySet();
    boolean unsched = info.unschedulable();
    info.setNode(node);
    if (wasPlaceholder) ordered = null;
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
    ordered = null;
    imageNodes = null;
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
    nodes.computeIfAbsent(node, NodeInfo::new).addPod(pod);
    return old == null;
  }

  /** The pod counts against the node from now, before the binding is written. */
  public void assume(PodInfo pod, String node) {
    podNode.put(pod.key(), node);
    assumed.add(pod.key());
    nodes.computeIfAbsent(node, NodeInfo::new).addPod(pod);
  }

  /** The binding failed: the assumed pod no longer counts. */
  public void forget(String key) {
    if (assumed.remove(key)) removePod(key);
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
    return new Snapshot(ordered, index, listers).withImageCounts(imageNodes);
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
