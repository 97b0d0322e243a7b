package io.kvx.node;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeStatusTest {

  private static JsonObject status(String ready, String heartbeat, String cpu) {
    return new JsonObject().put("capacity", new JsonObject().put("cpu", cpu))
        .put("conditions", new JsonArray().add(new JsonObject().put("type", "Ready").put("status", ready)
            .put("lastHeartbeatTime", heartbeat).put("lastTransitionTime", "2026-01-01T00:00:00Z")));
  }

  @Test
  void onlyRealChangesAreReported() {
    JsonObject stored = status("True", "2026-01-01T00:00:00Z", "4").put("nodeInfo", new JsonObject());
    assertFalse(NodeAgentVerticle.statusChanged(status("True", "2026-01-01T00:00:10Z", "4"), stored),
        "a newer heartbeat alone is not a change (the Lease carries liveness)");
    assertTrue(NodeAgentVerticle.statusChanged(status("Unknown", "2026-01-01T00:00:10Z", "4"), stored));
    assertTrue(NodeAgentVerticle.statusChanged(status("True", "2026-01-01T00:00:10Z", "8"), stored));
    assertTrue(NodeAgentVerticle.statusChanged(status("True", "2026-01-01T00:00:10Z", "4"), new JsonObject()),
        "a node without status yet gets one");
  }

  @Test
  void changedConditionsBecomeTheKubeletsNodeEvents() {
    JsonArray now = new JsonArray()
        .add(new JsonObject().put("type", "MemoryPressure").put("status", "False").put("reason", "KubeletHasSufficientMemory"))
        .add(new JsonObject().put("type", "DiskPressure").put("status", "True").put("reason", "KubeletHasDiskPressure"))
        .add(new JsonObject().put("type", "Ready").put("status", "True").put("reason", "KubeletReady"));
    assertEquals(java.util.List.of("NodeHasSufficientMemory", "NodeHasDiskPressure", "NodeReady"),
        NodeAgentVerticle.statusEvents(now, new JsonArray()));
    JsonArray before = new JsonArray()
        .add(new JsonObject().put("type", "MemoryPressure").put("status", "False"))
        .add(new JsonObject().put("type", "DiskPressure").put("status", "False"))
        .add(new JsonObject().put("type", "Ready").put("status", "True"));
    assertEquals(java.util.List.of("NodeHasDiskPressure"), NodeAgentVerticle.statusEvents(now, before));
  }
}
