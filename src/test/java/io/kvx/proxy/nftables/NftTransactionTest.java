package io.kvx.proxy.nftables;

import io.kvx.node.Exec;
import io.kvx.proxy.Endpoint;
import io.kvx.proxy.ServiceView;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.kvx.proxy.nftables.NftRendererTest.ep;
import static io.kvx.proxy.nftables.NftRendererTest.port;
import static io.kvx.proxy.nftables.NftRendererTest.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NftTransactionTest {

  static final NftRenderer R = NftRendererTest.R;

  static ServiceRules web(Endpoint... eps) {
    return R.render("default/web", List.of(view(port("", "TCP", 80, 0, 0), eps)));
  }

  static String lines(String script, String prefix) {
    return script.lines().filter(l -> l.startsWith(prefix)).map(l -> l.replaceAll("-[0-9A-F]{8}-", "-H-"))
        .reduce("", (a, b) -> a + b + "\n");
  }

  @Test
  void unchangedServiceSendsNothing() {
    assertTrue(new NftTransaction("kvx").change(web(ep("10.42.0.5", 80)), web(ep("10.42.0.5", 80))).isEmpty());
  }

  @Test
  void addingAnEndpointRewritesOnlyTheServiceChain() {
    String s = new NftTransaction("kvx").change(web(ep("10.42.0.5", 80)), web(ep("10.42.0.5", 80), ep("10.42.0.6", 80)))
        .body().replaceAll("-[0-9A-F]{8}-", "-H-");
    assertEquals("""
        flush chain ip kvx svc-H-default/web/tcp/80
        add rule ip kvx svc-H-default/web/tcp/80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade
        add rule ip kvx svc-H-default/web/tcp/80 meta l4proto tcp dnat ip to numgen random mod 2 map \
        { 0 : 10.42.0.5 . 80, 1 : 10.42.0.6 . 80 }
        """, s);
  }

  @Test
  void hairpinAddressesAreSharedElements() {
    String s = new NftTransaction("kvx").hairpin(List.of("10.42.0.6"), List.of("10.42.0.5", "10.42.0.7")).body();
    assertEquals("""
        add element ip kvx hairpin-endpoints { 10.42.0.6 . 10.42.0.6 }
        delete element ip kvx hairpin-endpoints { 10.42.0.5 . 10.42.0.5, 10.42.0.7 . 10.42.0.7 }
        """, s);
  }

  @Test
  void lastEndpointGoneMovesTheServiceToRejectAndDeletesItsChainsAfterTheElements() {
    String s = new NftTransaction("kvx").change(web(ep("10.42.0.5", 80)), web()).body()
        .replaceAll("-[0-9A-F]{8}-", "-H-");
    assertEquals("""
        delete element ip kvx service-ips { 10.96.0.10 . tcp . 80 }
        add element ip kvx no-endpoint-services { 10.96.0.10 . tcp . 80 : goto reject-chain }
        flush chain ip kvx svc-H-default/web/tcp/80
        delete chain ip kvx svc-H-default/web/tcp/80
        """, s);
  }

  @Test
  void deletedServiceWithAffinityRemovesSetsLast() {
    ServiceRules before = R.render("default/web", List.of(view(port("", "TCP", 80, 0, 60), ep("10.42.0.5", 80))));
    String s = new NftTransaction("kvx").change(before, ServiceRules.none("default/web")).body();
    assertEquals("""
        delete element ip kvx service-ips { 10.96.0.10 . tcp . 80 }
        flush chain ip kvx ep-H-default/web/tcp/80__10.42.0.5/80
        flush chain ip kvx svc-H-default/web/tcp/80
        delete chain ip kvx ep-H-default/web/tcp/80__10.42.0.5/80
        delete chain ip kvx svc-H-default/web/tcp/80
        delete set ip kvx aff-H-default/web/tcp/80__10.42.0.5/80
        """, s.replaceAll("-[0-9A-F]{8}-", "-H-"));
  }

  @Test
  void fullSyncReplacesTheTableInOneScript() {
    String s = NftTransaction.full(R, List.of(web(ep("10.42.0.5", 80))));
    assertTrue(s.startsWith("add table ip kvx\ndelete table ip kvx\ntable ip kvx {"), s);
    assertEquals("""
        add element ip kvx service-ips { 10.96.0.10 . tcp . 80 : goto svc-H-default/web/tcp/80 }
        add element ip kvx hairpin-endpoints { 10.42.0.5 . 10.42.0.5 }
        """, lines(s, "add element"));
  }

  /** The kernel's own check (nft -c: parsed and validated, never committed), where we are root. */
  @Test
  void kernelAcceptsTheScripts() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")) && Exec.onPath("nft"));
    ServiceRules big = R.render("default/web", List.of(
        view(port("http", "TCP", 80, 30080, 600), ep("10.42.0.5", 8080), ep("10.42.0.6", 8080)),
        view(port("dns", "UDP", 53, 0, 0), ep("10.42.0.5", 53)),
        view(port("many", "UDP", 54, 0, 0), ep("10.42.0.5", 53), ep("10.42.0.6", 53), ep("10.42.0.7", 53)),
        view(port("empty", "TCP", 81, 30081, 0))));
    Exec.run(List.of("nft", "-c", "-f", "-"), Map.of(), NftTransaction.full(
        new NftRenderer("kvxpcheck", "10.42.0.0/16", 0x4000), List.of(big)).replace(" kvx ", " kvxpcheck "));
    Exec.run(List.of("nft", "-c", "-f", "-"), Map.of(), NftTransaction.full(new NftRenderer("kvxpcheck", "", 0x4000),
        List.of(new NftRenderer("kvxpcheck", "", 0x4000).render("default/web", List.of(
            view(port("http", "TCP", 80, 30080, 600), ep("10.42.0.5", 8080)))))));
  }
}
