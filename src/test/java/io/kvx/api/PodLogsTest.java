package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class PodLogsTest {

  private static JsonObject pod(JsonObject state, JsonObject lastState) {
    JsonObject cs = new JsonObject().put("name", "c").put("state", state);
    if (lastState != null) cs.put("lastState", lastState);
    return new JsonObject().put("metadata", new JsonObject().put("name", "p"))
        .put("status", new JsonObject().put("containerStatuses", new JsonArray().add(cs)));
  }

  private static JsonObject waiting(String reason) {
    return new JsonObject().put("waiting", new JsonObject().put("reason", reason));
  }

  @Test
  void waitingContainersAreRefusedInTheKubeletsWords() {
    assertEquals("container \"c\" in pod \"p\" is waiting to start: trying and failing to pull image",
        PodLogs.refusal(pod(waiting("ImagePullBackOff"), null), "c", false));
    assertEquals("container \"c\" in pod \"p\" is waiting to start: image can't be pulled",
        PodLogs.refusal(pod(waiting("ErrImagePull"), null), "c", false));
    assertEquals("container \"c\" in pod \"p\" is waiting to start: CreateContainerConfigError",
        PodLogs.refusal(pod(waiting("CreateContainerConfigError"), null), "c", false));
    assertEquals("container \"c\" in pod \"p\" is waiting to start: ContainerCreating",
        PodLogs.refusal(new JsonObject().put("metadata", new JsonObject().put("name", "p")), "c", false));
  }

  @Test
  void aCrashLoopingContainerShowsItsLastRunAndPreviousNeedsOne() {
    JsonObject terminated = new JsonObject().put("terminated", new JsonObject().put("exitCode", 1));
    JsonObject crashing = pod(waiting("CrashLoopBackOff"), terminated);
    assertNull(PodLogs.refusal(crashing, "c", false));
    assertNull(PodLogs.refusal(crashing, "c", true));
    JsonObject running = pod(new JsonObject().put("running", new JsonObject()), null);
    assertNull(PodLogs.refusal(running, "c", false));
    assertEquals("previous terminated container \"c\" in pod \"p\" not found", PodLogs.refusal(running, "c", true));
    assertEquals(true, PodLogs.hasTerminated(pod(terminated, null), "c"));
    assertEquals(false, PodLogs.hasTerminated(running, "c"));
  }
}
