package io.kvx.controller.daemonset;

import io.kvx.controller.Revisions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaemonSetPlanTest {

  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private static final String HASH = "new";

  private static JsonObject ds(JsonObject podSpecExtra, int maxUnavailable) {
    JsonObject podSpec = new JsonObject().put("containers", new JsonArray().add(new JsonObject().put("name", "c")));
    podSpec.mergeIn(podSpecExtra);
    return new JsonObject().put("apiVersion", "apps/v1").put("kind", "DaemonSet")
        .put("metadata", new JsonObject().put("name", "agent").put("namespace", "default").put("uid", "du")
            .put("generation", 2))
        .put("spec", new JsonObject().put("template", new JsonObject().put("spec", podSpec))
            .put("updateStrategy", new JsonObject().put("type", "RollingUpdate")
                .put("rollingUpdate", new JsonObject().put("maxUnavailable", maxUnavailable))));
  }

  private static JsonObject node(String name, String zone, JsonObject taint) {
    JsonObject spec = new JsonObject();
    if (taint != null) spec.put("taints", new JsonArray().add(taint));
    return new JsonObject().put("metadata", new JsonObject().put("name", name)
        .put("labels", new JsonObject().put("zone", zone))).put("spec", spec);
  }

  private static JsonObject pod(String name, String node, String hash, boolean ready) {
    JsonObject status = new JsonObject().put("phase", ready ? "Running" : "Pending");
    if (ready) {
      status.put("conditions", new JsonArray().add(new JsonObject().put("type", "Ready").put("status", "True")));
    }
    return new JsonObject().put("metadata", new JsonObject().put("name", name).put("namespace", "default")
            .put("labels", new JsonObject().put(Revisions.POD_LABEL, hash)).put("creationTimestamp", "2026-01-01T11:00:00Z"))
        .put("spec", new JsonObject().put("nodeName", node)).put("status", status);
  }

  private static final JsonObject NO_SCHEDULE = new JsonObject().put("key", "dedicated").put("value", "db")
      .put("effect", "NoSchedule");
  private static final List<JsonObject> NODES = List.of(node("a", "z1", null), node("b", "z2", null),
      node("c", "z1", NO_SCHEDULE), node("d", "z3", new JsonObject().put("key", "evict").put("effect", "NoExecute")));

  static Stream<Arguments> cases() {
    JsonObject zone1 = new JsonObject().put("nodeSelector", new JsonObject().put("zone", "z1"));
    JsonObject tolerant = new JsonObject().put("tolerations", new JsonArray().add(new JsonObject()
        .put("key", "dedicated").put("operator", "Exists")));
    JsonObject affinityB = new JsonObject().put("affinity", new JsonObject().put("nodeAffinity", new JsonObject()
        .put("requiredDuringSchedulingIgnoredDuringExecution", new JsonObject().put("nodeSelectorTerms",
            new JsonArray().add(new JsonObject().put("matchFields", new JsonArray().add(new JsonObject()
                .put("key", "metadata.name").put("operator", "In").put("values", new JsonArray().add("b")))))))));
    return Stream.of(
        // name, ds, pods, nodes to create on, pods deleted, desired, misscheduled
        Arguments.of("one per untainted node", ds(new JsonObject(), 1), List.of(), List.of("a", "b"), List.of(), 2, 0),
        Arguments.of("tolerations open tainted nodes", ds(tolerant, 1), List.of(), List.of("a", "b", "c"), List.of(),
            3, 0),
        Arguments.of("node selector", ds(zone1, 1), List.of(), List.of("a"), List.of(), 1, 0),
        Arguments.of("matchFields affinity", ds(affinityB, 1), List.of(), List.of("b"), List.of(), 1, 0),
        Arguments.of("existing pods are kept", ds(new JsonObject(), 1),
            List.of(pod("p1", "a", HASH, true), pod("p2", "b", HASH, true)), List.of(), List.of(), 2, 0),
        Arguments.of("a second pod on a node goes", ds(new JsonObject(), 1),
            List.of(pod("p1", "a", HASH, true), pod("p2", "a", "old", true), pod("p3", "b", HASH, true)),
            List.of(), List.of("p2"), 2, 0),
        Arguments.of("misscheduled pod goes", ds(zone1, 1), List.of(pod("p1", "a", HASH, true),
            pod("p2", "b", HASH, true)), List.of(), List.of("p2"), 1, 1),
        Arguments.of("a NoSchedule taint keeps new pods off but lets the old one stay", ds(new JsonObject(), 1),
            List.of(pod("p1", "a", HASH, true), pod("p2", "b", HASH, true), pod("p3", "c", HASH, true)), List.of(),
            List.of(), 2, 1),
        Arguments.of("an untolerated NoExecute taint removes the pod", ds(new JsonObject(), 1),
            List.of(pod("p1", "a", HASH, true), pod("p2", "b", HASH, true), pod("p3", "d", HASH, true)), List.of(),
            List.of("p3"), 2, 1),
        Arguments.of("pod on a vanished node goes", ds(new JsonObject(), 1), List.of(pod("p1", "a", HASH, true),
            pod("p2", "b", HASH, true), pod("p3", "gone", HASH, true)), List.of(), List.of("p3"), 2, 0),
        Arguments.of("rolling update takes one available old pod down", ds(new JsonObject(), 1),
            List.of(pod("p1", "a", "old", true), pod("p2", "b", "old", true)), List.of(), List.of("p1"), 2, 0),
        Arguments.of("rolling update waits while one is unavailable", ds(new JsonObject(), 1),
            List.of(pod("p1", "a", HASH, false), pod("p2", "b", "old", true)), List.of(), List.of(), 2, 0),
        Arguments.of("unavailable old pods go at once", ds(new JsonObject(), 1),
            List.of(pod("p1", "a", "old", false), pod("p2", "b", "old", false)), List.of(), List.of("p1", "p2"), 2, 0),
        Arguments.of("maxUnavailable 2 takes two", ds(new JsonObject(), 2),
            List.of(pod("p1", "a", "old", true), pod("p2", "b", "old", true)), List.of(), List.of("p1", "p2"), 2, 0));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void plan(String name, JsonObject ds, List<JsonObject> pods, List<String> createOn, List<String> deleted,
            int desired, int misscheduled) {
    DaemonSetPlan.Plan plan = DaemonSetPlan.plan(ds, NODES, pods, HASH, NOW);
    assertEquals(createOn, plan.createOn());
    assertEquals(deleted, plan.delete().stream().map(p -> p.getJsonObject("metadata").getString("name")).sorted()
        .toList());
    assertEquals(desired, plan.status().getInteger("desiredNumberScheduled"));
    assertEquals(misscheduled, plan.status().getInteger("numberMisscheduled"));
    assertEquals(2L, plan.status().getLong("observedGeneration"));
  }

  @Test
  void onDeleteLeavesOldPods() {
    JsonObject ds = ds(new JsonObject(), 1);
    ds.getJsonObject("spec").put("updateStrategy", new JsonObject().put("type", "OnDelete"));
    DaemonSetPlan.Plan plan = DaemonSetPlan.plan(ds, NODES, List.of(pod("p1", "a", "old", true),
        pod("p2", "b", "old", true)), HASH, NOW);
    assertTrue(plan.delete().isEmpty());
    assertEquals(2, plan.status().getInteger("numberAvailable"));
    assertEquals(null, plan.status().getInteger("updatedNumberScheduled"));
  }

  @Test
  void statusCountsWhatRolloutStatusReads() {
    DaemonSetPlan.Plan plan = DaemonSetPlan.plan(ds(new JsonObject(), 1), NODES,
        List.of(pod("p1", "a", HASH, true), pod("p2", "b", HASH, false)), HASH, NOW);
    JsonObject s = plan.status();
    assertEquals(2, s.getInteger("currentNumberScheduled"));
    assertEquals(1, s.getInteger("numberReady"));
    assertEquals(1, s.getInteger("numberAvailable"));
    assertEquals(1, s.getInteger("numberUnavailable"));
    assertEquals(2, s.getInteger("updatedNumberScheduled"));
  }

  @Test
  void templateGenerationMovesWithTheTemplateOnlyAndLabelsThePods() {
    JsonObject ds = ds(new JsonObject(), 1);
    io.kvx.api.Defaults.daemonSetTemplateGeneration(null, ds);
    assertEquals("1", annotation(ds));
    JsonObject relabelled = ds.copy();
    relabelled.getJsonObject("metadata").getJsonObject("annotations")
        .put(io.kvx.api.Defaults.DAEMONSET_TEMPLATE_GENERATION, "7");
    relabelled.getJsonObject("spec").put("minReadySeconds", 5);
    io.kvx.api.Defaults.daemonSetTemplateGeneration(ds, relabelled);
    assertEquals("1", annotation(relabelled), "a spec change outside the template, and the request's own value, do not count");
    JsonObject changed = relabelled.copy();
    changed.getJsonObject("spec").getJsonObject("template").put("metadata", new JsonObject().put("labels",
        new JsonObject().put("app", "d").put("v", "2")));
    io.kvx.api.Defaults.daemonSetTemplateGeneration(relabelled, changed);
    assertEquals("2", annotation(changed));
    JsonObject pod = DaemonSetPlan.pod(changed, changed.getJsonObject("spec").getJsonObject("template"), HASH, "b");
    assertEquals("2", pod.getJsonObject("metadata").getJsonObject("labels").getString(DaemonSetPlan.GENERATION_LABEL));
  }

  private static String annotation(JsonObject ds) {
    return ds.getJsonObject("metadata").getJsonObject("annotations")
        .getString(io.kvx.api.Defaults.DAEMONSET_TEMPLATE_GENERATION);
  }

  @Test
  void daemonPodIsPinnedAndToleratesNodeTrouble() {
    JsonObject ds = ds(new JsonObject(), 1);
    JsonObject pod = DaemonSetPlan.pod(ds, ds.getJsonObject("spec").getJsonObject("template"), HASH, "b");
    assertEquals("b", pod.getJsonObject("spec").getString("nodeName"));
    assertEquals(HASH, pod.getJsonObject("metadata").getJsonObject("labels").getString(Revisions.POD_LABEL));
    assertEquals("2", pod.getJsonObject("metadata").getJsonObject("labels")
        .getString(DaemonSetPlan.GENERATION_LABEL));
    assertEquals(6, pod.getJsonObject("spec").getJsonArray("tolerations").size());
    // The 300-second default tolerations give way to the daemon's unlimited ones.
    JsonObject withDefaults = ds(new JsonObject().put("tolerations", new JsonArray()
        .add(new JsonObject().put("key", "node.kubernetes.io/unreachable").put("operator", "Exists")
            .put("effect", "NoExecute").put("tolerationSeconds", 300))
        .add(new JsonObject().put("key", "app").put("operator", "Exists"))), 1);
    JsonArray tolerations = DaemonSetPlan.pod(withDefaults, withDefaults.getJsonObject("spec")
        .getJsonObject("template"), HASH, "b").getJsonObject("spec").getJsonArray("tolerations");
    assertEquals(7, tolerations.size());
    assertTrue(tolerations.stream().noneMatch(t -> ((JsonObject) t).containsKey("tolerationSeconds")));
    // Unreachable and not-ready nodes keep their daemons (no tolerationSeconds).
    assertTrue(DaemonSetPlan.shouldRun(ds, node("x", "z1", new JsonObject().put("key",
        "node.kubernetes.io/unreachable").put("effect", "NoExecute"))));
  }
}
