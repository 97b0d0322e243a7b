package io.kvx.proxy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The whole desired state at one sync: for each service ({@code namespace/name}) its ports with the
 * usable endpoints of each (see {@link #usable}), sorted, so that rendering is deterministic. Immutable; handed from the
 * event loop to the worker that programs it.
 */
public record ProxySnapshot(Map<String, List<ServiceView>> services) {

  public static ProxySnapshot of(Map<String, Map<ServicePortName, ServicePort>> services,
                                 Map<String, Map<ServicePortName, List<Endpoint>>> endpoints) {
    Map<String, List<ServiceView>> out = new TreeMap<>();
    services.forEach((key, ports) -> {
      Map<ServicePortName, List<Endpoint>> eps = endpoints.getOrDefault(key, Map.of());
      List<ServiceView> views = new ArrayList<>();
      ports.values().stream().sorted(Comparator.comparing(ServicePort::toString)).forEach(p -> views.add(
          new ServiceView(p, usable(eps.getOrDefault(p.name(), List.of())))));
      out.put(key, List.copyOf(views));
    });
    return new ProxySnapshot(java.util.Collections.unmodifiableMap(out));
  }

  /**
   * The endpoints that get traffic: the ready ones; when there are none, those still serving while
   * terminating (so connections drain to a rolling update's old pods rather than fail).
   */
  static List<Endpoint> usable(List<Endpoint> eps) {
    List<Endpoint> ready = eps.stream().filter(Endpoint::ready).sorted().toList();
    if (!ready.isEmpty()) return ready;
    return eps.stream().filter(e -> e.serving() && e.terminating()).sorted().toList();
  }

  public static ProxySnapshot empty() {
    return new ProxySnapshot(Map.of());
  }

  /** The ports of one service; empty if it has none (deleted, headless, no cluster IP yet). */
  public List<ServiceView> service(String key) {
    return services.getOrDefault(key, List.of());
  }

  public Set<String> keys() {
    return services.keySet();
  }
}
