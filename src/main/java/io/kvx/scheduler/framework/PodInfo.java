package io.kvx.scheduler.framework;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A pod with what the scheduler computes once per pod version: its effective requests (containers
 * summed, init containers by the max rule, restartable sidecars added, overhead on top), the
 * non-zero requests used for scoring, host ports, affinity terms and priority.
 */
public final class PodInfo {

  /** kube-scheduler scores a container that requests nothing as if it asked for 100m and 200Mi. */
  public static final long DEFAULT_MILLI_CPU = 100;
  public static final long DEFAULT_MEMORY = 200L * 1024 * 1024;

  /** A host port a pod claims: protocol, host IP (0.0.0.0 for all) and port. */
  public record HostPort(String protocol, String ip, int port) {

    public boolean conflicts(HostPort o) {
      if (port != o.port || !protocol.equals(o.protocol)) return false;
      return ip.equals(o.ip) || ip.equals("0.0.0.0") || o.ip.equals("0.0.0.0");
    }
  }

  private final Pod pod;
  private final String key;
  private final Resource requests;
  private final Resource nonZero;
  private final List<HostPort> ports;
  private final int priority;
  private final long createdAt;
  private final List<Toleration> tolerations;
  /** The tolerations that can tolerate a PreferNoSchedule taint (effect empty or PreferNoSchedule). */
  private final List<Toleration> preferTolerations;
  private final String[] nodeSelectorKeys;
  private final String[] nodeSelectorValues;
  private final NodeSelector requiredNodeAffinity;
  private final List<PreferredSchedulingTerm> preferredNodeAffinity;
  private final boolean hasAffinity;
  private final List<PodAffinityTerm> requiredAffinity;
  private final List<PodAffinityTerm> requiredAntiAffinity;
  private final List<WeightedPodAffinityTerm> preferredAffinity;
  private final List<WeightedPodAffinityTerm> preferredAntiAffinity;
  /** Memo of {@link #toleratesAll}: the last two taint sets asked about and the answers. */
  private Taints lastTaints;
  private boolean lastTolerated;
  /** The set asked about before the last one, and its answer. */
  private Taints prevTaints;
  private boolean prevTolerated;
  /** The node a bound copy ({@link #boundTo}) is on; null: spec.nodeName. */
  private final String boundNode;

