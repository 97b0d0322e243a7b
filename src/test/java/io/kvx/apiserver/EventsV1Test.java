package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventsV1Test {

  private static JsonObject core() {
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
    JsonObject v1 = EventsV1.toV1(core());
    assertEquals("events.k8s.io/v1", v1.getString("apiVersion"));
    assertEquals("web", v1.getJsonObject("regarding").getString("name"));
    assertEquals("pulled it", v1.getString("note"));
    assertEquals(3, v1.getInteger("deprecatedCount"));
    assertEquals("kubelet", v1.getString("reportingController"));
    assertEquals("kubelet", v1.getJsonObject("deprecatedSource").getString("component"));
    assertEquals("2026-11-24T08:05:00Z", v1.getString("deprecatedLastTimestamp"));
    assertEquals("Pull", v1.getString("action"));
    assertFalse(v1.containsKey("involvedObject") || v1.containsKey("message") || v1.containsKey("count"));
  }

  @Test
  void theConversionRoundTrips() {
    assertEquals(core(), EventsV1.toCore(EventsV1.toV1(core())));
  }

  @Test
  void aNewEventsV1EventNeedsWhatKubeRequires() {
    JsonObject v1 = EventsV1.toV1(core());
    EventsV1.validateCreate(v1);
    v1.remove("eventTime");
    v1.put("type", "Odd");
    ApiError e = assertThrows(ApiError.class, () -> EventsV1.validateCreate(v1));
    assertEquals(422, e.toStatus().getInteger("code"));
    assertTrue(e.getMessage().contains("eventTime: Required value"), e.getMessage());
    assertTrue(e.getMessage().contains("type: Unsupported value: \"Odd\""), e.getMessage());
  }
}
