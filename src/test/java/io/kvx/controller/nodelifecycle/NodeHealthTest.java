package io.kvx.controller.nodelifecycle;

import io.kvx.controller.Taints;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeHealthTest {

  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private static final Instant EPOCH = Instant.EPOCH;
  private static final NodeHealth.Settings SETTINGS = new NodeHealth.Settings(40, -1);

  private static JsonObject node(String ready, String heartbeat, JsonArray taints) {
    JsonObject spec = new JsonObject();
    if (taints != null) spec.put("taints", taints);
    return new JsonObject().put("metadata", new JsonObject().put("name", "n1")
            .put("creationTimestamp", "2026-01-01T10:00:00Z"))
        .put("spec", spec)
        .put("status", new JsonObject().put("conditions", new JsonArray()
            .add(new JsonObject().put("type", "MemoryPressure").put("status", "False").put("lastHeartbeatTime", heartbeat))
            .add(new JsonObject().put("type", "Ready").put("status", ready).put("lastHeartbeatTime", heartbeat)
                .put("reason", "KubeletReady"))));
  }

  private static JsonObject lease(String renew) {
    return new JsonObject().put("spec", new JsonObject().put("renewTime", renew));
  }

  private static JsonArray unreachable(String added) {
    return new JsonArray().add(new JsonObject().put("key", Taints.UNREACHABLE).put("effect", "NoSchedule"))
        .add(new JsonObject().put("key", Taints.UNREACHABLE).put("effect", "NoExecute").put("timeAdded", added));
  }

  private static JsonObject pod(String name, JsonArray tolerations) {
    JsonObject spec = new JsonObject().put("nodeName", "n1");
    if (tolerations != null) spec.put("tolerations", tolerations);
    return new JsonObject().put("metadata", new JsonObject().put("name", name).put("namespace", "default"))
        .put("spec", spec).put("status", new JsonObject().put("phase", "Running"));
  }

  private static JsonArray defaultTolerations(Integer seconds) {
    JsonObject t = new JsonObject().put("key", Taints.UNREACHABLE).put("operator", "Exists").put("effect", "NoExecute");
    if (seconds != null) t.put("tolerationSeconds", seconds);
    return new JsonArray().add(t);
  }

  private static String taintKeys(JsonArray taints) {
    List<String> out = new ArrayList<>();
    for (Object o : taints) out.add(((JsonObject) o).getString("key") + ":" + ((JsonObject) o).getString("effect"));
    return String.join(",", out);
  }

  static Stream<Arguments> cases() {
    String fresh = "2026-01-01T11:59:50Z";
    String stale = "2026-01-01T11:58:00Z";
    List<JsonObject> pods = List.of(pod("plain", new JsonArray()), pod("default", defaultTolerations(300)),
        pod("forever", defaultTolerations(null)));
    return Stream.of(
        // name, node, lease, conditions change?, new taints (null: unchanged), evicted
        Arguments.of("healthy node: nothing to do", node("True", fresh, null), lease(fresh), false, null, pods,
            List.of()),
        Arguments.of("lease fresh though status is old", node("True", stale, null), lease(fresh), false, null, pods,
            List.of()),
        Arguments.of("silent node: unknown, tainted, intolerant pods evicted", node("True", stale, null),
            lease(stale), true, Taints.UNREACHABLE + ":NoSchedule," + Taints.UNREACHABLE + ":NoExecute", pods,
            List.of("plain")),
        Arguments.of("toleration seconds run out", node("Unknown", stale, unreachable("2026-01-01T11:54:00Z")),
            lease(stale), true, null, pods, List.of("default", "plain")),
        Arguments.of("node back: taints go", node("True", fresh, unreachable("2026-01-01T11:54:00Z")), lease(fresh),
            false, "", pods, List.of()),
        Arguments.of("kubelet says not ready", node("False", fresh, null), lease(fresh), false,
            Taints.NOT_READY + ":NoSchedule," + Taints.NOT_READY + ":NoExecute", List.of(pod("plain", null)),
            List.of("plain")),
        Arguments.of("other taints stay", node("True", fresh, new JsonArray().add(new JsonObject().put("key", "x")
            .put("effect", "NoSchedule")).addAll(unreachable(fresh))), lease(fresh), false, "x:NoSchedule",
            List.of(), List.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decide(String name, JsonObject node, JsonObject lease, boolean conditionsChange, String taints,
              List<JsonObject> pods, List<String> evicted) {
    NodeHealth.Decision d = NodeHealth.decide(node, lease, pods, NOW, EPOCH, SETTINGS);
    assertEquals(conditionsChange, d.conditions() != null, "conditions change");
    if (taints == null) assertNull(d.taints(), "taints unchanged");
    else assertEquals(taints, taintKeys(d.taints()));
    assertEquals(evicted, d.evict().stream().map(p -> p.getJsonObject("metadata").getString("name")).sorted().toList());
    assertTrue(d.requeueAfterMs() >= 0);
  }

  @Test
  void silentNodeConditionsSayWhy() {
    NodeHealth.Decision d = NodeHealth.decide(node("True", "2026-01-01T11:00:00Z", null), null, List.of(), NOW, EPOCH,
        SETTINGS);
    assertNotNull(d.conditions());
    for (Object o : d.conditions()) {
      JsonObject c = (JsonObject) o;
      assertEquals("Unknown", c.getString("status"));
      assertEquals("NodeStatusUnknown", c.getString("reason"));
      assertEquals(NodeHealth.STOPPED, c.getString("message"));
      assertEquals("2026-01-01T11:00:00Z", c.getString("lastHeartbeatTime"), "heartbeat kept");
    }
  }

  @Test
  void podsOnASilentNodeAreNoLongerReady() {
    JsonObject ready = pod("web", defaultTolerations(300));
    ready.getJsonObject("status").put("conditions", new JsonArray()
        .add(new JsonObject().put("type", "Ready").put("status", "True"))
        .add(new JsonObject().put("type", "PodScheduled").put("status", "True")));
    NodeHealth.Decision d = NodeHealth.decide(node("True", "2026-01-01T11:00:00Z", null), null, List.of(ready), NOW,
        EPOCH, SETTINGS);
    assertEquals(1, d.notReady().size());
    JsonArray cs = d.notReady().getFirst().conditions();
    assertEquals("False", cs.getJsonObject(0).getString("status"));
    assertEquals("NodeNotReady", cs.getJsonObject(0).getString("reason"));
    assertEquals("True", cs.getJsonObject(1).getString("status"));
    assertTrue(NodeHealth.decide(node("True", "2026-01-01T11:59:59Z", null), null, List.of(ready), NOW, EPOCH,
        SETTINGS).notReady().isEmpty(), "a live node's pods are its kubelet's business");
  }

  @Test
  void healthyNodeIsLookedAtWhenItsLeaseWouldRunOut() {
    NodeHealth.Decision d = NodeHealth.decide(node("True", "2026-01-01T11:59:50Z", null),
        lease("2026-01-01T11:59:50Z"), List.of(), NOW, EPOCH, SETTINGS);
    assertEquals(30_500, d.requeueAfterMs());
  }

  @Test
  void tolerationExpiryIsWaitedFor() {
    NodeHealth.Decision d = NodeHealth.decide(node("Unknown", "2026-01-01T11:00:00Z",
            unreachable("2026-01-01T11:59:00Z")), null, List.of(pod("default", defaultTolerations(300))), NOW, EPOCH,
        SETTINGS);
    assertTrue(d.evict().isEmpty());
    assertEquals(240_100, d.requeueAfterMs());
  }

  @Test
  void aNoExecuteTaintWithoutItsTimeIsStampedWhenFirstSeen() {
    // As `kubectl taint node n1 k=v:NoExecute` leaves it: no timeAdded.
    JsonArray userTaint = new JsonArray().add(new JsonObject().put("key", "k").put("value", "v").put("effect", "NoExecute"));
    JsonObject tolerating = pod("tol", new JsonArray().add(new JsonObject().put("key", "k").put("operator", "Exists")
        .put("effect", "NoExecute").put("tolerationSeconds", 8)));
    String fresh = "2026-01-01T11:59:50Z";
    NodeHealth.Decision first = NodeHealth.decide(node("True", fresh, userTaint), lease(fresh), List.of(tolerating), NOW,
        EPOCH, SETTINGS);
    assertEquals(NOW.toString(), first.taints().getJsonObject(0).getString("timeAdded"));
    assertEquals(8_100, first.requeueAfterMs());
    // Looked at again 9 s later with the stamped taint: the toleration has run out.
    NodeHealth.Decision later = NodeHealth.decide(node("True", "2026-01-01T12:00:05Z", first.taints()),
        lease("2026-01-01T12:00:05Z"), List.of(tolerating), NOW.plusSeconds(9), EPOCH, SETTINGS);
    assertEquals(List.of("tol"), later.evict().stream().map(p -> p.getJsonObject("metadata").getString("name")).toList());
  }

  @Test
  void nothingCountsFromBeforeTheControllerStarted() {
    Instant started = NOW.minusSeconds(10);
    JsonObject silent = node("True", "2026-01-01T11:00:00Z", null);
    NodeHealth.Decision d = NodeHealth.decide(silent, null, List.of(), NOW, started, SETTINGS);
    assertNull(d.conditions(), "a full grace period from the start");
    assertEquals(30_500, d.requeueAfterMs());
    NodeHealth.Decision tainted = NodeHealth.decide(node("Unknown", "2026-01-01T11:00:00Z",
        unreachable("2026-01-01T11:00:00Z")), null, List.of(pod("default", defaultTolerations(300))), NOW, started,
        SETTINGS);
    assertTrue(tainted.evict().isEmpty(), "the toleration counts from the start");
    assertEquals(30_500, tainted.requeueAfterMs(), "looked at again when the grace period ends");
  }

  @Test
  void aCapShortensTolerationSecondsButNotForever() {
    NodeHealth.Settings fast = new NodeHealth.Settings(8, 5);
    NodeHealth.Decision d = NodeHealth.decide(node("Unknown", "2026-01-01T11:00:00Z",
            unreachable("2026-01-01T11:59:50Z")), null,
        List.of(pod("default", defaultTolerations(300)), pod("forever", defaultTolerations(null))), NOW, EPOCH, fast);
    assertEquals(List.of("default"), d.evict().stream().map(p -> p.getJsonObject("metadata").getString("name"))
        .toList());
  }

  @Test
  void aCordonedNodeCarriesTheUnschedulableTaintUntilUncordoned() {
    JsonObject node = node("True", "2026-01-01T11:59:50Z", null);
    node.getJsonObject("spec").put("unschedulable", true);
    NodeHealth.Decision cordoned = NodeHealth.decide(node, lease("2026-01-01T11:59:50Z"), List.of(), NOW, EPOCH, SETTINGS);
    assertEquals(Taints.UNSCHEDULABLE, cordoned.taints().getJsonObject(0).getString("key"));
    assertEquals("NoSchedule", cordoned.taints().getJsonObject(0).getString("effect"));
    node.getJsonObject("spec").put("taints", cordoned.taints()).put("unschedulable", false);
    NodeHealth.Decision uncordoned = NodeHealth.decide(node, lease("2026-01-01T11:59:50Z"), List.of(), NOW, EPOCH, SETTINGS);
    assertEquals(new JsonArray(), uncordoned.taints());
  }
}
