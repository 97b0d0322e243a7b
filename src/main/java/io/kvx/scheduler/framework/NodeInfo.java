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
  /**
   * The same numbers as {@link #allocatable}, {@link #requested} and {@link #nonZeroRequested} for cpu, memory,
   * ephemeral-storage and pods, as fields of this object: the filters and scores read them for hundreds of
   * nodes per pod, one object each instead of three.
   */
  private long allocMilliCpu, allocMemory, allocEphemeral, allocPods;
  private long reqMilliCpu, reqMemory, reqEphemeral, reqPods;
  private long nonZeroMilliCpu, nonZeroMemory;
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
    allocMilliCpu = alloc.milliCpu();
    allocMemory = alloc.memory();
    allocEphemeral = alloc.ephemeralStorage();
    allocPods = alloc.pods();
    this.labels = internedLabels(node.getMetadata().getLabels());
    this.selectorKeys = null;
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

  /**
   * The labels with keys and values interned, so that a selector's interned strings (see {@link PodInfo}) find
   * them by identity: no string contents are compared per node.
   */
  private static Map<String, String> internedLabels(Map<String, String> labels) {
    if (labels == null || labels.isEmpty()) return Map.of();
    Map<String, String> m = new HashMap<>(labels.size() * 2);
    for (Map.Entry<String, String> e : labels.entrySet()) {
      m.put(e.getKey().intern(), e.getValue() == null ? null : e.getValue().intern());
    }
    return m;
  }

  /** The last nodeSelector checked against this node's labels (keys, values) and the answer; see below. */
  private String[] selectorKeys;
  private String[] selectorValues;
  private boolean selectorMatch;

  /**
   * Whether the labels carry every key with its value ({@code keys[i]} = {@code values[i]}, a pod's
   * nodeSelector). The answer for the last selector is kept until the labels change: the pods of one
   * workload share a selector, so most nodes answer without touching their label map (hundreds of nodes
   * per pod, each map a few cache misses away).
   */
  public boolean matchesSelector(String[] keys, String[] values) {
    if (selectorKeys != null && (keys == selectorKeys || java.util.Arrays.equals(keys, selectorKeys))
        && (values == selectorValues || java.util.Arrays.equals(values, selectorValues))) {
      selectorKeys = keys;
      selectorValues = values;
      return selectorMatch;
    }
    boolean match = true;
    for (int i = 0; i < keys.length; i++) {
      if (!values[i].equals(labels.get(keys[i]))) {
        match = false;
        break;
      }
    }
    selectorKeys = keys;
    selectorValues = values;
    selectorMatch = match;
    return match;
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
    reqMilliCpu = requested.milliCpu();
    reqMemory = requested.memory();
    reqEphemeral = requested.ephemeralStorage();
    reqPods = requested.pods();
    nonZeroMilliCpu = nonZeroRequested.milliCpu();
    nonZeroMemory = nonZeroRequested.memory();
    if (p.hasAffinity()) withAffinity += sign;
    if (p.hasRequiredAntiAffinity()) withRequiredAntiAffinity += sign;
  }

  /** A copy whose pod set can change without touching this one (preemption dry runs). */
  public NodeInfo copy() {
    NodeInfo c = new NodeInfo(name);
    c.node = node;
    c.allocatable = allocatable;
    c.allocMilliCpu = allocMilliCpu;
    c.allocMemory = allocMemory;
    c.allocEphemeral = allocEphemeral;
    c.allocPods = allocPods;
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

  public long allocatableMilliCpu() {
    return allocMilliCpu;
  }

  public long allocatableMemory() {
    return allocMemory;
  }

  public long allocatableEphemeralStorage() {
    return allocEphemeral;
  }

  public long allocatablePods() {
    return allocPods;
  }

  public long requestedMilliCpu() {
    return reqMilliCpu;
  }

  public long requestedMemory() {
    return reqMemory;
  }

  public long requestedEphemeralStorage() {
    return reqEphemeral;
  }

  public long requestedPods() {
    return reqPods;
  }

  public long nonZeroRequestedMilliCpu() {
    return nonZeroMilliCpu;
  }

  public long nonZeroRequestedMemory() {
    return nonZeroMemory;
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
