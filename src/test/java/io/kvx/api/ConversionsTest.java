package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConversionsTest {

  private static JsonObject coreEvent() {
    return new JsonObject().put("apiVersion", "v1").put("kind", "Event")
        .put("metadata", new JsonObject().put("name", "web.1").put("namespace", "default"))
        .put("involvedObject", new JsonObject().put("kind", "Pod").put("name", "web"))
        .put("reason", "Pulled").put("message", "pulled it").put("type", "Normal").put("count", 3)
        .put("firstTimestamp", "2026-11-24T08:00:00Z").put("lastTimestamp", "2026-11-24T08:05:00Z")
        .put("source", new JsonObject().put("component", "kubelet")).put("reportingComponent", "kubelet")
        .put("reportingInstance", "vm").put("eventTime", "2026-11-24T08:00:00.000000Z").put("action", "Pull");
  }

  @Test
  void aCoreEventReadsAsEventsV1WithKubesFieldNames() {
    JsonObject v1 = Conversions.eventToV1(coreEvent());
    assertEquals("events.k8s.io/v1", v1.getString("apiVersion"));
    assertEquals("web", v1.getJsonObject("regarding").getString("name"));
    assertEquals("pulled it", v1.getString("note"));
    assertEquals(3, v1.getInteger("deprecatedCount"));
    assertEquals("kubelet", v1.getString("reportingController"));
    assertEquals("kubelet", v1.getJsonObject("deprecatedSource").getString("component"));
    assertEquals("2026-11-24T08:05:00Z", v1.getString("deprecatedLastTimestamp"));
    assertFalse(v1.containsKey("involvedObject") || v1.containsKey("message") || v1.containsKey("count"));
    assertEquals(coreEvent(), Conversions.eventToCore(v1));
  }

  @Test
  void aNewEventsV1EventNeedsWhatKubeRequires() {
    JsonObject v1 = Conversions.eventToV1(coreEvent());
    Conversions.validateEventsV1(v1);
    v1.remove("eventTime");
    v1.put("type", "Odd");
    ApiError e = assertThrows(ApiError.class, () -> Conversions.validateEventsV1(v1));
    assertEquals(422, e.toStatus().getInteger("code"));
    assertTrue(e.getMessage().contains("eventTime: Required value"), e.getMessage());
    assertTrue(e.getMessage().contains("type: Unsupported value: \"Odd\""), e.getMessage());
  }

  private static JsonObject cpu(String part, int value) {
    JsonObject v = new JsonObject().put("averageUtilization", value);
    if (part.equals("target")) v.put("type", "Utilization");
    return new JsonObject().put("type", "Resource").put("resource", new JsonObject().put("name", "cpu").put(part, v));
  }

  @Test
  void anAutoscalingV1TargetIsTheStoredCpuMetric() {
    JsonObject v1 = new JsonObject().put("apiVersion", "autoscaling/v1").put("kind", "HorizontalPodAutoscaler")
        .put("metadata", new JsonObject().put("name", "h"))
        .put("spec", new JsonObject().put("maxReplicas", 4).put("targetCPUUtilizationPercentage", 65));
    JsonObject v2 = Conversions.hpaToV2(v1);
    assertEquals("autoscaling/v2", v2.getString("apiVersion"));
    assertEquals(new JsonArray().add(cpu("target", 65)), v2.getJsonObject("spec").getJsonArray("metrics"));
    assertNull(v2.getJsonObject("spec").getValue("targetCPUUtilizationPercentage"));
    assertNull(Meta.meta(v2).getValue("annotations"));
    assertEquals(v1, Conversions.hpaToV1(v2));
  }

  @Test
  void whatAutoscalingV1CannotSayRoundTripsThroughKubesAnnotations() {
    JsonObject memory = new JsonObject().put("type", "Resource").put("resource", new JsonObject().put("name", "memory")
        .put("target", new JsonObject().put("type", "AverageValue").put("averageValue", "100Mi")));
    JsonObject condition = new JsonObject().put("type", "AbleToScale").put("status", "True");
    JsonObject v2 = new JsonObject().put("apiVersion", "autoscaling/v2").put("kind", "HorizontalPodAutoscaler")
        .put("metadata", new JsonObject().put("name", "h"))
        .put("spec", new JsonObject().put("maxReplicas", 4).put("metrics", new JsonArray().add(cpu("target", 50)).add(memory))
            .put("behavior", new JsonObject().put("scaleDown", new JsonObject().put("stabilizationWindowSeconds", 60))))
        .put("status", new JsonObject().put("currentReplicas", 2).put("desiredReplicas", 2)
            .put("currentMetrics", new JsonArray().add(cpu("current", 12)))
            .put("conditions", new JsonArray().add(condition)));
    JsonObject v1 = Conversions.hpaToV1(v2);
    assertEquals(50, v1.getJsonObject("spec").getInteger("targetCPUUtilizationPercentage"));
    assertEquals(12, v1.getJsonObject("status").getInteger("currentCPUUtilizationPercentage"));
    JsonObject annotations = Meta.meta(v1).getJsonObject("annotations");
    assertTrue(annotations.getString("autoscaling.alpha.kubernetes.io/metrics").contains("memory"));
    assertTrue(annotations.getString("autoscaling.alpha.kubernetes.io/conditions").contains("AbleToScale"));
    assertFalse(v1.getJsonObject("spec").containsKey("metrics") || v1.getJsonObject("status").containsKey("conditions"));
    assertEquals(v2, Conversions.hpaToV2(v1));
  }

  @Test
  void onlyTheViewsConvert() {
    assertEquals(Resources.builtIn("", "events"), Conversions.of(new Resources().find("events.k8s.io", "v1", "events")
        .orElseThrow()).stored());
    assertNull(Conversions.of(Resources.builtIn("autoscaling", "horizontalpodautoscalers")));
    assertNull(Conversions.of(Resources.PODS));
  }
}
