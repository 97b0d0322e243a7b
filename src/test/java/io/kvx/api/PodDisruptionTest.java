package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PodDisruptionTest {

  private static final Instant NOW = Instant.parse("2026-11-24T02:00:00Z");

  private static JsonObject pod(String name, String app, boolean ready) {
    return new JsonObject().put("metadata", new JsonObject().put("name", name).put("namespace", "default")
            .put("labels", new JsonObject().put("app", app)))
        .put("status", new JsonObject().put("phase", "Running").put("conditions", new JsonArray()
            .add(new JsonObject().put("type", "Ready").put("status", ready ? "True" : "False"))));
  }

  private static JsonObject pdb(String field, Object value) {
    return new JsonObject().put("metadata", new JsonObject().put("name", "pdb1").put("namespace", "default"))
        .put("spec", new JsonObject().put(field, value).put("selector", new JsonObject()
            .put("matchLabels", new JsonObject().put("app", "web"))));
  }

  private static final List<JsonObject> PODS = List.of(pod("a", "web", true), pod("b", "web", true),
      pod("c", "web", false), pod("x", "other", true));

  @Test
  void minAvailableCountsHealthyCoveredPods() {
    PodDisruption.Budget b = PodDisruption.budget(pdb("minAvailable", 2), PODS, NOW);
    assertEquals(new PodDisruption.Budget(3, 2, 2, 0), b);
    assertEquals("The disruption budget pdb1 needs 2 healthy pods and has 2 currently",
        PodDisruption.blockedMessage("pdb1", b));
    assertEquals(1, PodDisruption.budget(pdb("minAvailable", 1), PODS, NOW).disruptionsAllowed());
  }

  @Test
  void percentagesRoundUp() {
    // 50% of 3 expected: minAvailable 2 (rounded up); maxUnavailable 2 leaves 1 desired.
    assertEquals(2, PodDisruption.budget(pdb("minAvailable", "50%"), PODS, NOW).desiredHealthy());
    assertEquals(1, PodDisruption.budget(pdb("maxUnavailable", "50%"), PODS, NOW).desiredHealthy());
    assertEquals(2, PodDisruption.budget(pdb("maxUnavailable", 1), PODS, NOW).desiredHealthy());
  }

  @Test
  void recentlyEvictedPodsAreNotHealthyForTwoMinutes() {
    JsonObject pdb = pdb("minAvailable", 1);
    PodDisruption.Budget before = PodDisruption.budget(pdb, PODS, NOW);
    pdb.put("status", PodDisruption.statusAfterEviction(pdb, before, "a", NOW));
    assertEquals(0, pdb.getJsonObject("status").getInteger("disruptionsAllowed"));
    assertEquals(0, PodDisruption.budget(pdb, PODS, NOW.plusSeconds(60)).disruptionsAllowed());
    assertEquals(1, PodDisruption.budget(pdb, PODS, NOW.plusSeconds(121)).disruptionsAllowed());
  }

  @Test
  void unhealthyPodsGoWhileTheBudgetIsMetOrWhenAlwaysAllowed() {
    JsonObject unready = PODS.get(2);
    JsonObject strict = pdb("minAvailable", 3);
    PodDisruption.Budget b = PodDisruption.budget(strict, PODS, NOW);
    assertFalse(PodDisruption.unhealthyMayGo(strict, unready, b), "2 healthy of 3 needed: IfHealthyBudget holds it");
    strict.getJsonObject("spec").put("unhealthyPodEvictionPolicy", "AlwaysAllow");
    assertTrue(PodDisruption.unhealthyMayGo(strict, unready, b));
    JsonObject loose = pdb("minAvailable", 2);
    assertTrue(PodDisruption.unhealthyMayGo(loose, unready, PodDisruption.budget(loose, PODS, NOW)));
    assertFalse(PodDisruption.unhealthyMayGo(loose, PODS.get(0), PodDisruption.budget(loose, PODS, NOW)));
  }

  @Test
  void theControllersStatusCountsAndForgetsEvictionsOfPodsThatAreGoing() {
    JsonObject pdb = pdb("minAvailable", 1);
    Meta.meta(pdb).put("generation", 3);
    pdb.put("status", new JsonObject().put("disruptedPods", new JsonObject().put("a", NOW.toString())
        .put("gone", NOW.toString())));
    JsonObject status = PodDisruption.status(pdb, PODS, NOW.plusSeconds(1));
    // a is still recorded (not yet being deleted), so only b counts as healthy: no disruption allowed.
    assertEquals(new JsonObject().put("a", NOW.toString()), status.getJsonObject("disruptedPods"));
    assertEquals(0, status.getInteger("disruptionsAllowed"));
    assertEquals(3, status.getInteger("expectedPods"));
    assertEquals(3L, status.getLong("observedGeneration"));
    JsonObject condition = status.getJsonArray("conditions").getJsonObject(0);
    assertEquals("False", condition.getString("status"));
    assertEquals("InsufficientPods", condition.getString("reason"));
    assertEquals(119_000, PodDisruption.nextExpiryMillis(pdb, NOW.plusSeconds(1)));
    // Once a is being deleted its entry goes; the condition flips only when allowed changes.
    List<JsonObject> deleting = List.of(PODS.get(0).copy(), PODS.get(1), PODS.get(2), PODS.get(3));
    Meta.meta(deleting.get(0)).put("deletionTimestamp", NOW.toString());
    pdb.put("status", status);
    JsonObject later = PodDisruption.status(pdb, deleting, NOW.plusSeconds(5));
    assertFalse(later.containsKey("disruptedPods"));
    assertEquals(condition.getString("lastTransitionTime"),
        later.getJsonArray("conditions").getJsonObject(0).getString("lastTransitionTime"));
  }

  @Test
  void anEmptySelectorCoversTheNamespaceAndNoSelectorNothing() {
    JsonObject all = pdb("minAvailable", 1);
    all.getJsonObject("spec").put("selector", new JsonObject());
    assertTrue(PodDisruption.covers(all, PODS.get(3)));
    all.getJsonObject("spec").remove("selector");
    assertFalse(PodDisruption.covers(all, PODS.get(0)));
  }
}
