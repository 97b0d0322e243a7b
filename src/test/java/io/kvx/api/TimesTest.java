package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimesTest {

  @Test
  void timesAreStoredInUtcSecondsAndMicroTimesWithMicroseconds() {
    JsonObject job = new JsonObject("""
        {"status": {"startTime": "2026-11-24T12:00:00.789+02:00",
          "conditions": [{"type": "Complete", "lastTransitionTime": "2026-11-24T10:00:05Z"}]}}""");
    Times.normalize("Job", job);
    assertEquals("2026-11-24T10:00:00Z", job.getJsonObject("status").getString("startTime"));
    assertEquals("2026-11-24T10:00:05Z", job.getJsonObject("status").getJsonArray("conditions").getJsonObject(0)
        .getString("lastTransitionTime"));
    JsonObject event = new JsonObject("""
        {"eventTime": "2026-11-24T10:00:00.123Z", "firstTimestamp": "2026-11-24T10:00:00Z", "reason": "x"}""");
    Times.normalize("Event", event);
    assertEquals("2026-11-24T10:00:00.123000Z", event.getString("eventTime"));
    // A Lease's renewTime with an offset, as kube takes it.
    JsonObject lease = new JsonObject("{\"spec\": {\"renewTime\": \"2026-11-24T12:00:00.123456+02:00\"}}");
    Times.normalize("Lease", lease);
    assertEquals("2026-11-24T10:00:00.123456Z", lease.getJsonObject("spec").getString("renewTime"));
    JsonObject typed = Json.normalize(Resources.builtIn("coordination.k8s.io", "leases"), new JsonObject(
        "{\"metadata\": {\"name\": \"l\"}, \"spec\": {\"renewTime\": \"2026-11-24T12:00:00.123456+02:00\"}}"));
    assertEquals("2026-11-24T10:00:00.123456Z", typed.getJsonObject("spec").getString("renewTime"));
  }

  @Test
  void aValueThatIsNoTimeIsABadRequest() {
    ApiError e = assertThrows(ApiError.class, () -> Times.normalize("CronJob",
        new JsonObject("{\"status\": {\"lastScheduleTime\": \"garbage\"}}")));
    assertEquals(400, e.code());
    assertTrue(e.getMessage().contains("parsing time \"garbage\""), e.getMessage());
  }
}
