package io.kvx.proxy.dns;

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
        {"metadata":{"name":"db","namespace":"shop"},"spec":{"clusterIP":"None","ports":[{"port":5432}]}}"""));
    dns.putEndpoints(new JsonObject("""
        {"metadata":{"name":"db","namespace":"shop"},"subsets":[{"addresses":[
          {"ip":"10.42.0.7","hostname":"db-0"},{"ip":"10.42.0.8","hostname":"db-1"}],
          "notReadyAddresses":[{"ip":"10.42.0.9"}]}]}"""));
    return dns;
  }

  @Test
  void answersAsClusterDnsDoes() {
    ClusterDns dns = dns();
    record Case(String name, boolean srv, List<String> addresses, boolean exists) {}
    for (Case c : List.of(
        new Case("web.shop.svc.cluster.local", false, List.of("10.96.0.42"), true),
        new Case("WEB.shop.svc.cluster.local.", false, List.of("10.96.0.42"), true),
        new Case("db.shop.svc.cluster.local", false, List.of("10.42.0.7", "10.42.0.8"), true),
        new Case("db-1.db.shop.svc.cluster.local", false, List.of("10.42.0.8"), true),
        new Case("10-42-0-5.shop.pod.cluster.local", false, List.of("10.42.0.5"), true),
        new Case("nope.shop.svc.cluster.local", false, List.of(), false),
        new Case("web.other.svc.cluster.local", false, List.of(), false))) {
      ClusterDns.Answer a = dns.resolve(c.name(), c.srv());
      assertEquals(c.addresses(), a.addresses(), c.name());
      assertEquals(c.exists(), a.exists(), c.name());
    }
    ClusterDns.Answer srv = dns.resolve("_http._tcp.web.shop.svc.cluster.local", true);
    assertEquals(List.of(new ClusterDns.Srv(80, "web.shop.svc.cluster.local")), srv.srv());
    assertTrue(dns.inZone("anything.cluster.local"));
    assertFalse(dns.inZone("example.com"));
  }
}
