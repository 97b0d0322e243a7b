package io.kvx.proxy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChangeTrackerTest {

  static JsonObject svc(String name, String ip, int port) {
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", name))
        .put("spec", new JsonObject().put("clusterIP", ip).put("ports", new JsonArray()
            .add(new JsonObject().put("name", "http").put("port", port).put("targetPort", "web"))));
  }

  static JsonObject eps(String name, List<String> ready, List<String> notReady) {
    JsonArray a = new JsonArray();
    ready.forEach(ip -> a.add(new JsonObject().put("ip", ip)));
    JsonArray n = new JsonArray();
    notReady.forEach(ip -> n.add(new JsonObject().put("ip", ip)));
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", name))
        .put("subsets", new JsonArray().add(new JsonObject().put("addresses", a).put("notReadyAddresses", n)
            .put("ports", new JsonArray().add(new JsonObject().put("name", "http").put("port", 8080)))));
  }

  @Test
  void burstsCollapseAndNoOpsVanish() {
    ChangeTracker<ServicePort> t = ChangeTracker.services();
    assertTrue(t.update("default/a", svc("a", "10.96.0.1", 80), 1));
    assertTrue(t.update("default/a", svc("a", "10.96.0.1", 81), 2));
    assertTrue(t.update("default/b", svc("b", "10.96.0.2", 80), 3));
    assertEquals(1, t.oldestPendingNanos());
    assertEquals(Set.of("default/a", "default/b"), t.apply());
    assertEquals(81, t.state().get("default/a").values().iterator().next().port());
    // change and change back before the next sync: nothing to do
    assertTrue(t.update("default/a", svc("a", "10.96.0.1", 82), 4));
    assertTrue(t.update("default/a", svc("a", "10.96.0.1", 81), 5));
    assertFalse(t.hasPending());
    assertEquals(Set.of(), t.apply());
    // deletion
    assertTrue(t.update("default/b", null, 6));
    assertEquals(Set.of("default/b"), t.apply());
    assertFalse(t.state().containsKey("default/b"));
  }

  @Test
  void headlessAndUnallocatedServicesHaveNothingToProgram() {
    ChangeTracker<ServicePort> t = ChangeTracker.services();
    assertFalse(t.update("default/h", svc("h", "None", 80), 1));
    assertFalse(t.update("default/u", svc("u", "", 80), 1));
    assertTrue(t.update("default/u", svc("u", "10.96.0.9", 80), 2));
  }

  @Test
  void endpointsByPortNameAndReadiness() {
    ChangeTracker<List<Endpoint>> t = ChangeTracker.endpoints();
    t.update("default/a", eps("a", List.of("10.42.0.6", "10.42.0.5"), List.of("10.42.0.7")), 1);
    t.apply();
    ServicePortName http = new ServicePortName("default", "a", "http", "TCP");
    assertEquals(List.of(new Endpoint("10.42.0.5", 8080, true), new Endpoint("10.42.0.6", 8080, true),
        new Endpoint("10.42.0.7", 8080, false)), t.state().get("default/a").get(http));
    ChangeTracker<ServicePort> s = ChangeTracker.services();
    s.update("default/a", svc("a", "10.96.0.1", 80), 1);
    s.apply();
    ProxySnapshot snap = ProxySnapshot.of(s.state(), t.state());
    assertEquals(List.of(new Endpoint("10.42.0.5", 8080, true), new Endpoint("10.42.0.6", 8080, true)),
        snap.service("default/a").get(0).endpoints());
    assertEquals(Map.of(), ProxySnapshot.empty().services());
  }

  @Test
  void sessionAffinityTimeout() {
    JsonObject o = svc("a", "10.96.0.1", 80);
    o.getJsonObject("spec").put("sessionAffinity", "ClientIP");
    assertEquals(10_800, ProxyObjects.servicePorts(o).values().iterator().next().affinitySeconds());
    o.getJsonObject("spec").put("sessionAffinityConfig", new JsonObject().put("clientIP",
        new JsonObject().put("timeoutSeconds", 30)));
    assertEquals(30, ProxyObjects.servicePorts(o).values().iterator().next().affinitySeconds());
  }

  static JsonObject slice(String name, String service, String addressType, JsonArray endpoints, JsonArray ports) {
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", name)
            .put("labels", new JsonObject().put("kubernetes.io/service-name", service)))
        .put("addressType", addressType).put("endpoints", endpoints).put("ports", ports);
  }

  static JsonObject ep(String ip, Boolean ready, Boolean serving, Boolean terminating) {
    JsonObject c = new JsonObject();
    if (ready != null) c.put("ready", ready);
    if (serving != null) c.put("serving", serving);
    if (terminating != null) c.put("terminating", terminating);
    return new JsonObject().put("addresses", new JsonArray().add(ip)).put("conditions", c);
  }

  static JsonArray ports(Object... nameProtoPort) {
    JsonArray a = new JsonArray();
    for (int i = 0; i < nameProtoPort.length; i += 3) {
      JsonObject p = new JsonObject().put("protocol", nameProtoPort[i + 1]).put("port", nameProtoPort[i + 2]);
      if (nameProtoPort[i] != null) p.put("name", nameProtoPort[i]);
      a.add(p);
    }
    return a;
  }

  @Test
  void slicesOfOneServiceMergeAndMoveBetweenServices() {
    EndpointSliceCache cache = new EndpointSliceCache();
    ServicePortName http = new ServicePortName("default", "web", "http", "TCP");
    ServicePortName dns = new ServicePortName("default", "web", "dns", "UDP");
    var touched = cache.update("default/web-1", slice("web-1", "web", "IPv4",
        new JsonArray().add(ep("10.42.0.6", true, null, null)).add(ep("10.42.0.5", null, null, null)),
        ports("http", "TCP", 8080, "dns", "UDP", 5353)));
    assertEquals(Set.of("default/web"), touched.keySet());
    touched = cache.update("default/web-2", slice("web-2", "web", "IPv4",
        new JsonArray().add(ep("10.42.0.7", false, false, false)).add(ep("10.42.0.5", true, true, false)),
        ports("http", "TCP", 9090)));
    assertEquals(List.of(new Endpoint("10.42.0.5", 8080, true), new Endpoint("10.42.0.5", 9090, true),
        new Endpoint("10.42.0.6", 8080, true), new Endpoint("10.42.0.7", 9090, false)),
        touched.get("default/web").get(http), "a named target port may resolve to different numbers per slice");
    assertEquals(List.of(new Endpoint("10.42.0.5", 5353, true), new Endpoint("10.42.0.6", 5353, true)),
        touched.get("default/web").get(dns));
    // IPv6 slices are not ours; a slice relabelled to another service leaves the first one
    touched = cache.update("default/v6", slice("v6", "web", "IPv6",
        new JsonArray().add(ep("fd00::1", true, null, null)), ports("http", "TCP", 80)));
    assertEquals(4, touched.get("default/web").get(http).size(), "IPv6 slices add nothing");
    touched = cache.update("default/web-2", slice("web-2", "other", "IPv4",
        new JsonArray().add(ep("10.42.0.5", true, true, false)), ports("http", "TCP", 9090)));
    assertEquals(Set.of("default/web", "default/other"), touched.keySet());
    assertEquals(List.of(new Endpoint("10.42.0.5", 8080, true), new Endpoint("10.42.0.6", 8080, true)),
        touched.get("default/web").get(http));
    touched = cache.update("default/web-1", null);
    assertEquals(Map.of(), touched.get("default/web"));
  }

  @Test
  void terminatingServingEndpointsOnlyWhenNoneIsReady() {
    ChangeTracker<ServicePort> s = ChangeTracker.services();
    s.update("default/a", svc("a", "10.96.0.1", 80), 1);
    s.apply();
    ServicePortName http = new ServicePortName("default", "a", "http", "TCP");
    Endpoint old = new Endpoint("10.42.0.5", 8080, false, true, true);
    Endpoint gone = new Endpoint("10.42.0.6", 8080, false, false, true);
    Endpoint fresh = new Endpoint("10.42.0.7", 8080, true);
    ProxySnapshot draining = ProxySnapshot.of(s.state(), Map.of("default/a", Map.of(http, List.of(old, gone))));
    assertEquals(List.of(old), draining.service("default/a").get(0).endpoints());
    ProxySnapshot rolled = ProxySnapshot.of(s.state(), Map.of("default/a", Map.of(http, List.of(old, gone, fresh))));
    assertEquals(List.of(fresh), rolled.service("default/a").get(0).endpoints());
  }
}