  public PodInfo(Pod pod) {
    this.pod = pod;
    this.key = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    PodSpec spec = pod.getSpec() != null ? pod.getSpec() : new PodSpec();
    Resource sum = Resource.ZERO;
    long nzCpu = 0;
    long nzMem = 0;
    List<HostPort> hp = new ArrayList<>();
    for (Container c : list(spec.getContainers())) {
      Resource r = requests(c);
      sum = sum.plus(r);
      nzCpu += r.milliCpu() == 0 ? DEFAULT_MILLI_CPU : r.milliCpu();
      nzMem += r.memory() == 0 ? DEFAULT_MEMORY : r.memory();
      for (ContainerPort p : list(c.getPorts())) {
        if (p.getHostPort() != null && p.getHostPort() > 0) {
          hp.add(new HostPort(p.getProtocol() == null ? "TCP" : p.getProtocol(),
              p.getHostIP() == null || p.getHostIP().isEmpty() ? "0.0.0.0" : p.getHostIP(), p.getHostPort()));
        }
      }
    }
    // Init containers run one at a time before the app containers; restartable ones (sidecars) keep
    // running, so they add to everything that starts after them.
    Resource initMax = Resource.ZERO;
    Resource sidecars = Resource.ZERO;
    for (Container c : list(spec.getInitContainers())) {
      Resource r = requests(c);
      if ("Always".equals(c.getRestartPolicy())) {
        sidecars = sidecars.plus(r);
        sum = sum.plus(r);
      } else {
        initMax = initMax.max(sidecars.plus(r));
      }
    }
    sum = sum.max(initMax);
    Resource overhead = Resource.of(spec.getOverhead());
    sum = sum.plus(overhead);
    this.requests = sum.withPods(1);
    this.nonZero = new Resource(Math.max(nzCpu, sum.milliCpu()), Math.max(nzMem, sum.memory()), 0, 1, Map.of());
    this.ports = List.copyOf(hp);
    this.priority = spec.getPriority() == null ? 0 : spec.getPriority();
    String ts = pod.getMetadata().getCreationTimestamp();
    long t;
    try {
      t = ts == null ? 0 : java.time.Instant.parse(ts).toEpochMilli();
    } catch (RuntimeException e) {
      t = 0;
    }
    this.createdAt = t;
    this.tolerations = list(spec.getTolerations());
    List<Toleration> prefer = new ArrayList<>();
    for (Toleration tol : tolerations) {
      if (tol.getEffect() == null || tol.getEffect().isEmpty() || "PreferNoSchedule".equals(tol.getEffect())) {
        prefer.add(tol);
      }
    }
    this.preferTolerations = List.copyOf(prefer);
    Map<String, String> sel = spec.getNodeSelector() == null ? Map.of() : spec.getNodeSelector();
    this.nodeSelectorKeys = sel.keySet().toArray(String[]::new);
    this.nodeSelectorValues = new String[nodeSelectorKeys.length];
    // Interned as NodeInfo interns node labels: a match is found by identity.
    for (int i = 0; i < nodeSelectorKeys.length; i++) {
      String v = sel.get(nodeSelectorKeys[i]);
      nodeSelectorValues[i] = v == null ? "" : v.intern();
      nodeSelectorKeys[i] = nodeSelectorKeys[i].intern();
    }
    var affinity = spec.getAffinity();
    var nodeAffinity = affinity == null ? null : affinity.getNodeAffinity();
    this.requiredNodeAffinity = nodeAffinity == null ? null : nodeAffinity.getRequiredDuringSchedulingIgnoredDuringExecution();
    this.preferredNodeAffinity = nodeAffinity == null ? List.of()
        : list(nodeAffinity.getPreferredDuringSchedulingIgnoredDuringExecution());
    var podAffinity = affinity == null ? null : affinity.getPodAffinity();
    var podAnti = affinity == null ? null : affinity.getPodAntiAffinity();
    this.hasAffinity = podAffinity != null || podAnti != null;
    this.requiredAffinity = podAffinity == null ? List.of()
        : list(podAffinity.getRequiredDuringSchedulingIgnoredDuringExecution());
    this.preferredAffinity = podAffinity == null ? List.of()
        : list(podAffinity.getPreferredDuringSchedulingIgnoredDuringExecution());
    this.requiredAntiAffinity = podAnti == null ? List.of()
        : list(podAnti.getRequiredDuringSchedulingIgnoredDuringExecution());
    this.preferredAntiAffinity = podAnti == null ? List.of()
        : list(podAnti.getPreferredDuringSchedulingIgnoredDuringExecution());
    this.boundNode = null;
  }

  /** The tolerations that apply to PreferNoSchedule taints. */
  public List<Toleration> preferTolerations() {
    return preferTolerations;
  }

  /**
   * Whether the pod tolerates every NoSchedule/NoExecute taint of the set. The answer depends only on the
   * pod's tolerations and the (immutable) set, so it is kept for the last set asked about: nodes with equal
   * taints share one set, and a pod is checked against it once, not once per node.
   */
  public boolean toleratesAll(Taints taints) {
    if (taints.hard().length == 0) return true;
    if (taints == lastTaints) return lastTolerated;
    if (taints == prevTaints) {
      // Nodes of two kinds interleaved: swap rather than work it out again.
      prevTaints = lastTaints;
      lastTaints = taints;
      boolean t = prevTolerated;
      prevTolerated = lastTolerated;
      lastTolerated = t;
      return t;
    }
    boolean ok = true;
    for (io.fabric8.kubernetes.api.model.Taint t : taints.hard()) {
      if (!Selectors.tolerated(tolerations, t)) {
        ok = false;
        break;
      }
    }
    prevTaints = lastTaints;
    prevTolerated = lastTolerated;
    lastTaints = taints;
    lastTolerated = ok;
    return ok;
  }

