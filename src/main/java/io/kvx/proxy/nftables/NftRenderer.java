package io.kvx.proxy.nftables;

import io.kvx.proxy.Endpoint;
import io.kvx.proxy.ServicePort;
import io.kvx.proxy.ServiceView;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders services into nftables rules for one {@code ip} table (IPv4 only: services with an IPv6
 * cluster IP are skipped upstream). The table's fixed part dispatches on verdict maps keyed by
 * {@code daddr . l4proto . dport} (cluster IPs) and {@code l4proto . dport} on local addresses (node
 * ports); each service port then has its own chains:
 * <ul>
 *   <li>{@code svc-H-…}: masquerade traffic from outside the cluster CIDR, then one rule that DNATs to
 *       {@code numgen random mod N map { i : ip . port }}; with ClientIP affinity instead stick to an
 *       endpoint whose affinity set holds the client, otherwise pick one with a numgen vmap;</li>
 *   <li>{@code ep-H-…} per endpoint, only with affinity: remember the client in the endpoint's affinity
 *       set, DNAT;</li>
 *   <li>{@code ext-H-…} for a node port: always masquerade, then the service chain.</li>
 * </ul>
 * Hairpin traffic (a pod reaching itself through its service) is masqueraded in postrouting by one
 * rule against the {@code hairpin-endpoints} set ({@code ip . ip} per endpoint address), which the mode
 * keeps with reference counts across services. A port without ready endpoints has no chains: its keys
 * go to the no-endpoint maps, which the filter hooks reject, as kube-proxy does. The filter hooks see
 * every packet of every connection on the node, so (as kube-proxy) they look at new connections only:
 * an established packet costs one conntrack-state test there instead of a map lookup and a FIB lookup.
 * Pure: strings in, strings out.
 */
public final class NftRenderer {

  public static final String SERVICE_IPS = "service-ips";
  public static final String SERVICE_NODEPORTS = "service-nodeports";
  public static final String NO_ENDPOINT_SERVICES = "no-endpoint-services";
  public static final String NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports";
  /** Every endpoint address as {@code ip . ip}: a connection DNATed to its own source is masqueraded. */
  public static final String HAIRPIN = "hairpin-endpoints";

  private final String table;
  private final String clusterCidr;
  private final String mark;

  public NftRenderer(String table, String clusterCidr, int masqueradeMark) {
    this.table = table;
    this.clusterCidr = clusterCidr == null ? "" : clusterCidr;
    this.mark = "0x" + Integer.toHexString(masqueradeMark);
  }

  public String table() {
    return table;
  }

  /** The table's fixed part, as an nft script body (without the table's own add/delete). */
  public String base() {
    return """
        table ip %1$s {
          map %2$s { type ipv4_addr . inet_proto . inet_service : verdict ; }
          map %3$s { type inet_proto . inet_service : verdict ; }
          map %4$s { type ipv4_addr . inet_proto . inet_service : verdict ; }
          map %5$s { type inet_proto . inet_service : verdict ; }
          chain nat-prerouting { type nat hook prerouting priority dstnat ; policy accept ; jump services ; }
          chain nat-output { type nat hook output priority -100 ; policy accept ; jump services ; }
          chain nat-postrouting { type nat hook postrouting priority srcnat ; policy accept ; jump masquerading ; }
          chain filter-input { type filter hook input priority -10 ; policy accept ; ct state new jump no-endpoints ; \
        ct state new fib daddr type local meta l4proto . th dport vmap @%5$s ; \
        ct state new ip saddr != 127.0.0.0/8 ip daddr 127.0.0.0/8 ct status & dnat == 0 drop ; }
          chain filter-forward { type filter hook forward priority -10 ; policy accept ; ct state new jump no-endpoints ; }
          chain filter-output { type filter hook output priority -10 ; policy accept ; ct state new jump no-endpoints ; }
          chain no-endpoints { ip daddr . meta l4proto . th dport vmap @%4$s ; }
          chain reject-chain { reject ; }
          chain services {
            ip daddr . meta l4proto . th dport vmap @%2$s
            fib daddr type local meta l4proto . th dport vmap @%3$s
          }
          set %7$s { type ipv4_addr . ipv4_addr ; }
          chain mark-for-masquerade { meta mark set meta mark | %6$s ; }
          chain masquerading {
            ip saddr . ip daddr @%7$s ct status dnat masquerade fully-random
            meta mark & %6$s == 0 return
            meta mark set meta mark ^ %6$s
            masquerade fully-random
          }
        }
        """.formatted(table, SERVICE_IPS, SERVICE_NODEPORTS, NO_ENDPOINT_SERVICES, NO_ENDPOINT_NODEPORTS, mark,
        HAIRPIN);
  }

