package io.kvx.controller;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WorkloadsTest {

  private static JsonObject pod(String name, String node, String phase, boolean ready, int restarts, String created) {
    JsonObject spec = new JsonObject();
    if (node != null) spec.put("nodeName", node);
    return new JsonObject().put("metadata", new JsonObject().put("name", name).put("creationTimestamp", created))
        .put("spec", spec)
        .put("status", new JsonObject().put("phase", phase)
            .put("conditions", new JsonArray().add(new JsonObject().put("type", "Ready").put("status", ready ? "True" : "False")))
            .put("containerStatuses", new JsonArray().add(new JsonObject().put("name", "c").put("restartCount", restarts))));
  }

  @Test
  void scaleDownGivesUpTheLeastValuablePodsFirst() {
    List<JsonObject> pods = new ArrayList<>(List.of(
        pod("ready-old", "n1", "Running", true, 0, "2026-11-24T00:00:00Z"),
        pod("ready-new", "n1", "Running", true, 0, "2026-11-24T00:05:00Z"),
        pod("not-ready", "n1", "Running", false, 0, "2026-11-24T00:00:00Z"),
        pod("restarted", "n1", "Running", true, 5, "2026-11-24T00:00:00Z"),
        pod("pending", "n1", "Pending", false, 0, "2026-11-24T00:00:00Z"),
        pod("unscheduled", null, "Pending", false, 0, "2026-11-24T00:00:00Z")));
    pods.sort(Workloads.DELETE_FIRST);
    // unscheduled, then pending, then not ready, then more restarts, then newer
    assertEquals(List.of("unscheduled", "pending", "not-ready", "restarted", "ready-new", "ready-old"),
        pods.stream().map(p -> p.getJsonObject("metadata").getString("name")).toList());
  }
}
