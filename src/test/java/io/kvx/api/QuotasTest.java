package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class QuotasTest {

  private static JsonObject pod(String cpu, String memory) {
    return new JsonObject().put("spec", new JsonObject().put("containers", new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("name", "c").put("resources", new JsonObject().put("requests",
            new JsonObject().put("cpu", cpu).put("memory", memory))))));
  }

  @Test
  void aCreateOverTheHardLimitIsRefusedInKubernetesWords() {
    JsonObject quota = new JsonObject("""
        {"metadata":{"name":"q1"},"spec":{"hard":{"pods":"2","requests.cpu":"1"}}}""");
    Map<String, Long> used = Quotas.usage(null, List.of(pod("500m", "64Mi"), pod("300m", "64Mi")), List.of(), Map.of());
    assertEquals("exceeded quota: q1, requested: pods=1,requests.cpu=300m, used: pods=2,requests.cpu=800m, "
        + "limited: pods=2,requests.cpu=1", Quotas.exceeded(quota, used, Quotas.podDelta(pod("300m", "1Mi"))));
    assertNull(Quotas.exceeded(quota, Quotas.usage(null, List.of(pod("100m", "1Mi")), List.of(), Map.of()),
        Quotas.podDelta(pod("100m", "1Mi"))));
    assertEquals(new JsonObject("""
        {"hard":{"pods":"2","requests.cpu":"1"},"used":{"pods":"2","requests.cpu":"800m"}}"""),
        Quotas.status(quota, used));
  }

  @Test
  void scopedQuotasCountOnlyThePodsInTheirScopes() {
    JsonObject bestEffort = new JsonObject("""
        {"metadata":{"name":"be"},"spec":{"hard":{"pods":"0"},"scopes":["BestEffort"]}}""");
    JsonObject burstable = pod("10m", "1Mi");
    JsonObject plain = new JsonObject("{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    assertEquals(false, Quotas.inScope(bestEffort, burstable));
    assertEquals(true, Quotas.inScope(bestEffort, plain));
    assertEquals(0L, Quotas.usage(bestEffort, List.of(burstable, burstable), List.of(), Map.of("configmaps", 3))
        .get("pods"));
    assertNull(Quotas.usage(bestEffort, List.of(), List.of(), Map.of("configmaps", 3)).get("configmaps"),
        "a scoped quota counts pods alone");
    JsonObject high = new JsonObject("""
        {"metadata":{"name":"hi"},"spec":{"hard":{"pods":"1"},"scopeSelector":{"matchExpressions":[
          {"scopeName":"PriorityClass","operator":"In","values":["high"]}]}}}""");
    JsonObject highPod = plain.copy();
    highPod.getJsonObject("spec").put("priorityClassName", "high");
    assertEquals(true, Quotas.inScope(high, highPod));
    assertEquals(false, Quotas.inScope(high, plain));
    JsonObject terminating = new JsonObject("{\"spec\":{\"hard\":{\"pods\":\"1\"},\"scopes\":[\"Terminating\"]}}");
    highPod.getJsonObject("spec").put("activeDeadlineSeconds", 30);
    assertEquals(true, Quotas.inScope(terminating, highPod));
    assertEquals(false, Quotas.inScope(terminating, plain));
  }

  @Test
  void servicesCountTheirNodePortsAndLoadBalancers() {
    JsonObject nodePort = new JsonObject("{\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80},{\"port\":443}]}}");
    JsonObject balancer = new JsonObject("{\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{\"port\":80}]}}");
    JsonObject quota = new JsonObject("""
        {"metadata":{"name":"q1"},"spec":{"hard":{"services.nodeports":"3","services.loadbalancers":"1"}}}""");
    Map<String, Long> used = Quotas.usage(quota, List.of(), List.of(nodePort, balancer), Map.of());
    assertEquals(3L, used.get("services.nodeports"));
    assertEquals("exceeded quota: q1, requested: services.loadbalancers=1,services.nodeports=1, used: "
        + "services.loadbalancers=1,services.nodeports=3, limited: services.loadbalancers=1,services.nodeports=3",
        Quotas.exceeded(quota, used, Quotas.serviceDelta(balancer)));
  }

  @Test
  void aQuotaOnComputeResourcesMakesEveryContainerSayHowMuch() {
    JsonObject quota = new JsonObject("""
        {"metadata":{"name":"q"},"spec":{"hard":{"pods":"5","requests.cpu":"1","limits.memory":"1Gi"}}}""");
    JsonObject bare = new JsonObject("""
        {"spec":{"initContainers":[{"name":"init"}],"containers":[{"name":"b"},
          {"name":"a","resources":{"limits":{"memory":"64Mi"}}}]}}""");
    assertEquals("must specify limits.memory for: b,init; requests.cpu for: a,b,init", Quotas.missing(quota, bare));
    // a cpu limit stands for the request Kubernetes defaults from it
    JsonObject limited = new JsonObject("""
        {"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"1","memory":"64Mi"}}}]}}""");
    assertNull(Quotas.missing(quota, limited));
    assertNull(Quotas.missing(new JsonObject("{\"spec\":{\"hard\":{\"pods\":\"1\"}}}"), bare));
  }

  @Test
  void limitRangesFillDefaultsAndEnforceMaximums() {
    JsonObject range = new JsonObject("""
        {"spec":{"limits":[{"type":"Container","default":{"cpu":"500m","memory":"128Mi"},
          "defaultRequest":{"cpu":"100m"},"max":{"cpu":"1"}}]}}""");
    JsonObject p = new JsonObject("""
        {"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");
    assertNull(Quotas.applyLimitRanges(p, List.of(range)));
    JsonObject res = p.getJsonObject("spec").getJsonArray("containers").getJsonObject(0).getJsonObject("resources");
    assertEquals(new JsonObject("""
        {"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"100m","memory":"128Mi"}}"""), res);
    assertEquals("LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c",
        p.getJsonObject("metadata").getJsonObject("annotations").getString("kubernetes.io/limit-ranger"));
    Quotas.defaultLimitRange(range);
    assertEquals(new JsonObject("{\"cpu\":\"100m\",\"memory\":\"128Mi\"}"),
        range.getJsonObject("spec").getJsonArray("limits").getJsonObject(0).getJsonObject("defaultRequest"));
    JsonObject onlyMax = new JsonObject("""
        {"spec":{"limits":[{"type":"Container","max":{"cpu":"1"},"min":{"cpu":"100m"}}]}}""");
    Quotas.defaultLimitRange(onlyMax);
    assertEquals(new JsonObject("""
        {"type":"Container","max":{"cpu":"1"},"min":{"cpu":"100m"},"default":{"cpu":"1"},"defaultRequest":{"cpu":"1"}}"""),
        onlyMax.getJsonObject("spec").getJsonArray("limits").getJsonObject(0));
    JsonObject small = new JsonObject("""
        {"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"10m"}}}]}}""");
    assertEquals("minimum cpu usage per Container is 100m, but request is 10m",
        Quotas.applyLimitRanges(small, List.of(onlyMax)));
    JsonObject big = new JsonObject("""
        {"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"2"}}}]}}""");
    assertEquals("maximum cpu usage per Container is 1, but limit is 2", Quotas.applyLimitRanges(big, List.of(range)));
    // maxLimitRequestRatio per Container, and a Pod item over the containers together (kube's LimitRanger words).
    JsonObject ratio = new JsonObject("""
        {"spec":{"limits":[{"type":"Container","maxLimitRequestRatio":{"cpu":"4"}},
                           {"type":"Pod","max":{"memory":"1Gi"}}]}}""");
    JsonObject greedy = new JsonObject("""
        {"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"100m"},"limits":{"cpu":"800m"}}}]}}""");
    assertEquals("cpu max limit to request ratio per Container is 4, but provided ratio is 8.000000",
        Quotas.applyLimitRanges(greedy, List.of(ratio)));
    JsonObject three = new JsonObject("""
        {"spec":{"containers":[
          {"name":"a","resources":{"requests":{"cpu":"100m"},"limits":{"cpu":"100m","memory":"500Mi"}}},
          {"name":"b","resources":{"requests":{"cpu":"100m"},"limits":{"cpu":"100m","memory":"500Mi"}}},
          {"name":"c","resources":{"requests":{"cpu":"100m"},"limits":{"cpu":"100m","memory":"500Mi"}}}]}}""");
    assertEquals("maximum memory usage per Pod is 1Gi, but limit is 1500Mi", Quotas.applyLimitRanges(three,
        List.of(ratio)));
  }
}
