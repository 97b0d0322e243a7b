package io.kvx.proxy.dns;

import io.kvx.api.Meta;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cluster DNS records, as CoreDNS's kubernetes plugin answers them (the Kubernetes DNS spec):
 * <ul>
 *   <li>{@code svc.ns.svc.ZONE}: the cluster IP as A (IPv4) or AAAA (IPv6); for a headless service every
 *       ready endpoint's address of that family (NXDOMAIN when it has none, as CoreDNS answers); an
 *       ExternalName service is a CNAME;</li>
 *   <li>{@code hostname.svc.ns.svc.ZONE}: one endpoint of a headless service (by hostname or pod name);</li>
 *   <li>{@code _port._proto.svc.ns.svc.ZONE}: SRV, the service name (or each endpoint of a headless one);</li>
 *   <li>{@code a-b-c-d.ns.pod.ZONE}: pod records (IPv6 with dashes for colons);</li>
 *   <li>{@code d.c.b.a.in-addr.arpa} / {@code ...ip6.arpa}: PTR for cluster IPs and headless endpoints.</li>
 * </ul>
 * A name that exists with no record of the asked type is NODATA (NOERROR, no answer), so an
 * IPv4-only service answers AAAA with an empty NOERROR; empty non-terminals ({@code ns.svc.ZONE},
 * {@code svc.ZONE}, the zone itself) exist. Pure: fed with Services and Endpoints, asked questions.
 */
public final class ClusterDns {

  /** The record types the cluster zone answers; anything else is {@code OTHER} (always NODATA). */
  public enum Type { A, AAAA, SRV, PTR, CNAME, SOA, OTHER }

  /** One answer record: an address (A/AAAA), a target name (PTR/CNAME/SRV) and for SRV a port. */
  public record Record(String name, Type type, String value, int port) {
  }

  /**
   * A reply: {@code ours} false means the name is not in a zone this server answers (forward it);
   * {@code nxdomain} says the name does not exist; otherwise {@code answers} (possibly empty: NODATA).
   */
  public record Reply(boolean ours, boolean nxdomain, List<Record> answers) {
    static final Reply NOT_OURS = new Reply(false, false, List.of());
    static final Reply NXDOMAIN = new Reply(true, true, List.of());

    static Reply of(List<Record> answers) {
      return new Reply(true, false, List.copyOf(answers));
    }
  }

  private final String domain;
  /** How many ExternalName CNAMEs the current question has followed (a loop of them ends). */
  private final ThreadLocal<Integer> chased = ThreadLocal.withInitial(() -> 0);
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

  /** Answers one question. */
  public Reply answer(String qname, Type type) {
    String n = strip(qname);
    if (n.endsWith(".in-addr.arpa") || n.endsWith(".ip6.arpa")) return reverse(n, type);
    if (!inZone(n)) return Reply.NOT_OURS;
    String rel = n.equals(domain) ? "" : n.substring(0, n.length() - domain.length() - 1);
    String[] l = rel.isEmpty() ? new String[0] : rel.split("\\.");
    int k = l.length;
    if (k == 0) return Reply.of(type == Type.SOA ? List.of(new Record(n, Type.SOA, "", 0)) : List.of());
    if (l[k - 1].equals("svc")) {
      if (k == 1) return Reply.of(List.of());
      String ns = l[k - 2];
      if (k == 2) return namespaceExists(ns) ? Reply.of(List.of()) : Reply.NXDOMAIN;
      JsonObject svc = services.get(ns + "/" + l[k - 3]);
      if (svc == null) return Reply.NXDOMAIN;
      if (k == 3) return service(n, svc, type);
      if (k == 4) return endpointByHostname(n, svc, l[0], type);
      if (k == 5 && l[0].startsWith("_") && l[1].startsWith("_")) {
        return srv(n, svc, l[0].substring(1), l[1].substring(1), type);
      }
      return Reply.NXDOMAIN;
    }
    if (l[k - 1].equals("pod")) {
      if (k == 1) return Reply.of(List.of());
      if (k == 2) return Reply.of(List.of());
      if (k != 3) return Reply.NXDOMAIN;
      InetAddress ip = podAddress(l[0]);
      if (ip == null) return Reply.NXDOMAIN;
      return Reply.of(address(n, ip.getHostAddress(), type).stream().toList());
    }
    return Reply.NXDOMAIN;
  }

