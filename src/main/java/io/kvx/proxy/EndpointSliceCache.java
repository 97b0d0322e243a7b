package io.kvx.proxy;

import io.kvx.api.Meta;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The EndpointSlices of every service, merged per service as kube-proxy's endpoint slice cache does:
 * a service's endpoints are the union of its slices' endpoints (a slice may move to another service
 * when its label changes). Pure; one context uses it.
 */
public final class EndpointSliceCache {

  private record Slice(String service, Map<ServicePortName, List<Endpoint>> endpoints) {
  }

  /** slice ({@code namespace/name}) → what it holds. */
  private final Map<String, Slice> slices = new HashMap<>();
  /** service → its slices' keys. */
  private final Map<String, Map<String, Slice>> byService = new HashMap<>();

  /**
   * Records a slice's new state ({@code slice} null: deleted) and returns, for each service whose
   * endpoints this can change (one, or two when the slice moved), its merged endpoints.
   */
  public Map<String, Map<ServicePortName, List<Endpoint>>> update(String sliceKey, JsonObject slice) {
    Map<String, Map<ServicePortName, List<Endpoint>>> touched = new HashMap<>();
    Slice before = slices.remove(sliceKey);
    if (before != null) {
      Map<String, Slice> of = byService.get(before.service());
      of.remove(sliceKey);
      if (of.isEmpty()) byService.remove(before.service());
      touched.put(before.service(), null);
    }
    String service = slice == null ? null : ProxyObjects.sliceService(slice);
    if (service != null) {
      Slice now = new Slice(service, ProxyObjects.endpointSlice(slice));
      slices.put(sliceKey, now);
      byService.computeIfAbsent(service, s -> new HashMap<>()).put(sliceKey, now);
      touched.put(service, null);
    }
    touched.replaceAll((svc, ignored) -> endpoints(svc));
    return touched;
  }

  /** The merged endpoints of one service's slices. */
  public Map<ServicePortName, List<Endpoint>> endpoints(String service) {
    Map<String, Slice> of = byService.get(service);
    if (of == null) return Map.of();
    Map<ServicePortName, List<Endpoint>> all = new HashMap<>();
    for (Slice s : of.values()) {
      s.endpoints().forEach((port, eps) -> all.computeIfAbsent(port, p -> new ArrayList<>()).addAll(eps));
    }
    return ProxyObjects.merged(all);
  }

  public static String key(JsonObject slice) {
    return Meta.namespace(slice) + "/" + Meta.name(slice);
  }
}
