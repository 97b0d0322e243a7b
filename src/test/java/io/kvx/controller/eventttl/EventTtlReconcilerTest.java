package io.kvx.controller.eventttl;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EventTtlReconcilerTest {

  private static final long HOUR = 3_600_000L;

  private static long at(String t) {
    return Instant.parse(t).toEpochMilli();
  }

  @Test
  void aCoreEventExpiresAnHourAfterItsLastRepeat() {
    JsonObject ev = new JsonObject().put("metadata", new JsonObject().put("creationTimestamp", "2026-11-24T08:00:00Z"))
        .put("firstTimestamp", "2026-11-24T08:00:00Z").put("lastTimestamp", "2026-11-24T08:40:00Z").put("count", 7);
    assertEquals(at("2026-11-24T09:40:00Z"), EventTtlReconciler.expiresAt(ev, HOUR));
  }

  @Test
  void anEventsApiEventCountsItsSeriesAndMicroTimes() {
    JsonObject ev = new JsonObject().put("metadata", new JsonObject().put("creationTimestamp", "2026-11-24T08:00:00Z"))
        .put("eventTime", "2026-11-24T08:00:00.250000Z")
        .put("series", new JsonObject().put("count", 3).put("lastObservedTime", "2026-11-24T08:30:00.500000Z"));
    assertEquals(at("2026-11-24T09:30:00.500Z"), EventTtlReconciler.expiresAt(ev, HOUR));
  }

  @Test
  void unreadableTimesFallBackToCreation() {
    JsonObject ev = new JsonObject().put("metadata", new JsonObject().put("creationTimestamp", "2026-11-24T08:00:00Z"))
        .put("lastTimestamp", "yesterday");
    assertEquals(at("2026-11-24T09:00:00Z"), EventTtlReconciler.expiresAt(ev, HOUR));
  }
}
