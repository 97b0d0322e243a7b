package io.kvx.scheduler.framework;

import io.fabric8.kubernetes.api.model.Quantity;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Map;

/**
 * Requested or allocatable resources: cpu in millicores, memory and ephemeral-storage in bytes, a pod
 * count, and extended ("scalar") resources such as example.com/gpu or hugepages-2Mi by name. Immutable.
 */
public record Resource(long milliCpu, long memory, long ephemeralStorage, long pods, Map<String, Long> scalar) {

  public static final Resource ZERO = new Resource(0, 0, 0, 0, Map.of());
  public static final String CPU = "cpu";
  public static final String MEMORY = "memory";
  public static final String EPHEMERAL_STORAGE = "ephemeral-storage";
  public static final String PODS = "pods";

  public static Resource of(Map<String, Quantity> list) {
    if (list == null || list.isEmpty()) return ZERO;
    long cpu = 0, mem = 0, eph = 0, pods = 0;
    Map<String, Long> scalar = new HashMap<>();
    for (Map.Entry<String, Quantity> e : list.entrySet()) {
      switch (e.getKey()) {
        case CPU -> cpu = milli(e.getValue());
        case MEMORY -> mem = value(e.getValue());
        case EPHEMERAL_STORAGE -> eph = value(e.getValue());
        case PODS -> pods = value(e.getValue());
        default -> scalar.put(e.getKey(), value(e.getValue()));
      }
    }
    return new Resource(cpu, mem, eph, pods, Map.copyOf(scalar));
  }

  public long get(String name) {
    return switch (name) {
      case CPU -> milliCpu;
      case MEMORY -> memory;
      case EPHEMERAL_STORAGE -> ephemeralStorage;
      case PODS -> pods;
      default -> scalar.getOrDefault(name, 0L);
    };
  }

  public Resource plus(Resource o) {
    return combine(o, 1, false);
  }

  public Resource minus(Resource o) {
    return combine(o, -1, false);
  }

  /** Per resource, the larger of the two (the init-container rule). */
  public Resource max(Resource o) {
    return combine(o, 0, true);
  }

  private Resource combine(Resource o, int sign, boolean max) {
    if (o == ZERO && !max) return this;
    Map<String, Long> s = new HashMap<>(scalar);
    o.scalar.forEach((k, v) -> s.merge(k, v, (a, b) -> max ? Math.max(a, b) : a + sign * b));
    if (max) {
      return new Resource(Math.max(milliCpu, o.milliCpu), Math.max(memory, o.memory),
          Math.max(ephemeralStorage, o.ephemeralStorage), Math.max(pods, o.pods), Map.copyOf(s));
    }
    return new Resource(milliCpu + sign * o.milliCpu, memory + sign * o.memory,
        ephemeralStorage + sign * o.ephemeralStorage, pods + sign * o.pods, Map.copyOf(s));
  }

  public Resource withPods(long n) {
    return new Resource(milliCpu, memory, ephemeralStorage, n, scalar);
  }

  public static long milli(Quantity q) {
    return q == null ? 0 : Quantity.getAmountInBytes(q).multiply(BigDecimal.valueOf(1000)).setScale(0,
        java.math.RoundingMode.CEILING).longValue();
  }

  public static long value(Quantity q) {
    return q == null ? 0 : Quantity.getAmountInBytes(q).setScale(0, java.math.RoundingMode.CEILING).longValue();
  }
}