  private boolean namespaceExists(String ns) {
    return services.keySet().stream().anyMatch(key -> key.startsWith(ns + "/"));
  }

  private Reply service(String n, JsonObject svc, Type type) {
    JsonObject spec = svc.getJsonObject("spec", new JsonObject());
    if ("ExternalName".equals(spec.getString("type"))) {
      String target = spec.getString("externalName", "");
      if (target.isEmpty() || type == Type.SOA) return Reply.of(List.of());
      List<Record> out = new ArrayList<>(List.of(new Record(n, Type.CNAME, strip(target), 0)));
      // A target in the cluster's zone is answered too, as CoreDNS chases a CNAME within its zone (a few hops).
      if ((type == Type.A || type == Type.AAAA) && inZone(target) && chased.get() < 8) {
        chased.set(chased.get() + 1);
        try {
          for (Record r : answer(target, type).answers()) {
            if (!out.contains(r)) out.add(r);
          }
        } finally {
          chased.set(chased.get() - 1);
        }
      }
      return Reply.of(out);
    }
    List<String> ips = clusterIPs(spec);
    if (ips.isEmpty()) {
      ips = readyAddresses(svc).stream().map(a -> a.getString("ip")).distinct().toList();
      if (ips.isEmpty()) return Reply.NXDOMAIN;
    }
    List<Record> out = new ArrayList<>();
    for (String ip : ips) address(n, ip, type).ifPresent(out::add);
    return Reply.of(out);
  }

  private Reply endpointByHostname(String n, JsonObject svc, String hostname, Type type) {
    for (JsonObject a : readyAddresses(svc)) {
      if (hostname.equals(endpointLabel(a))
          || hostname.equals(a.getJsonObject("targetRef", new JsonObject()).getString("name"))) {
        return Reply.of(address(n, a.getString("ip"), type).stream().toList());
      }
    }
    return Reply.NXDOMAIN;
  }