  /** spec.nodeSelector as parallel arrays of keys and values. */
  public String[] nodeSelectorKeys() {
    return nodeSelectorKeys;
  }

  public String[] nodeSelectorValues() {
    return nodeSelectorValues;
  }

  /** requiredDuringSchedulingIgnoredDuringExecution node affinity, or null. */
  public NodeSelector requiredNodeAffinity() {
    return requiredNodeAffinity;
  }

  public List<PreferredSchedulingTerm> preferredNodeAffinity() {
    return preferredNodeAffinity;
  }

  /** The same pod bound to {@code node}: what it became once its binding was written (nothing else changed). */
  public PodInfo boundTo(String node) {
    return new PodInfo(this, node);
  }

  private PodInfo(PodInfo o, String node) {
    this.pod = o.pod;
    this.key = o.key;
    this.requests = o.requests;
    this.nonZero = o.nonZero;
    this.ports = o.ports;
    this.priority = o.priority;
    this.createdAt = o.createdAt;
    this.tolerations = o.tolerations;
    this.preferTolerations = o.preferTolerations;
    this.nodeSelectorKeys = o.nodeSelectorKeys;
    this.nodeSelectorValues = o.nodeSelectorValues;
    this.requiredNodeAffinity = o.requiredNodeAffinity;
    this.preferredNodeAffinity = o.preferredNodeAffinity;
    this.hasAffinity = o.hasAffinity;
    this.requiredAffinity = o.requiredAffinity;
    this.requiredAntiAffinity = o.requiredAntiAffinity;
    this.preferredAffinity = o.preferredAffinity;
    this.preferredAntiAffinity = o.preferredAntiAffinity;
    this.boundNode = node;
  }

  private static Resource requests(Container c) {
    if (c.getResources() == null) return Resource.ZERO;
    // Kubernetes defaults requests to limits when only limits are set.
    Map<String, io.fabric8.kubernetes.api.model.Quantity> req = c.getResources().getRequests();
    if (req == null || req.isEmpty()) req = c.getResources().getLimits();
    return Resource.of(req);
  }

  static <T> List<T> list(List<T> l) {
    return l == null ? List.of() : l;
  }

  public Pod pod() {
    return pod;
  }

  public PodSpec spec() {
    return pod.getSpec() == null ? new PodSpec() : pod.getSpec();
  }

  public String key() {
    return key;
  }

  public String namespace() {
    return pod.getMetadata().getNamespace();
  }

  public String name() {
    return pod.getMetadata().getName();
  }

  public String uid() {
    return pod.getMetadata().getUid();
  }

  public Map<String, String> labels() {
    Map<String, String> l = pod.getMetadata().getLabels();
    return l == null ? Map.of() : l;
  }

  public Resource requests() {
    return requests;
  }

  public Resource nonZeroRequests() {
    return nonZero;
  }

  public List<HostPort> hostPorts() {
    return ports;
  }

  public int priority() {
    return priority;
  }

  public long createdAt() {
    return createdAt;
  }

  public String nodeName() {
    return boundNode != null ? boundNode : spec().getNodeName();
  }

  public List<PodAffinityTerm> requiredAffinity() {
    return requiredAffinity;
  }

  public List<PodAffinityTerm> requiredAntiAffinity() {
    return requiredAntiAffinity;
  }

  public List<WeightedPodAffinityTerm> preferredAffinity() {
    return preferredAffinity;
  }

  public List<WeightedPodAffinityTerm> preferredAntiAffinity() {
    return preferredAntiAffinity;
  }

  public boolean hasAffinity() {
    return hasAffinity;
  }

  public boolean hasRequiredAntiAffinity() {
    return !requiredAntiAffinity().isEmpty();
  }

  @Override
  public String toString() {
    return key;
  }
}
