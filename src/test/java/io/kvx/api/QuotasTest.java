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
    Map<String, Long> used = Quotas.usage(List.of(pod("500m", "64Mi"), pod("300m", "64Mi")), Map.of());
    assertEquals("exceeded quota: q1, requested: pods=1,requests.cpu=300m, used: pods=2,requests.cpu=800m, "
        + "limited: pods=2,requests.cpu=1", Quotas.exceeded(quota, used, Quotas.podDelta(pod("300m", "1Mi"))));
    assertNull(Quotas.exceeded(quota, Quotas.usage(List.of(pod("100m", "1Mi")), Map.of()),
        Quotas.podDelta(pod("100m", "1Mi"))));
    assertEquals(new JsonObject("""
        {"hard":{"pods":"2","requests.cpu":"1"},"used":{"pods":"2","requests.cpu":"800m"}}"""),
        Quotas.status(quota, used));
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
    JsonObject big = new JsonObject("""
        {"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"2"}}}]}}""");
    assertEquals("maximum cpu usage per Container is 1, but limit is 2", Quotas.applyLimitRanges(big, List.of(range)));
  }
}
