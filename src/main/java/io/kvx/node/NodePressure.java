package io.kvx.node;

import io.kvx.api.Quantities;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The kubelet's eviction signals and node conditions: memory.available, nodefs.available,
 * nodefs.inodesFree, imagefs.available, imagefs.inodesFree and pid.available compared with the hard
 * eviction thresholds (Kubernetes' defaults: memory.available&lt;100Mi, nodefs.available&lt;10%,
 * nodefs.inodesFree&lt;5%, imagefs.available&lt;15%, imagefs.inodesFree&lt;5%; no pid threshold unless
 * configured), and MemoryPressure / DiskPressure / PIDPressure, each held for the pressure transition
 * period (5 min) after its signal last crossed. Also allocatable as the kubelet computes it: capacity
 * minus reserved minus the hard eviction thresholds. Pure.
 */
final class NodePressure {

  /** One measurement of the node: bytes, inodes and pids (capacity and available). */
  record Signals(long memoryCapacity, long memoryAvailable, long nodefsCapacity, long nodefsAvailable,
                 long nodefsInodes, long nodefsInodesFree, long imagefsCapacity, long imagefsAvailable,
                 long imagefsInodes, long imagefsInodesFree, long pidMax, long pidsInUse) {}

  static final Map<String, String> DEFAULT_EVICTION_HARD = Map.of("memory.available", "100Mi",
      "nodefs.available", "10%", "nodefs.inodesFree", "5%", "imagefs.available", "15%", "imagefs.inodesFree", "5%");

  private final Map<String, String> thresholds;
  private final long transitionMillis;
  /** Condition type → when its signal last crossed a threshold. */
  private final Map<String, Long> lastCrossed = new LinkedHashMap<>();

  NodePressure(JsonObject evictionHard, long transitionMillis) {
    Map<String, String> t = new LinkedHashMap<>(DEFAULT_EVICTION_HARD);
    if (evictionHard != null) evictionHard.forEach(e -> t.put(e.getKey(), String.valueOf(e.getValue())));
    this.thresholds = t;
    this.transitionMillis = transitionMillis;
  }

  /** The signals that cross their thresholds now, as "memory.available" etc. */
  Map<String, Boolean> crossed(Signals s) {
    Map<String, Boolean> out = new LinkedHashMap<>();
    out.put("memory.available", below(s.memoryAvailable(), s.memoryCapacity(), "memory.available"));
    out.put("nodefs.available", below(s.nodefsAvailable(), s.nodefsCapacity(), "nodefs.available"));
    out.put("nodefs.inodesFree", below(s.nodefsInodesFree(), s.nodefsInodes(), "nodefs.inodesFree"));
    out.put("imagefs.available", below(s.imagefsAvailable(), s.imagefsCapacity(), "imagefs.available"));
    out.put("imagefs.inodesFree", below(s.imagefsInodesFree(), s.imagefsInodes(), "imagefs.inodesFree"));
    out.put("pid.available", below(s.pidMax() - s.pidsInUse(), s.pidMax(), "pid.available"));
    return out;
  }

  /** MemoryPressure, DiskPressure, PIDPressure: true while under pressure (or within the transition period). */
  Map<String, Boolean> conditions(Signals s, long now) {
    Map<String, Boolean> crossed = crossed(s);
    Map<String, Boolean> byCondition = new LinkedHashMap<>();
    byCondition.put("MemoryPressure", crossed.get("memory.available"));
    byCondition.put("DiskPressure", crossed.get("nodefs.available") || crossed.get("nodefs.inodesFree")
        || crossed.get("imagefs.available") || crossed.get("imagefs.inodesFree"));
    byCondition.put("PIDPressure", crossed.get("pid.available"));
    Map<String, Boolean> out = new LinkedHashMap<>();
    byCondition.forEach((type, now0) -> {
      if (now0) lastCrossed.put(type, now);
      Long last = lastCrossed.get(type);
      out.put(type, last != null && now - last < transitionMillis || now0);
    });
    return out;
  }

  /** The amount a threshold keeps back from a capacity: a quantity or a percentage of it. */
  long threshold(String signal, long capacity) {
    String t = thresholds.get(signal);
    if (t == null || t.isEmpty()) return 0;
    if (t.endsWith("%")) return (long) (capacity * Double.parseDouble(t.substring(0, t.length() - 1)) / 100);
    return Quantities.bytes(t);
  }

  private boolean below(long available, long capacity, String signal) {
    if (capacity <= 0 || !thresholds.containsKey(signal)) return false;
    return available < threshold(signal, capacity);
  }

  /** The kubelet's reason and message for a condition's status. */
  static String[] reasonAndMessage(String type, boolean pressure) {
    return switch (type) {
      case "MemoryPressure" -> pressure
          ? new String[] {"KubeletHasInsufficientMemory", "kubelet has insufficient memory available"}
          : new String[] {"KubeletHasSufficientMemory", "kubelet has sufficient memory available"};
      case "DiskPressure" -> pressure ? new String[] {"KubeletHasDiskPressure", "kubelet has disk pressure"}
          : new String[] {"KubeletHasNoDiskPressure", "kubelet has no disk pressure"};
      default -> pressure ? new String[] {"KubeletHasInsufficientPID", "kubelet has insufficient PID available"}
          : new String[] {"KubeletHasSufficientPID", "kubelet has sufficient PID available"};
    };
  }
}
