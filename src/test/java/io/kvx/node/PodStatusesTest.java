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
}
