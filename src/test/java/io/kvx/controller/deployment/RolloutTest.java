package io.kvx.controller.deployment;

import io.kvx.controller.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RolloutTest {

  private static JsonObject deployment(int replicas, JsonObject strategy, boolean paused) {
    return new JsonObject().put("metadata", new JsonObject().put("name", "d").put("generation", 2))
        .put("spec", new JsonObject().put("replicas", replicas).put("strategy", strategy).put("paused", paused)
            .put("progressDeadlineSeconds", 600));
  }

  private static JsonObject rs(String name, int replicas, int available) {
    return new JsonObject().put("metadata", new JsonObject().put("name", name))
        .put("spec", new JsonObject().put("replicas", replicas))
        .put("status", new JsonObject().put("replicas", replicas).put("readyReplicas", available)
            .put("availableReplicas", available));
  }

  private static JsonObject rolling(Object surge, Object unavailable) {
    return new JsonObject().put("type", "RollingUpdate").put("rollingUpdate", new JsonObject()
        .put("maxSurge", surge).put("maxUnavailable", unavailable));
  }

  @Test
  void rollingUpdateStepsKeepAvailabilityAndSurge() {
    record Case(String what, JsonObject d, JsonObject newRs, List<JsonObject> old, Map<String, Integer> want) {}
    JsonObject d4 = deployment(4, rolling("25%", "25%"), false);
    for (Case c : new Case[] {
        // 4 replicas, surge 1, unavailable 1: one new pod and one old pod go at the first step
        new Case("first step", d4, rs("new", 0, 0), List.of(rs("old", 4, 4)), Map.of("new", 1, "old", 3)),
        // the new pod is not available yet: no more old pods may go (3 available = the minimum)
        new Case("waits for the new pod", d4, rs("new", 2, 0), List.of(rs("old", 3, 3)), Map.of()),
        new Case("progresses once it is", d4, rs("new", 2, 2), List.of(rs("old", 2, 2)), Map.of("new", 3, "old", 1)),
        // maxUnavailable 0, maxSurge 1: never below 4 available
        new Case("no unavailability", deployment(4, rolling(1, 0), false), rs("new", 0, 0), List.of(rs("old", 4, 4)),
            Map.of("new", 1)),
        // unhealthy old pods go first (they cost no availability), within total - minAvailable - newUnavailable
        // = 5 - 3 - 1 = 1, as Kubernetes' cleanupUnhealthyReplicas
        new Case("unhealthy old first", d4, rs("new", 1, 0), List.of(rs("old", 4, 2)), Map.of("old", 3)),
    }) {
      assertEquals(c.want(), Rollout.plan(c.d(), c.newRs(), c.old(), 0).scales(), c.what());
    }
  }

  /** A ReplicaSet sized when the Deployment had {@code desired} replicas (max = desired + surge), made at {@code made}. */
  private static JsonObject sized(String name, int replicas, int available, int desired, int max, String made) {
    JsonObject rs = rs(name, replicas, available);
    rs.getJsonObject("metadata").put("creationTimestamp", made).put("annotations", new JsonObject()
        .put(Rollout.DESIRED, String.valueOf(desired)).put(Rollout.MAX, String.valueOf(max)));
    return rs;
  }

  @Test
  void aResizeDuringARolloutIsSpreadInProportion() {
    // The Deployment docs' case: 10 replicas, maxSurge 3, maxUnavailable 2, a rollout stuck at old 8 / new 5 (its
    // image does not pull); scaled to 20, the 10 more replicas go to both sets by their size: old 14, new 9.
    JsonObject d = deployment(20, rolling(3, 2), false);
    JsonObject old = sized("old", 8, 8, 10, 13, "2026-01-01T00:00:00Z");
    JsonObject stuck = sized("new", 5, 0, 10, 13, "2026-01-02T00:00:00Z");
    assertTrue(Rollout.isScalingEvent(d, stuck, List.of(old)));
    assertEquals(Map.of("old", 14, "new", 9), Rollout.scale(d, stuck, List.of(old)).scales());
    // Sized for 20 now: no longer a scaling event; the rollout goes on from there.
    JsonObject resized = sized("old", 14, 14, 20, 23, "2026-01-01T00:00:00Z");
    assertFalse(Rollout.isScalingEvent(d, sized("new", 9, 0, 20, 23, "2026-01-02T00:00:00Z"), List.of(resized)));
    // Scaled down to 5: the removal is spread too (the remainder from the largest), never below zero.
    JsonObject d5 = deployment(5, rolling(3, 2), false);
    Map<String, Integer> down = Rollout.scale(d5, stuck, List.of(old)).scales();
    assertEquals(8, down.get("old") + down.get("new"), down.toString());
    // One active set takes the whole size, and its annotations follow even when its size does not change.
    assertEquals(Map.of("old", 20), Rollout.scale(d, rs("new", 0, 0), List.of(sized("old", 8, 8, 8, 10, "t")))
        .scales());
    assertEquals(Map.of("old", 20), Rollout.scale(d, rs("new", 0, 0), List.of(sized("old", 20, 20, 10, 13, "t")))
        .scales());
  }

  @Test
  void recreateStopsEverythingOldBeforeStartingNew() {
    JsonObject d = deployment(3, new JsonObject().put("type", "Recreate"), false);
    assertEquals(Map.of("old", 0), Rollout.plan(d, rs("new", 0, 0), List.of(rs("old", 3, 3)), 3).scales());
    assertEquals(Map.of(), Rollout.plan(d, rs("new", 0, 0), List.of(rs("old", 0, 0)), 2).scales(),
        "old pods still terminating: wait");
    assertEquals(Map.of("new", 3), Rollout.plan(d, rs("new", 0, 0), List.of(rs("old", 0, 0)), 0).scales());
    assertEquals(0, Rollout.initialReplicas(d, List.of(rs("old", 3, 3))));
  }

  private static String progressing(JsonObject status, String field) {
    for (Object o : status.getJsonArray("conditions")) {
      JsonObject c = (JsonObject) o;
      if (c.getString("type").equals("Progressing")) return c.getString(field);
    }
    return null;
  }

  @Test
  void progressingConditionPausedCompleteAndDeadline() {
    Instant now = Instant.parse("2026-11-24T01:00:00Z");
    JsonObject paused = deployment(2, rolling("25%", "25%"), true);
    assertEquals("DeploymentPaused", progressing(Rollout.status(paused, rs("new", 1, 1), List.of(rs("old", 1, 1)), now),
        "reason"));
    JsonObject done = deployment(2, rolling("25%", "25%"), false);
    assertEquals("NewReplicaSetAvailable", progressing(Rollout.status(done, rs("new", 2, 2), List.of(), now), "reason"));

    // A rollout that made no progress for longer than progressDeadlineSeconds: False/ProgressDeadlineExceeded.
    JsonObject stuck = deployment(2, rolling("25%", "25%"), false);
    JsonObject newRs = rs("new", 1, 0);
    List<JsonObject> old = List.of(rs("old", 2, 2));
    JsonObject first = Rollout.status(stuck, newRs, old, now.minusSeconds(700));
    assertEquals("ReplicaSetUpdated", progressing(first, "reason"));
    stuck.put("status", first);
    JsonObject later = Rollout.status(stuck, newRs, old, now);
    assertEquals("ProgressDeadlineExceeded", progressing(later, "reason"));
    assertEquals("False", progressing(later, "status"));
    // Before the deadline it is still progressing.
    assertEquals("ReplicaSetUpdated", progressing(Rollout.status(stuck, newRs, old, now.minusSeconds(200)), "reason"));
  }

  @Test
  void aReplicaSetsReplicaFailureIsTheDeploymentsToo() {
    Instant now = Instant.parse("2026-11-24T01:00:00Z");
    JsonObject d = deployment(1, rolling("25%", "25%"), false);
    JsonObject failing = rs("new", 1, 0);
    failing.put("status", failing.getJsonObject("status", new JsonObject()).put("conditions", new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("type", "ReplicaFailure").put("status", "True").put("reason", "FailedCreate")
            .put("message", "pods \"new-x\" is forbidden").put("lastTransitionTime", "2026-11-24T00:59:00Z"))));
    JsonObject status = Rollout.status(d, failing, List.of(), now);
    JsonObject failure = status.getJsonArray("conditions").getJsonObject(2);
    assertEquals("ReplicaFailure", failure.getString("type"));
    assertEquals("FailedCreate", failure.getString("reason"));
    assertEquals("pods \"new-x\" is forbidden", failure.getString("message"));
    assertEquals("2026-11-24T00:59:00Z", failure.getString("lastTransitionTime"));
    assertEquals(2, Rollout.status(d, rs("new", 1, 1), List.of(), now).getJsonArray("conditions").size(),
        "gone when the ReplicaSet's is");
  }

  @Test
  void statusTimesAreWholeSecondsAndZeroCountsAreLeftOut() {
    JsonObject done = deployment(2, rolling("25%", "25%"), false);
    JsonObject status = Rollout.status(done, rs("new", 2, 2), List.of(), Instant.parse("2026-11-24T01:00:00.123456789Z"));
    JsonObject available = status.getJsonArray("conditions").getJsonObject(0);
    assertEquals("2026-11-24T01:00:00Z", available.getString("lastTransitionTime"));
    assertEquals("2026-11-24T01:00:00Z", available.getString("lastUpdateTime"));
    assertFalse(status.containsKey("unavailableReplicas"), status.encode());
    assertEquals(2, status.getInteger("availableReplicas"));
    JsonObject scaledToZero = Rollout.status(deployment(0, rolling("25%", "25%"), false), rs("new", 0, 0), List.of(),
        Instant.parse("2026-11-24T01:00:00Z"));
    assertFalse(scaledToZero.containsKey("replicas") || scaledToZero.containsKey("readyReplicas"), scaledToZero.encode());
    // Written as a merge patch, a count that fell to zero replaces the stored one.
    JsonObject stored = new JsonObject().put("updatedReplicas", 4).put("replicas", 4);
    JsonObject written = io.kvx.api.Patches.mergePatch(stored, Rollout.asMergePatch(scaledToZero));
    assertFalse(written.containsKey("updatedReplicas") || written.containsKey("replicas"), written.encode());
  }

  @Test
  void theDeploymentsAnnotationsFollowItsNewReplicaSet() {
    JsonObject d = deployment(1, rolling("25%", "25%"), false);
    d.getJsonObject("metadata").put("annotations", new JsonObject().put("kubernetes.io/change-cause", "second")
        .put("team", "a").put("deployment.kubernetes.io/revision", "2")
        .put("kubectl.kubernetes.io/last-applied-configuration", "{}"));
    JsonObject rs = rs("new", 1, 1);
    rs.getJsonObject("metadata").put("annotations", new JsonObject().put("kubernetes.io/change-cause", "first")
        .put("team", "a").put("deployment.kubernetes.io/revision", "2"));
    assertEquals(new JsonObject().put("kubernetes.io/change-cause", "second"), Rollout.annotationsToCopy(d, rs));
    rs.getJsonObject("metadata").getJsonObject("annotations").put("kubernetes.io/change-cause", "second");
    assertEquals(new JsonObject(), Rollout.annotationsToCopy(d, rs));
  }

  @Test
  void minReadySecondsDelaysAvailability() {
    Instant now = Instant.parse("2026-11-24T01:00:00Z");
    JsonObject pod = new JsonObject().put("status", new JsonObject().put("conditions", new JsonArray()
        .add(new JsonObject().put("type", "Ready").put("status", "True")
            .put("lastTransitionTime", now.minusSeconds(5).toString()))));
    assertTrue(Workloads.isAvailable(pod, 0, now));
    assertFalse(Workloads.isAvailable(pod, 10, now), "ready for 5 s, minReadySeconds 10");
    assertEquals(5, Workloads.secondsUntilAvailable(pod, 10, now));
    assertTrue(Workloads.isAvailable(pod, 10, now.plusSeconds(5)));
  }
}
