package io.kvx.proxy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns v1 Service and Endpoints objects into what the proxy programs. Services without a cluster IP
 * (headless, ExternalName, not yet allocated) have nothing to program and map to no ports.
 */
public final class ProxyObjects {

  /** Kubernetes' default for sessionAffinityConfig.clientIP.timeoutSeconds (three hours). */
  public static final int DEFAULT_AFFINITY_SECONDS = 10_800;

  private ProxyObjects() {
  }

  public static Map<ServicePortName, ServicePort> servicePorts(JsonObject svc) {
    if (svc == null) return Map.of();
    JsonObject meta = svc.getJsonObject("metadata", new JsonObject());
    JsonObject spec = svc.getJsonObject("spec", new JsonObject());
    String ip = spec.getString("clusterIP", "");
    if ("ExternalName".equals(spec.getString("type")) || ip.isEmpty() || ip.equals("None") || ip.contains(":")) {
      return Map.of();
    }
    int affinity = 0;
    if ("ClientIP".equals(spec.getString("sessionAffinity"))) {
      affinity = spec.getJsonObject("sessionAffinityConfig", new JsonObject())
          .getJsonObject("clientIP", new JsonObject()).getInteger("timeoutSeconds", DEFAULT_AFFINITY_SECONDS);
    }
    Map<ServicePortName, ServicePort> out = new LinkedHashMap<>();
    for (Object o : spec.getJsonArray("ports", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      String protocol = p.getString("protocol", "TCP");
      ServicePortName name = new ServicePortName(meta.getString("namespace", "default"), meta.getString("name"),
          p.getString("name", ""), protocol);
      out.put(name, new ServicePort(name, ip, p.getInteger("port"), protocol, p.getInteger("nodePort", 0), affinity));
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * Every address of every subset, per service port. The Endpoints controller names each port after
   * the service port and resolves a named targetPort per pod, so the port here is the one to dial.
   */
  public static Map<ServicePortName, List<Endpoint>> endpoints(JsonObject eps) {
    if (eps == null) return Map.of();
    JsonObject meta = eps.getJsonObject("metadata", new JsonObject());
    String ns = meta.getString("namespace", "default");
    String name = meta.getString("name");
    Map<ServicePortName, List<Endpoint>> out = new HashMap<>();
    for (Object s : eps.getJsonArray("subsets", new JsonArray())) {
      JsonObject subset = (JsonObject) s;
      for (Object po : subset.getJsonArray("ports", new JsonArray())) {
        JsonObject p = (JsonObject) po;
        ServicePortName key = new ServicePortName(ns, name, p.getString("name", ""), p.getString("protocol", "TCP"));
        List<Endpoint> list = out.computeIfAbsent(key, k -> new ArrayList<>());
        int port = p.getInteger("port");
        for (Object a : subset.getJsonArray("addresses", new JsonArray())) {
          list.add(new Endpoint(((JsonObject) a).getString("ip"), port, true));
        }
        for (Object a : subset.getJsonArray("notReadyAddresses", new JsonArray())) {
          list.add(new Endpoint(((JsonObject) a).getString("ip"), port, false));
        }
      }
    }
    out.replaceAll((k, v) -> v.stream().sorted().distinct().toList());
    return Collections.unmodifiableMap(out);
  }
}
