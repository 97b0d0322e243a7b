package io.kvx.scheduler.framework;

import io.fabric8.kubernetes.api.model.ContainerImage;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Taint;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One node as the scheduler sees it: the Node, its pods (bound or assumed), what they request, the host
 * ports they hold, which of them carry affinity, and the images the node has. Also the node's
 * effective taints: spec.taints plus the taints Kubernetes' node lifecycle controller derives from
 * conditions (not-ready, unreachable, memory/disk/pid pressure, network-unavailable), so a pressured
 * node repels pods that do not tolerate it.
 */
public final class NodeInfo {

  public static final int DEFAULT_MAX_PODS = 110;

  private final String name;
  private Node node;
  private Resource allocatable = Resource.ZERO;
  private Taints taints = Taints.NONE;
  private Map<String, Long> images = Map.of();
  private Map<String, String> labels = Map.of();
  private final Map<String, PodInfo> pods = new LinkedHashMap<>();
  private Resource requested = Resource.ZERO;
  private Resource nonZeroRequested = Resource.ZERO;
  private final List<PodInfo.HostPort> usedPorts = new ArrayList<>();
  private int withAffinity;
  private int withRequiredAntiAffinity;

  public NodeInfo(String name) {
    this.name = name;
  }

  public NodeInfo(Node node) {
    this(node.getMetadata().getName());
    setNode(node);
  }

  /** spec.unschedulable, read once per node change (every filter pass asks). */
  private boolean unschedulable;

  public void setNode(Node node) {
    this.node = node;
    var status = node.getStatus();
    var list = status == null ? null : status.getAllocatable() != null && !status.getAllocatable().isEmpty()
        ? status.getAllocatable() : status.getCapacity();
    Resource alloc = Resource.of(list);
    if (list == null || !list.containsKey(Resource.PODS)) alloc = alloc.withPods(DEFAULT_MAX_PODS);
    this.allocatable = alloc;
    this.labels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    this.taints = new Taints(effectiveTaints(node));
    this.unschedulable = node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
    Map<String, Long> img = new HashMap<>();
    if (status != null && status.getImages() != null) {
      for (ContainerImage ci : status.getImages()) {
        long size = ci.getSizeBytes() == null ? 0 : ci.getSizeBytes();
        for (String n : PodInfo.list(ci.getNames())) img.put(normalizeImage(n), size);
      }
    }
    this.images = img;
  }

  /** "busybox" and "docker.io/library/busybox:latest" are the same image. */
  public static String normalizeImage(String image) {
    String s = image;
    int at = s.indexOf('@');
    if (at < 0 && s.lastIndexOf(':') <= s.lastIndexOf('/')) s = s + ":latest";
    int slash = s.indexOf('/');
    if (slash < 0) {
      s = "docker.io/library/" + s;
    } else {
      String first = s.substring(0, slash);
      if (!first.contains(".") && !first.contains(":") && !first.equals("localhost")) s = "docker.io/" + s;
    }
    return s;
  }

  static List<Taint> effectiveTaints(Node node) {
    List<Taint> out = new ArrayList<>();
    if (node.getSpec() != null && node.getSpec().getTaints() != null) out.addAll(node.getSpec().getTaints());
    Map<String, String> cond = new HashMap<>();
    if (node.getStatus() != null && node.getStatus().getConditions() != null) {
      for (NodeCondition c : node.getStatus().getConditions()) cond.put(c.getType(), c.getStatus());
    }
    String ready = cond.get("Ready");
    if (ready == null || "False".equals(ready)) add(out, "node.kubernetes.io/not-ready", "NoSchedule");
    else if ("Unknown".equals(ready)) add(out, "node.kubernetes.io/unreachable", "NoSchedule");
    if ("True".equals(cond.get("MemoryPressure"))) add(out, "node.kubernetes.io/memory-pressure", "NoSchedule");
    if ("True".equals(cond.get("DiskPressure"))) add(out, "node.kubernetes.io/disk-pressure", "NoSchedule");
    if ("True".equals(cond.get("PIDPressure"))) add(out, "node.kubernetes.io/pid-pressure", "NoSchedule");
    if ("True".equals(cond.get("NetworkUnavailable"))) {
      add(out, "node.kubernetes.io/network-unavailable", "NoSchedule");
    }
    return List.copyOf(out);
  }

