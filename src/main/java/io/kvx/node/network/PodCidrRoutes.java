package io.kvx.node.network;

import io.kvx.api.Ipv4;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Host-gateway routing, as flannel's host-gw backend and kube-router do it: every other node's pod
 * CIDR is reached through that node's InternalIP, which must be on a link this node shares with it.
 * Pure: Node objects in, the routes this node needs out.
 */
public final class PodCidrRoutes {

  private PodCidrRoutes() {
  }

  /** A route to a pod CIDR through a gateway. */
  public record Route(String cidr, String via) {
    @Override
    public String toString() {
      return cidr + " via " + via;
    }
  }

  /** What to change to go from {@code installed} to {@code desired}: removals first. */
  public record Plan(List<Route> remove, List<Route> add) {
    public boolean isEmpty() {
      return remove.isEmpty() && add.isEmpty();
    }
  }

  /**
   * The routes node {@code self} (reachable at {@code selfIp}) needs: one per IPv4 pod CIDR of every
   * other node with an IPv4 InternalIP. Skipped: nodes without either, nodes on this node's address or
   * on loopback (several node agents in one network namespace share their routes already), CIDRs that
   * overlap this node's own. When two nodes claim one CIDR, the one whose name sorts first keeps it.
   */
  public static Set<Route> desired(String self, String selfIp, Collection<JsonObject> nodes) {
    List<String> own = new ArrayList<>();
    List<JsonObject> others = new ArrayList<>();
    for (JsonObject n : nodes) {
      if (self.equals(name(n))) own.addAll(podCidrs(n));
      else others.add(n);
    }
    others.sort(Comparator.comparing(PodCidrRoutes::name));
    Map<String, Route> byCidr = new HashMap<>();
    Set<Route> out = new LinkedHashSet<>();
    for (JsonObject n : others) {
      String ip = internalIp(n);
      if (ip == null || ip.equals(selfIp) || ip.startsWith("127.")) continue;
      for (String cidr : podCidrs(n)) {
        if (own.stream().anyMatch(o -> overlap(o, cidr)) || byCidr.containsKey(cidr)) continue;
        if (byCidr.keySet().stream().anyMatch(c -> overlap(c, cidr))) continue;
        Route r = new Route(cidr, ip);
        byCidr.put(cidr, r);
        out.add(r);
      }
    }
    return out;
  }

  public static Plan plan(Set<Route> installed, Set<Route> desired) {
    List<Route> remove = new ArrayList<>();
    for (Route r : installed) {
      if (!desired.contains(r)) remove.add(r);
    }
    List<Route> add = new ArrayList<>();
    for (Route r : desired) {
      if (!installed.contains(r)) add.add(r);
    }
    return new Plan(remove, add);
  }

  static String name(JsonObject node) {
    return node.getJsonObject("metadata", new JsonObject()).getString("name", "");
  }

  /** The node's IPv4 pod CIDRs (spec.podCIDRs, or spec.podCIDR alone). */
  public static List<String> podCidrs(JsonObject node) {
    JsonObject spec = node.getJsonObject("spec", new JsonObject());
    List<String> out = new ArrayList<>();
    JsonArray list = spec.getJsonArray("podCIDRs", new JsonArray());
    for (Object o : list) {
      if (o instanceof String s && isIpv4Cidr(s)) out.add(s);
    }
    String single = spec.getString("podCIDR");
    if (list.isEmpty() && single != null && isIpv4Cidr(single)) out.add(single);
    return out;
  }

  static String internalIp(JsonObject node) {
    JsonObject status = node.getJsonObject("status", new JsonObject());
    for (Object o : status.getJsonArray("addresses", new JsonArray())) {
      if (o instanceof JsonObject a && "InternalIP".equals(a.getString("type")) && isIpv4(a.getString("address"))) {
        return a.getString("address");
      }
    }
    return null;
  }

  static boolean isIpv4Cidr(String s) {
    String[] parts = s.split("/");
    if (parts.length != 2 || !isIpv4(parts[0])) return false;
    try {
      int p = Integer.parseInt(parts[1]);
      return p >= 0 && p <= 32;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  static boolean isIpv4(String s) {
    if (s == null) return false;
    String[] p = s.split("\\.");
    if (p.length != 4) return false;
    for (String b : p) {
      try {
        int v = Integer.parseInt(b);
        if (v < 0 || v > 255) return false;
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return true;
  }

  static boolean overlap(String a, String b) {
    String[] pa = a.split("/");
    String[] pb = b.split("/");
    int common = Math.min(Integer.parseInt(pa[1]), Integer.parseInt(pb[1]));
    int mask = common == 0 ? 0 : -1 << (32 - common);
    return (Ipv4.toInt(pa[0]) & mask) == (Ipv4.toInt(pb[0]) & mask);
  }
}
