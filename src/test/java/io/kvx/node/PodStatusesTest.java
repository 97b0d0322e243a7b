package io.kvx.node;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PodStatusesTest {

  private static JsonObject running() {
    return new JsonObject().put("state", new JsonObject().put("running", new JsonObject()));
  }

  private static JsonObject exited(int code) {
    return new JsonObject().put("state", new JsonObject().put("terminated", new JsonObject().put("exitCode", code)));
  }

  private static JsonObject backingOff() {
    return new JsonObject().put("state", new JsonObject().put("waiting", new JsonObject().put("reason", "CrashLoopBackOff")))
        .put("lastState", new JsonObject().put("terminated", new JsonObject().put("exitCode", 1)));
  }

  @Test
  void aPodStoppedForItsDeletionEndsSucceededOnlyIfEveryContainerExitedZero() {
    // restartPolicy Always does not matter here: nothing restarts in a pod being deleted.
    assertEquals("Succeeded", PodStatuses.terminalPhase(List.of(exited(0), exited(0))));
    assertEquals("Failed", PodStatuses.terminalPhase(List.of(exited(0), exited(143))));
    assertEquals("Failed", PodStatuses.terminalPhase(List.of(exited(137))));
    assertEquals("Failed", PodStatuses.terminalPhase(List.of(exited(0), backingOff())));
    JsonObject neverStarted = new JsonObject().put("state", new JsonObject().put("waiting",
        new JsonObject().put("reason", "ContainerCreating")));
    assertEquals("Failed", PodStatuses.terminalPhase(List.of(neverStarted)));
  }

  @Test
  void phases() {
    assertEquals("Pending", PodStatuses.phase("Always", List.of(), 1));
    assertEquals("Running", PodStatuses.phase("Always", List.of(running()), 1));
    assertEquals("Running", PodStatuses.phase("Always", List.of(backingOff()), 1));
    assertEquals("Succeeded", PodStatuses.phase("Never", List.of(exited(0), exited(0)), 2));
    assertEquals("Failed", PodStatuses.phase("Never", List.of(exited(0), exited(2)), 2));
    assertEquals("Running", PodStatuses.phase("Never", List.of(exited(0), running()), 2));
  }

  @Test
  void restartPolicyAndBackoff() {
    assertTrue(PodStatuses.shouldRestart("Always", 0));
    assertTrue(PodStatuses.shouldRestart("OnFailure", 1));
    assertFalse(PodStatuses.shouldRestart("OnFailure", 0));
    assertFalse(PodStatuses.shouldRestart("Never", 1));
    assertEquals(0, PodStatuses.backoffMillis(0));
    assertEquals(10_000, PodStatuses.backoffMillis(1));
    assertEquals(20_000, PodStatuses.backoffMillis(2));
    assertEquals(300_000, PodStatuses.backoffMillis(9));
  }

  @Test
  void falseConditionsNameTheContainersHoldingThePodBack() {
    io.vertx.core.json.JsonArray cs = PodStatuses.conditions(false, false, true, "2026-11-24T00:00:00Z",
        new io.vertx.core.json.JsonArray(), List.of("init"), List.of("app", "side"));
    JsonObject initialized = cs.getJsonObject(1);
    assertEquals("Initialized", initialized.getString("type"));
    assertEquals("ContainersNotInitialized", initialized.getString("reason"));
    assertEquals("containers with incomplete status: [init]", initialized.getString("message"));
    for (int i : new int[] {2, 3}) {
      assertEquals("ContainersNotReady", cs.getJsonObject(i).getString("reason"));
      assertEquals("containers with unready status: [app side]", cs.getJsonObject(i).getString("message"));
    }
    io.vertx.core.json.JsonArray ready = PodStatuses.conditions(true, true, true, "2026-11-24T00:00:00Z",
        new io.vertx.core.json.JsonArray(), List.of(), List.of());
    assertFalse(ready.getJsonObject(2).containsKey("message"));
    // A condition another component set (an eviction's DisruptionTarget) is kept by the node's report.
    JsonObject disruption = new JsonObject().put("type", "DisruptionTarget").put("status", "True")
        .put("reason", "EvictionByEvictionAPI");
    io.vertx.core.json.JsonArray kept = PodStatuses.conditions(true, true, true, "2026-11-24T00:00:00Z",
        new io.vertx.core.json.JsonArray().add(disruption), List.of(), List.of());
    assertEquals(disruption, kept.getJsonObject(kept.size() - 1));
  }
}
