package io.kvx.scheduler;

import io.kvx.scheduler.framework.PodInfo;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which pending pods wait for which node after a preemption (status.nominatedNodeName), as kube-scheduler's
 * nominator keeps them: filters count them on that node, so the room evicted victims leave is kept for the pod
 * that preempted them.
 */
final class Nominator {

  private final Map<String, Map<String, PodInfo>> byNode = new HashMap<>();
  private final Map<String, String> nodeOf = new HashMap<>();

  /** A pod nominated to {@code node} by this scheduler (before its status says so). */
  void nominate(PodInfo pod, String node) {
    remove(pod.key());
    byNode.computeIfAbsent(node, n -> new LinkedHashMap<>()).put(pod.key(), pod);
    nodeOf.put(pod.key(), node);
  }

  /**
   * A pending pod as the watch reports it ({@code old}: as it was reported before, or null). When neither says
   * where it is nominated, the nomination made here stands: the update that carries it may still be on its way.
   * When the status had one and no longer has, it was cleared. (kube-scheduler's UpdateNominatedPod.)
   */
  void update(PodInfo old, PodInfo pod) {
    String node = nominatedNode(pod);
    if (node == null) {
      if (nominatedNode(old) != null) {
        remove(pod.key());
        return;
      }
      node = nodeOf.get(pod.key());
    }
    if (node == null) return;
    nominate(pod, node);
  }

  private static String nominatedNode(PodInfo p) {
    if (p == null || p.pod().getStatus() == null) return null;
    String node = p.pod().getStatus().getNominatedNodeName();
    return node == null || node.isEmpty() ? null : node;
  }

  /** Where the pod is nominated, as this scheduler knows it; null if nowhere. */
  String nodeOf(String key) {
    return nodeOf.get(key);
  }

  /** The pod was bound or deleted. */
  void remove(String key) {
    String node = nodeOf.remove(key);
    if (node == null) return;
    Map<String, PodInfo> pods = byNode.get(node);
    pods.remove(key);
    if (pods.isEmpty()) byNode.remove(node);
  }

  Map<String, ? extends Collection<PodInfo>> view() {
    Map<String, Collection<PodInfo>> out = new HashMap<>(byNode.size() * 2);
    byNode.forEach((node, pods) -> out.put(node, pods.values()));
    return out;
  }

  boolean isEmpty() {
    return nodeOf.isEmpty();
  }
}
