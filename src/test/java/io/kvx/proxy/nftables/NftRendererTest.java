package io.kvx.proxy.nftables;

import io.kvx.proxy.Endpoint;
import io.kvx.proxy.ServicePort;
import io.kvx.proxy.ServicePortName;
import io.kvx.proxy.ServiceView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NftRendererTest {

  static final NftRenderer R = new NftRenderer("kvx", "10.42.0.0/16", 0x4000);

  static ServicePort port(String portName, String proto, int port, int nodePort, int affinity) {
    return new ServicePort(new ServicePortName("default", "web", portName, proto), "10.96.0.10", port, proto,
        nodePort, affinity);
  }

  static ServiceView view(ServicePort p, Endpoint... eps) {
    return new ServiceView(p, List.of(eps));
  }

  static Endpoint ep(String ip, int port) {
    return new Endpoint(ip, port, true);
  }

  /** Renders and prints in a stable, readable form: chains, sets, elements. */
  static String show(ServiceRules r) {
    StringBuilder b = new StringBuilder();
    r.chains().forEach((name, rules) -> {
      b.append("chain ").append(name).append('\n');
      rules.forEach(x -> b.append("  ").append(x).append('\n'));
    });
    r.sets().forEach((name, def) -> b.append("set ").append(name).append(' ').append(def).append('\n'));
    r.elements().forEach((k, v) -> b.append("element ").append(k).append(" : ").append(v).append('\n'));
    if (!r.hairpin().isEmpty()) b.append("hairpin ").append(r.hairpin()).append('\n');
    return b.toString();
  }

  static String h(String s) {
    return NftRenderer.hash(s);
  }

  static Stream<Arguments> cases() {
    String l80 = "default/web/tcp/80";
    String lhttp = "default/web/tcp/http";
    String ldns = "default/web/udp/dns";
    return Stream.of(
        Arguments.of("no endpoints: rejected, no chains", List.of(view(port("", "TCP", 80, 0, 0))),
            "element no-endpoint-services|10.96.0.10 . tcp . 80 : goto reject-chain\n"),
        Arguments.of("no endpoints with a node port", List.of(view(port("", "TCP", 80, 30080, 0))),
            """
            element no-endpoint-services|10.96.0.10 . tcp . 80 : goto reject-chain
            element no-endpoint-nodeports|tcp . 30080 : goto reject-chain
            """),
        Arguments.of("one endpoint: a plain DNAT", List.of(view(port("", "TCP", 80, 0, 0), ep("10.42.0.5", 8080))),
            """
            chain svc-%1$s-default/web/tcp/80
              ip saddr != 10.42.0.0/16 jump mark-for-masquerade
              meta l4proto tcp dnat to 10.42.0.5:8080
            element service-ips|10.96.0.10 . tcp . 80 : goto svc-%1$s-default/web/tcp/80
            hairpin [10.42.0.5]
            """.formatted(h(l80))),
        Arguments.of("three endpoints: one numgen DNAT map, udp, named port",
            List.of(view(port("dns", "UDP", 53, 0, 0), ep("10.42.0.5", 5353), ep("10.42.0.6", 5353),
                ep("10.42.0.7", 5353))),
            """
            chain svc-%1$s-default/web/udp/dns
              ip saddr != 10.42.0.0/16 jump mark-for-masquerade
              meta l4proto udp dnat ip to numgen random mod 3 map { 0 : 10.42.0.5 . 5353, 1 : 10.42.0.6 . 5353, \
            2 : 10.42.0.7 . 5353 }
            element service-ips|10.96.0.10 . udp . 53 : goto svc-%1$s-default/web/udp/dns
            hairpin [10.42.0.5, 10.42.0.6, 10.42.0.7]
            """.formatted(h(ldns))),
        Arguments.of("client IP affinity and a node port",
            List.of(view(port("http", "TCP", 80, 30080, 600), ep("10.42.0.5", 8080), ep("10.42.0.6", 8080))),
            """
            chain ep-%1$s-default/web/tcp/http__10.42.0.5/8080
              update @aff-%3$s-default/web/tcp/http__10.42.0.5/8080 { ip saddr }
              meta l4proto tcp dnat to 10.42.0.5:8080
            chain ep-%2$s-default/web/tcp/http__10.42.0.6/8080
              update @aff-%4$s-default/web/tcp/http__10.42.0.6/8080 { ip saddr }
              meta l4proto tcp dnat to 10.42.0.6:8080
            chain svc-%5$s-default/web/tcp/http
              ip saddr != 10.42.0.0/16 jump mark-for-masquerade
              ip saddr @aff-%3$s-default/web/tcp/http__10.42.0.5/8080 goto ep-%1$s-default/web/tcp/http__10.42.0.5/8080
              ip saddr @aff-%4$s-default/web/tcp/http__10.42.0.6/8080 goto ep-%2$s-default/web/tcp/http__10.42.0.6/8080
              numgen random mod 2 vmap { 0 : goto ep-%1$s-default/web/tcp/http__10.42.0.5/8080, \
            1 : goto ep-%2$s-default/web/tcp/http__10.42.0.6/8080 }
            chain ext-%5$s-default/web/tcp/http
              jump mark-for-masquerade
              goto svc-%5$s-default/web/tcp/http
            set aff-%3$s-default/web/tcp/http__10.42.0.5/8080 { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }
            set aff-%4$s-default/web/tcp/http__10.42.0.6/8080 { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }
            element service-ips|10.96.0.10 . tcp . 80 : goto svc-%5$s-default/web/tcp/http
            element service-nodeports|tcp . 30080 : goto ext-%5$s-default/web/tcp/http
            hairpin [10.42.0.5, 10.42.0.6]
            """.formatted(h(lhttp + "__10.42.0.5/8080"), h(lhttp + "__10.42.0.6/8080"),
                h(lhttp + "__10.42.0.5/8080/600"), h(lhttp + "__10.42.0.6/8080/600"), h(lhttp))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void renders(String name, List<ServiceView> ports, String expected) {
    assertEquals(expected, show(R.render("default/web", ports)));
  }

  /** The filter hooks run for every packet on the node: only a new connection pays the no-endpoint lookups. */
  @Test
  void filterHooksLookAtNewConnectionsOnly() {
    List<String> hooks = R.base().lines().filter(l -> l.contains("type filter hook")).toList();
    assertEquals(3, hooks.size());
    for (String chain : hooks) {
      String rules = chain.substring(chain.indexOf("policy accept ;") + "policy accept ;".length(), chain.lastIndexOf('}'));
      for (String rule : rules.split(";")) {
        if (!rule.isBlank()) assertTrue(rule.trim().startsWith("ct state new "), chain);
      }
    }
  }
}