  private static void add(List<Taint> taints, String key, String effect) {
    for (Taint t : taints) if (key.equals(t.getKey()) && effect.equals(t.getEffect())) return;
    Taint t = new Taint();
    t.setKey(key);
    t.setEffect(effect);
    taints.add(t);
  }

  public void addPod(PodInfo p) {
    PodInfo old = pods.put(p.key(), p);
    if (old != null) account(old, -1);
    account(p, 1);
  }

  public boolean removePod(String key) {
    PodInfo old = pods.remove(key);
    if (old == null) return false;
    account(old, -1);
    return true;
  }

  /** Bumped by every pod change, so a memoised count is known to be current. */
  private int podGeneration;
  /** A few recent counts of matching pods: key -> {generation, count}, least recently used dropped. */
  private final Map<String, int[]> matchMemo = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, int[]> eldest) {
      return size() > 8;
    }
  };

  /**
   * How many of this node's pods {@code match}; {@code key} names the predicate (same key, same
   * predicate), so the pods of one controller, scheduled one after another, are not counted again on
   * every node whose pods did not change in between.
   */
  public int countPods(String key, java.util.function.Predicate<PodInfo> match) {
    int[] m = matchMemo.get(key);
    if (m != null && m[0] == podGeneration) return m[1];
    int n = 0;
    for (PodInfo p : pods.values()) if (match.test(p)) n++;
    matchMemo.put(key, new int[] {podGeneration, n});
    return n;
  }

  private void account(PodInfo p, int sign) {
    podGeneration++;
    if (sign > 0) {
      requested = requested.plus(p.requests());
      nonZeroRequested = nonZeroRequested.plus(p.nonZeroRequests());
      usedPorts.addAll(p.hostPorts());
    } else {
      requested = requested.minus(p.requests());
      nonZeroRequested = nonZeroRequested.minus(p.nonZeroRequests());
      for (PodInfo.HostPort hp : p.hostPorts()) usedPorts.remove(hp);
    }
    if (p.hasAffinity()) withAffinity += sign;
    if (p.hasRequiredAntiAffinity()) withRequiredAntiAffinity += sign;
  }

  /** A copy whose pod set can change without touching this one (preemption dry runs). */
  public NodeInfo copy() {
    NodeInfo c = new NodeInfo(name);
    c.node = node;
    c.allocatable = allocatable;
    c.taints = taints;
    c.images = images;
    c.labels = labels;
    c.unschedulable = unschedulable;
    pods.values().forEach(c::addPod);
    return c;
  }

  public String name() {
    return name;
  }

  public Node node() {
    return node;
  }

  public Map<String, String> labels() {
    return labels;
  }

  public Resource allocatable() {
    return allocatable;
  }

  public Resource requested() {
    return requested;
  }

  public Resource nonZeroRequested() {
    return nonZeroRequested;
  }

  public List<PodInfo.HostPort> usedPorts() {
    return usedPorts;
  }

  public List<Taint> taints() {
    return taints.all();
  }

  /** The taints split by effect (see {@link Taints}). */
  public Taints taintSet() {
    return taints;
  }

  /** Shares the taint set with the nodes of {@code pool} that have equal taints. */
  public void internTaints(Map<List<Taint>, Taints> pool) {
    taints = taints.intern(pool);
  }

  /** The pod of that key on this node, or null. */
  public PodInfo pod(String key) {
    return pods.get(key);
  }

  public Map<String, Long> images() {
    return images;
  }

  public java.util.Collection<PodInfo> pods() {
    return pods.values();
  }

  public boolean hasPodsWithAffinity() {
    return withAffinity > 0;
  }

  public boolean hasPodsWithRequiredAntiAffinity() {
    return withRequiredAntiAffinity > 0;
  }

  public boolean unschedulable() {
    return unschedulable;
  }

  @Override
  public String toString() {
    return name + requested;
  }
}