  private Reply srv(String n, JsonObject svc, String port, String proto, Type type) {
    String svcName = Meta.name(svc) + "." + Meta.namespace(svc) + ".svc." + domain;
    boolean headless = clusterIPs(svc.getJsonObject("spec", new JsonObject())).isEmpty();
    List<Record> out = new ArrayList<>();
    for (Object o : svc.getJsonObject("spec", new JsonObject()).getJsonArray("ports", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      if (!port.equals(p.getString("name")) || !proto.equalsIgnoreCase(p.getString("protocol", "TCP"))) continue;
      if (!headless) {
        out.add(new Record(n, Type.SRV, svcName, p.getInteger("port")));
        continue;
      }
      for (JsonObject a : readyAddresses(svc)) {
        Integer epPort = endpointPort(svc, a, port);
        if (epPort != null) out.add(new Record(n, Type.SRV, endpointLabel(a) + "." + svcName, epPort));
      }
    }
    if (out.isEmpty()) return Reply.NXDOMAIN;
    return Reply.of(type == Type.SRV ? out : List.of());
  }

  private Reply reverse(String n, Type type) {
    String ip = reverseToIp(n);
    if (ip == null) return Reply.NOT_OURS;
    List<String> names = new ArrayList<>();
    for (JsonObject svc : services.values()) {
      String svcName = Meta.name(svc) + "." + Meta.namespace(svc) + ".svc." + domain;
      JsonObject spec = svc.getJsonObject("spec", new JsonObject());
      List<String> cips = clusterIPs(spec);
      if (cips.stream().anyMatch(c -> same(c, ip))) names.add(svcName);
      if (cips.isEmpty()) {
        for (JsonObject a : readyAddresses(svc)) {
          if (same(a.getString("ip"), ip)) names.add(endpointLabel(a) + "." + svcName);
        }
      }
    }
    // not a cluster address: another server may know it (CoreDNS's fallthrough for reverse zones)
    if (names.isEmpty()) return Reply.NOT_OURS;
    return Reply.of(type == Type.PTR ? names.stream().map(t -> new Record(n, Type.PTR, t, 0)).toList() : List.of());
  }

  private static List<String> clusterIPs(JsonObject spec) {
    List<String> out = new ArrayList<>();
    JsonArray ips = spec.getJsonArray("clusterIPs");
    if (ips != null) ips.forEach(o -> out.add(String.valueOf(o)));
    else if (spec.getString("clusterIP") != null) out.add(spec.getString("clusterIP"));
    out.removeIf(ip -> ip.isEmpty() || ip.equals("None"));
    return out;
  }

  private List<JsonObject> readyAddresses(JsonObject svc) {
    List<JsonObject> out = new ArrayList<>();
    JsonObject ep = endpoints.get(Meta.namespace(svc) + "/" + Meta.name(svc));
    if (ep == null) return out;
    boolean publish = svc.getJsonObject("spec", new JsonObject()).getBoolean("publishNotReadyAddresses", false);
    for (Object s : ep.getJsonArray("subsets", new JsonArray())) {
      JsonObject subset = (JsonObject) s;
      for (String list : publish ? List.of("addresses", "notReadyAddresses") : List.of("addresses")) {
        for (Object a : subset.getJsonArray(list, new JsonArray())) {
          JsonObject addr = (JsonObject) a;
          if (addr.getString("ip") != null) out.add(addr.copy().put("__subset", subset.getJsonArray("ports")));
        }
      }
    }
    return out;
  }

  private static Integer endpointPort(JsonObject svc, JsonObject address, String portName) {
    JsonArray ports = address.getJsonArray("__subset", new JsonArray());
    for (Object o : ports) {
      JsonObject p = (JsonObject) o;
      if (portName.equals(p.getString("name"))) return p.getInteger("port");
    }
    return null;
  }

  /** An endpoint's label under its service: its hostname, or its address with dashes. */
  private static String endpointLabel(JsonObject address) {
    String h = address.getString("hostname");
    return h != null && !h.isEmpty() ? h : address.getString("ip").replace('.', '-').replace(':', '-');
  }

  private static java.util.Optional<Record> address(String name, String ip, Type type) {
    boolean v6 = ip.contains(":");
    if (type == Type.A && !v6) return java.util.Optional.of(new Record(name, Type.A, ip, 0));
    if (type == Type.AAAA && v6) return java.util.Optional.of(new Record(name, Type.AAAA, ip, 0));
    return java.util.Optional.empty();
  }

  private static InetAddress podAddress(String label) {
    try {
      if (label.matches("\\d{1,3}(-\\d{1,3}){3}")) return InetAddress.getByName(label.replace('-', '.'));
      if (label.matches("[0-9a-f-]+") && label.contains("-")) {
        InetAddress a = InetAddress.getByName(label.replace('-', ':'));
        return a.getAddress().length == 16 ? a : null;
      }
    } catch (UnknownHostException e) {
      return null;
    }
    return null;
  }

  /** {@code 4.3.2.1.in-addr.arpa} → 1.2.3.4; nibble-form ip6.arpa → the IPv6 address; null otherwise. */
  static String reverseToIp(String n) {
    if (n.endsWith(".in-addr.arpa")) {
      String[] p = n.substring(0, n.length() - ".in-addr.arpa".length()).split("\\.");
      if (p.length != 4) return null;
      for (String x : p) {
        if (!x.matches("\\d{1,3}") || Integer.parseInt(x) > 255) return null;
      }
      return p[3] + "." + p[2] + "." + p[1] + "." + p[0];
    }
    String[] p = n.substring(0, n.length() - ".ip6.arpa".length()).split("\\.");
    if (p.length != 32) return null;
    StringBuilder hex = new StringBuilder();
    for (int i = 31; i >= 0; i--) {
      if (!p[i].matches("[0-9a-f]")) return null;
      hex.append(p[i]);
      if (i % 4 == 0 && i > 0) hex.append(':');
    }
    try {
      return InetAddress.getByName(hex.toString()).getHostAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static boolean same(String a, String b) {
    if (a == null || b == null) return false;
    if (a.equals(b)) return true;
    if (!a.contains(":") || !b.contains(":")) return false;
    try {
      return InetAddress.getByName(a).equals(InetAddress.getByName(b));
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static String strip(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }
}
