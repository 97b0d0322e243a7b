package io.kvx.controller.statefulset;

import io.kvx.controller.Revisions;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatefulSetPlanTest {

  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private static final String CUR = "web-old";
  private static final String UPD = "web-new";

  private static JsonObject sts(int replicas, String policy, int partition) {
    return new JsonObject().put("apiVersion", "apps/v1").put("kind", "StatefulSet")
        .put("metadata", new JsonObject().put("name", "web").put("namespace", "default").put("uid", "su")
            .put("generation", 1))
        .put("spec", new JsonObject().put("replicas", replicas).put("podManagementPolicy", policy)
            .put("serviceName", "web").put("selector", new JsonObject().put("matchLabels",
                new JsonObject().put("app", "web")))
            .put("updateStrategy", new JsonObject().put("type", "RollingUpdate")
                .put("rollingUpdate", new JsonObject().put("partition", partition)))
            .put("template", new JsonObject().put("metadata", new JsonObject().put("labels",
                new JsonObject().put("app", "web"))).put("spec", new JsonObject())));
  }

  /** A member: "R" running and ready, "P" pending, "F" failed, "T" terminating; lower case: old revision. */
  private static List<JsonObject> pods(String states) {
    List<JsonObject> out = new ArrayList<>();
    String[] parts = states.split(" ");
    for (String part : parts) {
      if (part.isEmpty()) continue;
      int ordinal = Integer.parseInt(part.substring(1));
      char s = part.charAt(0);
      boolean old = Character.isLowerCase(s);
      s = Character.toUpperCase(s);
      JsonObject meta = new JsonObject().put("name", "web-" + ordinal).put("namespace", "default")
          .put("labels", new JsonObject().put(Revisions.POD_LABEL, old ? CUR : UPD));
      if (s == 'T') meta.put("deletionTimestamp", "2026-01-01T11:59:00Z");
      JsonObject status = new JsonObject().put("phase", switch (s) {
        case 'P' -> "Pending";
        case 'F' -> "Failed";
        default -> "Running";
      });
      if (s == 'R' || s == 'T') {
        status.put("conditions", new JsonArray().add(new JsonObject().put("type", "Ready").put("status", "True")));
      }
      out.add(new JsonObject().put("metadata", meta).put("spec", new JsonObject()).put("status", status));
    }
    return out;
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // name, set, pods ("R0 P1 ..."), creates, deletes
        Arguments.of("ordered: first member", sts(3, "OrderedReady", 0), "", List.of(0), List.of()),
        Arguments.of("ordered: next once the previous is ready", sts(3, "OrderedReady", 0), "R0", List.of(1),
            List.of()),
        Arguments.of("ordered: waits for a pending member", sts(3, "OrderedReady", 0), "R0 P1", List.of(), List.of()),
        Arguments.of("ordered: a gap is filled first", sts(3, "OrderedReady", 0), "R0 R2", List.of(1), List.of()),
        Arguments.of("parallel: all at once", sts(3, "Parallel", 0), "", List.of(0, 1, 2), List.of()),
        Arguments.of("failed member is deleted to be recreated", sts(2, "OrderedReady", 0), "R0 F1", List.of(),
            List.of("web-1")),
        Arguments.of("ordered scale down: highest first", sts(1, "OrderedReady", 0), "R0 R1 R2", List.of(),
            List.of("web-2")),
        Arguments.of("ordered scale down: one at a time", sts(1, "OrderedReady", 0), "R0 R1 T2", List.of(),
            List.of()),
        Arguments.of("ordered scale down: not while a member is unhealthy", sts(1, "OrderedReady", 0), "P0 R1",
            List.of(), List.of()),
        Arguments.of("parallel scale down: all condemned", sts(1, "Parallel", 0), "R0 R1 R2", List.of(),
            List.of("web-1", "web-2")),
        Arguments.of("update: highest ordinal first", sts(3, "OrderedReady", 0), "r0 r1 r2", List.of(),
            List.of("web-2")),
        Arguments.of("update: continues downward", sts(3, "OrderedReady", 0), "r0 r1 R2", List.of(),
            List.of("web-1")),
        Arguments.of("update: waits for the updated member", sts(3, "OrderedReady", 0), "r0 r1 P2", List.of(),
            List.of()),
        Arguments.of("update: stops at the partition", sts(3, "OrderedReady", 2), "r0 r1 R2", List.of(), List.of()),
        Arguments.of("update: done", sts(3, "OrderedReady", 0), "R0 R1 R2", List.of(), List.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void plan(String name, JsonObject set, String pods, List<Integer> creates, List<String> deletes) {
    StatefulSetPlan.Plan plan = StatefulSetPlan.plan(set, pods(pods), CUR, UPD, NOW);
    assertEquals(creates, plan.create());
    assertEquals(deletes, plan.delete().stream().map(p -> p.getJsonObject("metadata").getString("name")).sorted()
        .toList());
  }

  @Test
  void statusMovesCurrentRevisionWhenTheUpdateIsDone() {
    JsonObject during = StatefulSetPlan.plan(sts(3, "OrderedReady", 0), pods("r0 R1 R2"), CUR, UPD, NOW).status();
    assertEquals(CUR, during.getString("currentRevision"));
    assertEquals(1, during.getInteger("currentReplicas"));
    assertEquals(2, during.getInteger("updatedReplicas"));
    assertEquals(3, during.getInteger("readyReplicas"));
    JsonObject done = StatefulSetPlan.plan(sts(3, "OrderedReady", 0), pods("R0 R1 R2"), CUR, UPD, NOW).status();
    assertEquals(UPD, done.getString("currentRevision"));
    assertEquals(3, done.getInteger("currentReplicas"));
    assertEquals(UPD, done.getString("updateRevision"));
    assertEquals(1L, done.getLong("observedGeneration"));
  }

  @Test
  void belowThePartitionNewMembersGetTheCurrentRevision() {
    JsonObject set = sts(3, "OrderedReady", 2);
    assertEquals(CUR, StatefulSetPlan.revisionFor(set, 1, CUR, UPD));
    assertEquals(UPD, StatefulSetPlan.revisionFor(set, 2, CUR, UPD));
  }

  @Test
  void memberHasAStableIdentityAndItsClaims() {
    JsonObject set = sts(3, "OrderedReady", 0);
    set.getJsonObject("spec").put("volumeClaimTemplates", new JsonArray().add(new JsonObject()
        .put("metadata", new JsonObject().put("name", "data"))
        .put("spec", new JsonObject().put("accessModes", new JsonArray().add("ReadWriteOnce")))));
    JsonObject pod = StatefulSetPlan.pod(set, set.getJsonObject("spec").getJsonObject("template"), UPD, 1);
    JsonObject meta = pod.getJsonObject("metadata");
    assertEquals("web-1", meta.getString("name"));
    assertEquals("web-1", meta.getJsonObject("labels").getString(StatefulSetPlan.POD_NAME_LABEL));
    assertEquals("1", meta.getJsonObject("labels").getString(StatefulSetPlan.POD_INDEX_LABEL));
    assertEquals(UPD, meta.getJsonObject("labels").getString(Revisions.POD_LABEL));
    assertEquals("web-1", pod.getJsonObject("spec").getString("hostname"));
    assertEquals("web", pod.getJsonObject("spec").getString("subdomain"));
    assertEquals("data-web-1", pod.getJsonObject("spec").getJsonArray("volumes").getJsonObject(0)
        .getJsonObject("persistentVolumeClaim").getString("claimName"));
    List<JsonObject> claims = StatefulSetPlan.claims(set, "web-1");
    assertEquals(1, claims.size());
    assertEquals("data-web-1", claims.getFirst().getJsonObject("metadata").getString("name"));
    assertEquals("web", claims.getFirst().getJsonObject("metadata").getJsonObject("labels").getString("app"));
    assertTrue(!claims.getFirst().getJsonObject("metadata").containsKey("ownerReferences"), "Retain: not owned");
    set.getJsonObject("spec").put("persistentVolumeClaimRetentionPolicy", new JsonObject().put("whenDeleted", "Delete"));
    assertTrue(StatefulSetPlan.claims(set, "web-1").getFirst().getJsonObject("metadata").containsKey("ownerReferences"));
  }

  @Test
  void scaleDownDeletesClaimsOnlyWhenAskedTo() {
    JsonObject set = sts(1, "Parallel", 0);
    set.getJsonObject("spec").put("volumeClaimTemplates", new JsonArray().add(new JsonObject()
        .put("metadata", new JsonObject().put("name", "data"))));
    assertTrue(StatefulSetPlan.plan(set, pods("R0 R1"), CUR, UPD, NOW).deleteClaims().isEmpty(), "Retain");
    set.getJsonObject("spec").put("persistentVolumeClaimRetentionPolicy", new JsonObject().put("whenScaled", "Delete"));
    assertEquals(List.of("data-web-1"), StatefulSetPlan.plan(set, pods("R0 R1"), CUR, UPD, NOW).deleteClaims());
    set.getJsonObject("spec").put("replicas", 2);
    StatefulSetPlan.Plan replace = StatefulSetPlan.plan(set, pods("R0 F1"), CUR, UPD, NOW);
    assertEquals(1, replace.delete().size());
    assertTrue(replace.deleteClaims().isEmpty(), "a failed member keeps its claim for its replacement");
  }

  @Test
  void ordinalsComeFromNames() {
    JsonObject set = sts(1, "OrderedReady", 0);
    assertEquals(12, StatefulSetPlan.ordinal(set, new JsonObject().put("metadata", new JsonObject().put("name", "web-12"))));
    assertEquals(-1, StatefulSetPlan.ordinal(set, new JsonObject().put("metadata", new JsonObject().put("name", "web-x"))));
    assertEquals(-1, StatefulSetPlan.ordinal(set, new JsonObject().put("metadata", new JsonObject().put("name", "web-01"))));
    assertEquals(-1, StatefulSetPlan.ordinal(set, new JsonObject().put("metadata", new JsonObject().put("name", "webx-1"))));
  }
}
