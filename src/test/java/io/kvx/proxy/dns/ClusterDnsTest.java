package io.kvx.proxy.dns;

import io.kvx.proxy.dns.ClusterDns.Record;
import io.kvx.proxy.dns.ClusterDns.Reply;
import io.kvx.proxy.dns.ClusterDns.Type;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterDnsTest {

  private static ClusterDns dns() {
    ClusterDns dns = new ClusterDns("cluster.local");
    dns.putService(new JsonObject("""
        {"metadata":{"name":"web","namespace":"shop"},"spec":{"clusterIP":"10.96.0.42",
         "ports":[{"name":"http","port":80,"protocol":"TCP"}]}}"""));
    dns.putService(new JsonObject("""
        {"metadata":{"name":"v6","namespace":"shop"},"spec":{"clusterIP":"fd00:10:96::2a",
         "clusterIPs":["fd00:10:96::2a"],"ports":[{"port":80}]}}"""));
    dns.putService(new JsonObject("""
        {"metadata":{"name":"db","namespace":"shop"},"spec":{"clusterIP":"None",
         "ports":[{"name":"pg","port":5432}]}}"""));
    dns.putService(new JsonObject("""
        {"metadata":{"name":"empty","namespace":"shop"},"spec":{"clusterIP":"None","ports":[{"port":1}]}}"""));
    dns.putService(new JsonObject("""
        {"metadata":{"name":"ext","namespace":"shop"},"spec":{"type":"ExternalName","externalName":"db.example.org"}}"""));
    dns.putService(new JsonObject("""
        {"metadata":{"name":"alias","namespace":"shop"},"spec":{"type":"ExternalName",
         "externalName":"web.shop.svc.cluster.local"}}"""));
    dns.putService(new JsonObject("""
        {"metadata":{"name":"loop","namespace":"shop"},"spec":{"type":"ExternalName",
         "externalName":"loop.shop.svc.cluster.local"}}"""));
    dns.putEndpoints(new JsonObject("""
        {"metadata":{"name":"db","namespace":"shop"},"subsets":[{"addresses":[
          {"ip":"10.42.0.7","hostname":"db-0"},{"ip":"10.42.0.8","hostname":"db-1"},{"ip":"fd00:42::8"}],
          "notReadyAddresses":[{"ip":"10.42.0.9"}],"ports":[{"name":"pg","port":5433}]}]}"""));
    return dns;
  }

  private static List<String> values(Reply r) {
    return r.answers().stream().map(Record::value).toList();
  }

  /** Per question: NXDOMAIN, or the answer values (empty: NODATA). */
  private static String outcome(Reply r) {
    if (!r.ours()) return "not ours";
    return r.nxdomain() ? "NXDOMAIN" : values(r).toString();
  }

  @Test
  void answersAsCoreDnsDoes() {
    ClusterDns dns = dns();
    record Case(String name, Type type, String outcome) {}
    for (Case c : List.of(
        new Case("web.shop.svc.cluster.local", Type.A, "[10.96.0.42]"),
        new Case("WEB.shop.svc.cluster.local.", Type.A, "[10.96.0.42]"),
        new Case("web.shop.svc.cluster.local", Type.AAAA, "[]"),          // IPv4-only: NOERROR, no data
        new Case("web.shop.svc.cluster.local", Type.OTHER, "[]"),
        new Case("v6.shop.svc.cluster.local", Type.AAAA, "[fd00:10:96::2a]"),
        new Case("v6.shop.svc.cluster.local", Type.A, "[]"),
        new Case("db.shop.svc.cluster.local", Type.A, "[10.42.0.7, 10.42.0.8]"),
        new Case("db.shop.svc.cluster.local", Type.AAAA, "[fd00:42::8]"),
        new Case("db-1.db.shop.svc.cluster.local", Type.A, "[10.42.0.8]"),
        new Case("db-1.db.shop.svc.cluster.local", Type.AAAA, "[]"),
        new Case("db-9.db.shop.svc.cluster.local", Type.A, "NXDOMAIN"),
        new Case("empty.shop.svc.cluster.local", Type.A, "NXDOMAIN"),   // headless without ready endpoints
        new Case("ext.shop.svc.cluster.local", Type.A, "[db.example.org]"),
        new Case("alias.shop.svc.cluster.local", Type.A, "[web.shop.svc.cluster.local, 10.96.0.42]"),
        new Case("loop.shop.svc.cluster.local", Type.A, "[loop.shop.svc.cluster.local]"),  // a loop ends
        new Case("10-42-0-5.shop.pod.cluster.local", Type.A, "[10.42.0.5]"),
        new Case("10-42-0-5.shop.pod.cluster.local", Type.AAAA, "[]"),
        new Case("fd00-42--5.shop.pod.cluster.local", Type.AAAA, "[fd00:42:0:0:0:0:0:5]"),
        new Case("nope.shop.pod.cluster.local", Type.A, "NXDOMAIN"),
        new Case("nope.shop.svc.cluster.local", Type.A, "NXDOMAIN"),
        new Case("web.other.svc.cluster.local", Type.A, "NXDOMAIN"),
        new Case("shop.svc.cluster.local", Type.A, "[]"),                // a namespace: empty non-terminal
        new Case("other.svc.cluster.local", Type.A, "NXDOMAIN"),
        new Case("svc.cluster.local", Type.A, "[]"),
        new Case("cluster.local", Type.A, "[]"),
        new Case("cluster.local", Type.SOA, "[]"),
        new Case("a.b.c.shop.svc.cluster.local", Type.A, "NXDOMAIN"),
        new Case("_http._tcp.web.shop.svc.cluster.local", Type.SRV, "[web.shop.svc.cluster.local]"),
        new Case("_http._tcp.web.shop.svc.cluster.local", Type.A, "[]"),
        new Case("_http._udp.web.shop.svc.cluster.local", Type.SRV, "NXDOMAIN"),
        new Case("_pg._tcp.db.shop.svc.cluster.local", Type.SRV,
            "[db-0.db.shop.svc.cluster.local, db-1.db.shop.svc.cluster.local, fd00-42--8.db.shop.svc.cluster.local]"),
        new Case("42.0.96.10.in-addr.arpa", Type.PTR, "[web.shop.svc.cluster.local]"),
        new Case("8.0.42.10.in-addr.arpa", Type.PTR, "[db-1.db.shop.svc.cluster.local]"),
        new Case("42.0.96.10.in-addr.arpa", Type.A, "[]"),
        new Case("a.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa", Type.PTR,
            "[v6.shop.svc.cluster.local]"),
        new Case("1.1.168.192.in-addr.arpa", Type.PTR, "not ours"),     // forwarded, as CoreDNS falls through
        new Case("example.com", Type.A, "not ours"))) {
      assertEquals(c.outcome(), outcome(dns.answer(c.name(), c.type())), c.name() + " " + c.type());
    }
    Reply srv = dns.answer("_pg._tcp.db.shop.svc.cluster.local", Type.SRV);
    assertEquals(List.of(5433, 5433, 5433), srv.answers().stream().map(Record::port).toList());
    assertEquals(80, dns.answer("_http._tcp.web.shop.svc.cluster.local", Type.SRV).answers().get(0).port());
    assertTrue(dns.inZone("anything.cluster.local"));
    assertFalse(dns.inZone("example.com"));
  }

  @Test
  void publishNotReadyAddressesPublishesThemInDns() {
    ClusterDns dns = dns();
    dns.putService(new JsonObject("""
        {"metadata":{"name":"db","namespace":"shop"},"spec":{"clusterIP":"None","publishNotReadyAddresses":true,
         "ports":[{"name":"pg","port":5432}]}}"""));
    assertEquals(List.of("10.42.0.7", "10.42.0.8", "10.42.0.9"),
        values(dns.answer("db.shop.svc.cluster.local", Type.A)));
  }
}
