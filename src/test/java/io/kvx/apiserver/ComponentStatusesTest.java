package io.kvx.apiserver;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ComponentStatusesTest {

  private static JsonObject lease(String renew, int seconds) {
    return new JsonObject().put("spec", new JsonObject().put("renewTime", renew).put("leaseDurationSeconds", seconds));
  }

  @Test
  void aComponentIsHealthyWhileItsLeaderLeaseIsRenewedInTime() {
    long now = Instant.parse("2026-11-24T05:00:10Z").toEpochMilli();
    assertNull(ComponentStatuses.leaseProblem(lease("2026-11-24T05:00:00.000000Z", 15), now));
    assertEquals("its leader Lease expired at 2026-11-24T05:00:05Z",
        ComponentStatuses.leaseProblem(lease("2026-11-24T05:00:00.000000Z", 5), now));
    assertEquals("no leader has taken its Lease", ComponentStatuses.leaseProblem(null, now));
  }

  @Test
  void statusesCarryAHealthyCondition() {
    assertEquals("{\"type\":\"Healthy\",\"status\":\"True\",\"message\":\"ok\"}",
        ComponentStatuses.status("etcd-0", null).getJsonArray("conditions").getJsonObject(0).encode());
    assertEquals("{\"type\":\"Healthy\",\"status\":\"False\",\"error\":\"down\"}",
        ComponentStatuses.status("scheduler", "down").getJsonArray("conditions").getJsonObject(0).encode());
  }
}
