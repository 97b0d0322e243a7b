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

  /** The label that ties an EndpointSlice to its service. */
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  /** The service ({@code namespace/name}) a slice belongs to; null when it names none. */
  public static String sliceService(JsonObject slice) {
    JsonObject meta = slice.getJsonObject("metadata", new JsonObject());
    Object svc = meta.getJsonObject("labels", new JsonObject()).getValue(SERVICE_NAME_LABEL);
    return svc instanceof String s && !s.isEmpty() ? meta.getString("namespace", "default") + "/" + s : null;
  }

  /**
   * One discovery.k8s.io/v1 EndpointSlice as kube-proxy reads it: IPv4 slices only (the tables are
   * IPv4), each endpoint's first address, per slice port (name and protocol, as the service port is
   * named). A condition left out counts as true for ready and serving, false for terminating; a port
   * without a number is skipped.
   */
  public static Map<ServicePortName, List<Endpoint>> endpointSlice(JsonObject slice) {
    String service = slice == null ? null : sliceService(slice);
    if (service == null || !"IPv4".equals(slice.getString("addressType", "IPv4"))) return Map.of();
    String ns = service.substring(0, service.indexOf('/'));
    String name = service.substring(service.indexOf('/') + 1);
    Map<ServicePortName, List<Endpoint>> out = new HashMap<>();
    for (Object po : slice.getJsonArray("ports", new JsonArray())) {
      JsonObject p = (JsonObject) po;
      Integer port = p.getInteger("port");
      if (port == null) continue;
      String portName = p.getString("name");
      ServicePortName key = new ServicePortName(ns, name, portName == null ? "" : portName,
          p.getString("protocol", "TCP"));
      List<Endpoint> list = out.computeIfAbsent(key, k -> new ArrayList<>());
      for (Object eo : slice.getJsonArray("endpoints", new JsonArray())) {
        JsonObject ep = (JsonObject) eo;
        JsonArray addresses = ep.getJsonArray("addresses", new JsonArray());
        if (addresses.isEmpty()) continue;
        JsonObject c = ep.getJsonObject("conditions", new JsonObject());
        boolean ready = c.getBoolean("ready", true);
        list.add(new Endpoint(addresses.getString(0), port, ready, c.getBoolean("serving", ready),
            c.getBoolean("terminating", false)));
      }
    }
    return out;
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
    return merged(out);
  }

  /** Sorted, one entry per address and port: where two sources disagree, the readier one counts. */
  public static Map<ServicePortName, List<Endpoint>> merged(Map<ServicePortName, List<Endpoint>> in) {
    Map<ServicePortName, List<Endpoint>> out = new HashMap<>();
    in.forEach((k, v) -> {
      Map<String, Endpoint> byAddress = new java.util.TreeMap<>();
      for (Endpoint e : v) byAddress.merge(e.toString(), e, (a, b) -> rank(b) > rank(a) ? b : a);
      out.put(k, byAddress.values().stream().sorted().toList());
    });
    return Collections.unmodifiableMap(out);
  }

  private static int rank(Endpoint e) {
    return (e.ready() ? 4 : 0) + (e.serving() ? 2 : 0) + (e.terminating() ? 0 : 1);
  }
}
