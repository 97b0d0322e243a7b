package io.kvx.proxy.dns;

import io.kvx.api.Meta;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cluster DNS records, as kube-dns/CoreDNS's kubernetes plugin answers them: {@code
 * svc.ns.svc.cluster.local} is the ClusterIP (every ready endpoint's IP for a headless service),
 * {@code _port._proto.svc.ns.svc.cluster.local} SRV records, and {@code a-b-c-d.ns.pod.cluster.local}
 * pod records. Pure: fed with Services and Endpoints, asked for names.
 */
public final class ClusterDns {

  /** An answer: A records (addresses) or SRV records (port + target), or none (NXDOMAIN when not ours). */
  public record Answer(List<String> addresses, List<Srv> srv, boolean exists) {
    static final Answer NONE = new Answer(List.of(), List.of(), false);
  }

  public record Srv(int port, String target) {
  }

  private final String domain;
  private final Map<String, JsonObject> services = new ConcurrentHashMap<>();
  private final Map<String, JsonObject> endpoints = new ConcurrentHashMap<>();

  public ClusterDns(String domain) {
    this.domain = domain.toLowerCase(Locale.ROOT);
  }

  public String domain() {
    return domain;
  }

  public void putService(JsonObject svc) {
    services.put(Meta.namespace(svc) + "/" + Meta.name(svc), svc);
  }

  public void removeService(JsonObject svc) {
    services.remove(Meta.namespace(svc) + "/" + Meta.name(svc));
  }

  public void putEndpoints(JsonObject ep) {
    endpoints.put(Meta.namespace(ep) + "/" + Meta.name(ep), ep);
  }

  public void removeEndpoints(JsonObject ep) {
    endpoints.remove(Meta.namespace(ep) + "/" + Meta.name(ep));
  }

  /** Whether a name is in the cluster's zone (answered here, never forwarded). */
  public boolean inZone(String name) {
    String n = strip(name);
    return n.equals(domain) || n.endsWith("." + domain);
  }

  /** Answers an A (or SRV when {@code srv}) question. */
  public Answer resolve(String name, boolean srv) {
    String n = strip(name);
    if (!inZone(n)) return Answer.NONE;
    String rel = n.equals(domain) ? "" : n.substring(0, n.length() - domain.length() - 1);
    String[] labels = rel.isEmpty() ? new String[0] : rel.split("\\.");
    if (labels.length >= 3 && labels[labels.length - 1].equals("svc")) {
      String ns = labels[labels.length - 2];
      String svcName = labels[labels.length - 3];
      JsonObject svc = services.get(ns + "/" + svcName);
      if (svc == null) return Answer.NONE;
      if (srv && labels.length == 5 && labels[0].startsWith("_") && labels[1].startsWith("_")) {
        return srvRecords(svc, labels[0].substring(1), labels[1].substring(1), ns);
      }
      if (labels.length == 4) {
        // hostname.svc.ns.svc.cluster.local: one endpoint of a headless service (StatefulSet pods).
        return endpointByHostname(ns, svcName, labels[0]);
      }
      if (labels.length != 3) return Answer.NONE;
      JsonObject spec = svc.getJsonObject("spec", new JsonObject());
      if ("ExternalName".equals(spec.getString("type"))) return new Answer(List.of(), List.of(), true);
      String ip = spec.getString("clusterIP");
      if (ip == null || ip.isEmpty() || ip.equals("None")) return new Answer(readyIps(ns, svcName), List.of(), true);
      return new Answer(List.of(ip), List.of(), true);
    }
    if (labels.length == 3 && labels[2].equals("pod")) {
      String ip = labels[0].replace('-', '.');
      return ip.matches("\\d+\\.\\d+\\.\\d+\\.\\d+") ? new Answer(List.of(ip), List.of(), true) : Answer.NONE;
    }
    return Answer.NONE;
  }

  private Answer srvRecords(JsonObject svc, String port, String proto, String ns) {
    List<Srv> out = new ArrayList<>();
    for (Object o : svc.getJsonObject("spec", new JsonObject()).getJsonArray("ports", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      if (port.equals(p.getString("name")) && proto.equalsIgnoreCase(p.getString("protocol", "TCP"))) {
        out.add(new Srv(p.getInteger("port"), Meta.name(svc) + "." + ns + ".svc." + domain));
      }
    }
    return out.isEmpty() ? Answer.NONE : new Answer(List.of(), out, true);
  }

  private List<String> readyIps(String ns, String name) {
    List<String> out = new ArrayList<>();
    JsonObject ep = endpoints.get(ns + "/" + name);
    if (ep == null) return out;
    for (Object s : ep.getJsonArray("subsets", new JsonArray())) {
      for (Object a : ((JsonObject) s).getJsonArray("addresses", new JsonArray())) {
        String ip = ((JsonObject) a).getString("ip");
        if (ip != null && !out.contains(ip)) out.add(ip);
      }
    }
    return out;
  }

  private Answer endpointByHostname(String ns, String name, String hostname) {
    JsonObject ep = endpoints.get(ns + "/" + name);
    if (ep == null) return Answer.NONE;
    for (Object s : ep.getJsonArray("subsets", new JsonArray())) {
      for (Object a : ((JsonObject) s).getJsonArray("addresses", new JsonArray())) {
        JsonObject addr = (JsonObject) a;
        String h = addr.getString("hostname");
        JsonObject ref = addr.getJsonObject("targetRef", new JsonObject());
        if (hostname.equals(h) || hostname.equals(ref.getString("name"))) {
          return new Answer(List.of(addr.getString("ip")), List.of(), true);
        }
      }
    }
    return Answer.NONE;
  }

  private static String strip(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }
}