  /** Renders every port of one service. */
  public ServiceRules render(String service, List<ServiceView> ports) {
    Map<String, List<String>> chains = new LinkedHashMap<>();
    Map<String, String> sets = new LinkedHashMap<>();
    Map<String, String> elements = new LinkedHashMap<>();
    java.util.Set<String> hairpin = new java.util.TreeSet<>();
    for (ServiceView view : ports) {
      renderPort(view, chains, sets, elements);
      view.endpoints().forEach(e -> hairpin.add(e.ip()));
    }
    return new ServiceRules(service, chains, sets, elements, hairpin);
  }

  private void renderPort(ServiceView view, Map<String, List<String>> chains, Map<String, String> sets,
                          Map<String, String> elements) {
    ServicePort p = view.port();
    String proto = p.protocol().toLowerCase();
    String label = label(p);
    String ipKey = p.clusterIP() + " . " + proto + " . " + p.port();
    String nodeKey = proto + " . " + p.nodePort();
    if (view.endpoints().isEmpty()) {
      elements.put(NO_ENDPOINT_SERVICES + "|" + ipKey, "goto reject-chain");
      if (p.nodePort() > 0) elements.put(NO_ENDPOINT_NODEPORTS + "|" + nodeKey, "goto reject-chain");
      return;
    }
    String svcChain = "svc-" + hash(label) + "-" + label;
    List<String> svcRules = new ArrayList<>();
    svcRules.add(clusterCidr.isEmpty() ? "jump mark-for-masquerade"
        : "ip saddr != " + clusterCidr + " jump mark-for-masquerade");
    List<Endpoint> eps = view.endpoints();
    if (!p.affinity()) {
      // No per-endpoint chains: one rule picks and DNATs (fewer chains keep nft's cache loads small).
      if (eps.size() == 1) {
        svcRules.add("meta l4proto " + proto + " dnat to " + eps.get(0).ip() + ":" + eps.get(0).port());
      } else {
        StringBuilder map = new StringBuilder("meta l4proto " + proto + " dnat ip to numgen random mod " + eps.size()
            + " map { ");
        for (int i = 0; i < eps.size(); i++) {
          if (i > 0) map.append(", ");
          map.append(i).append(" : ").append(eps.get(i).ip()).append(" . ").append(eps.get(i).port());
        }
        svcRules.add(map.append(" }").toString());
      }
    } else {
      List<String> epChains = new ArrayList<>();
      for (Endpoint ep : eps) {
        String epLabel = label + "__" + ep.ip() + "/" + ep.port();
        String epChain = "ep-" + hash(epLabel) + "-" + epLabel;
        epChains.add(epChain);
        String set = "aff-" + hash(epLabel + "/" + p.affinitySeconds()) + "-" + epLabel;
        sets.put(set, "{ type ipv4_addr ; flags dynamic,timeout ; timeout " + p.affinitySeconds() + "s ; }");
        svcRules.add("ip saddr @" + set + " goto " + epChain);
        chains.put(epChain, List.of("update @" + set + " { ip saddr }",
            "meta l4proto " + proto + " dnat to " + ep.ip() + ":" + ep.port()));
      }
      if (epChains.size() == 1) {
        svcRules.add("goto " + epChains.get(0));
      } else {
        StringBuilder vmap = new StringBuilder("numgen random mod " + epChains.size() + " vmap { ");
        for (int i = 0; i < epChains.size(); i++) {
          if (i > 0) vmap.append(", ");
          vmap.append(i).append(" : goto ").append(epChains.get(i));
        }
        svcRules.add(vmap.append(" }").toString());
      }
    }
    chains.put(svcChain, svcRules);
    elements.put(SERVICE_IPS + "|" + ipKey, "goto " + svcChain);
    if (p.nodePort() > 0) {
      String extChain = "ext-" + hash(label) + "-" + label;
      chains.put(extChain, List.of("jump mark-for-masquerade", "goto " + svcChain));
      elements.put(SERVICE_NODEPORTS + "|" + nodeKey, "goto " + extChain);
    }
  }

  /** {@code namespace/name/proto/port-name-or-number}: readable in {@code nft list}, unique with the hash. */
  static String label(ServicePort p) {
    String port = p.name().port().isEmpty() ? Integer.toString(p.port()) : p.name().port();
    return p.name().namespace() + "/" + p.name().name() + "/" + p.protocol().toLowerCase() + "/" + port;
  }

  /** Eight hex digits of SHA-256: keeps names short enough and distinct when labels are cut. */
  static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().withUpperCase().formatHex(d, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
