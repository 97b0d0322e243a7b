package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TablesTest {

  private static JsonObject pod(String phase, JsonObject state, boolean deleting) {
    JsonObject meta = new JsonObject().put("name", "p").put("creationTimestamp", Instant.now().minusSeconds(90).toString());
    if (deleting) meta.put("deletionTimestamp", Instant.now().toString());
    return new JsonObject().put("metadata", meta)
        .put("spec", new JsonObject().put("containers", new JsonArray().add(new JsonObject().put("name", "c")))
            .put("nodeName", "n1"))
        .put("status", new JsonObject().put("phase", phase).put("podIP", "10.42.0.9").put("containerStatuses",
            new JsonArray().add(new JsonObject().put("name", "c").put("ready", state.containsKey("running"))
                .put("restartCount", 3).put("state", state))));
  }

  private static JsonArray row(JsonObject pod) {
    JsonObject t = Tables.table(Resources.PODS, List.of(pod), "7", null, null);
    return t.getJsonArray("rows").getJsonObject(0).getJsonArray("cells");
  }

  @Test
  void podRowsReadAsKubectlPrintsThem() {
    JsonArray running = row(pod("Running", new JsonObject().put("running", new JsonObject()), false));
    assertEquals(List.of("p", "1/1", "Running", "3", "90s", "10.42.0.9", "n1", "<none>", "<none>"), running.getList());
    assertEquals("Completed", row(pod("Succeeded", new JsonObject().put("terminated",
        new JsonObject().put("exitCode", 0).put("reason", "Completed")), false)).getString(2));
    assertEquals("CrashLoopBackOff", row(pod("Running", new JsonObject().put("waiting",
        new JsonObject().put("reason", "CrashLoopBackOff")), false)).getString(2));
    assertEquals("Terminating", row(pod("Running", new JsonObject().put("running", new JsonObject()), true))
        .getString(2));
  }

  @Test
  void restartsSayHowLongAgoTheLastOneEnded() {
    JsonObject p = pod("Running", new JsonObject().put("waiting", new JsonObject().put("reason", "CrashLoopBackOff")), false);
    JsonObject cs = p.getJsonObject("status").getJsonArray("containerStatuses").getJsonObject(0);
    cs.put("lastState", new JsonObject().put("terminated", new JsonObject().put("exitCode", 3)
        .put("finishedAt", Instant.now().minusSeconds(5).toString())));
    assertEquals("3 (5s ago)", row(p).getString(3));
    cs.put("restartCount", 0);
    assertEquals("0", row(p).getString(3));
  }

  @Test
  void podStatusFollowsKubePrinter() {
    // A finished pod being deleted keeps its reason; a running one is Terminating.
    assertEquals("Completed", row(pod("Succeeded", new JsonObject().put("terminated",
        new JsonObject().put("exitCode", 0).put("reason", "Completed")), true)).getString(2));
    assertEquals("Error", row(pod("Failed", new JsonObject().put("terminated",
        new JsonObject().put("exitCode", 1).put("reason", "Error")), true)).getString(2));
    // Without a reason: the signal, else the exit code.
    assertEquals("Signal:9", row(pod("Failed", new JsonObject().put("terminated",
        new JsonObject().put("exitCode", 137).put("signal", 9)), false)).getString(2));
    // Two containers, one done and one running, without the Ready condition: NotReady.
    JsonObject p = pod("Running", new JsonObject().put("running", new JsonObject()), false);
    p.getJsonObject("spec").getJsonArray("containers").add(new JsonObject().put("name", "d"));
    p.getJsonObject("status").getJsonArray("containerStatuses").add(new JsonObject().put("name", "d")
        .put("ready", false).put("restartCount", 0)
        .put("state", new JsonObject().put("terminated", new JsonObject().put("exitCode", 0).put("reason", "Completed"))));
    assertEquals("NotReady", row(p).getString(2));
    assertEquals("1/2", row(p).getString(1));
    p.getJsonObject("status").put("conditions", new JsonArray().add(new JsonObject().put("type", "Ready").put("status", "True")));
    assertEquals("Running", row(p).getString(2));
    // A scheduling-gated pod.
    JsonObject gated = pod("Pending", new JsonObject(), false);
    gated.getJsonObject("status").remove("containerStatuses");
    gated.getJsonObject("status").put("conditions", new JsonArray().add(new JsonObject().put("type", "PodScheduled")
        .put("status", "False").put("reason", "SchedulingGated")));
    assertEquals("SchedulingGated", row(gated).getString(2));
  }

  @Test
  void sidecarsCountAsContainersAndReadinessGatesAreCounted() {
    JsonObject p = pod("Running", new JsonObject().put("running", new JsonObject()), false);
    p.getJsonObject("spec").put("initContainers", new JsonArray()
        .add(new JsonObject().put("name", "init").put("restartPolicy", "Never"))
        .add(new JsonObject().put("name", "proxy").put("restartPolicy", "Always")))
        .put("readinessGates", new JsonArray().add(new JsonObject().put("conditionType", "example.com/lb"))
            .add(new JsonObject().put("conditionType", "example.com/dns")));
    p.getJsonObject("status").put("conditions", new JsonArray()
        .add(new JsonObject().put("type", "Initialized").put("status", "True"))
        .add(new JsonObject().put("type", "example.com/lb").put("status", "True")))
        .put("initContainerStatuses", new JsonArray()
            .add(new JsonObject().put("name", "init").put("restartCount", 0)
                .put("state", new JsonObject().put("terminated", new JsonObject().put("exitCode", 0))))
            .add(new JsonObject().put("name", "proxy").put("restartCount", 0).put("started", true).put("ready", true)
                .put("state", new JsonObject().put("running", new JsonObject()))));
    JsonArray cells = row(p);
    assertEquals("2/2", cells.getString(1));
    assertEquals("Running", cells.getString(2));
    assertEquals("1/2", cells.getString(8));
  }

  @Test
  void columnsWithPriorityOneAreTheWideOnes() {
    JsonArray defs = Tables.table(Resources.PODS, List.of(), "1", null, null).getJsonArray("columnDefinitions");
    assertEquals(0, defs.getJsonObject(4).getInteger("priority"));
    assertEquals("IP", defs.getJsonObject(5).getString("name"));
    assertEquals(1, defs.getJsonObject(5).getInteger("priority"));
  }

  @Test
  void microTimesAlwaysCarrySixFractionalDigits() {
    // client-go parses MicroTime with a fixed layout; Instant.toString() would print ".380Z" here.
    assertEquals("2026-11-24T08:16:11.380000Z", Meta.microTime(Instant.parse("2026-11-24T08:16:11.380Z")));
    assertEquals("2026-11-24T08:16:11.000000Z", Meta.microTime(Instant.parse("2026-11-24T08:16:11Z")));
    assertEquals("2026-11-24T08:16:11.123456Z", Meta.microTime(Instant.parse("2026-11-24T08:16:11.123456789Z")));
  }

  @Test
  void humanDurations() {
    assertEquals("59s", Meta.humanDuration(59));
    assertEquals("119s", Meta.humanDuration(119));
    assertEquals("3m20s", Meta.humanDuration(200));
    assertEquals("15m", Meta.humanDuration(900));
    assertEquals("5h3m", Meta.humanDuration(5 * 3600 + 180));
    assertEquals("3d4h", Meta.humanDuration(3 * 86400 + 4 * 3600));
  }

  @Test
  void hpaTargetsColumnAsKubectlPrintsIt() {
    JsonObject hpa = new JsonObject().put("spec", new JsonObject().put("metrics", new JsonArray()
        .add(new JsonObject().put("type", "Resource").put("resource", new JsonObject().put("name", "cpu")
            .put("target", new JsonObject().put("type", "Utilization").put("averageUtilization", 50))))
        .add(new JsonObject().put("type", "Resource").put("resource", new JsonObject().put("name", "memory")
            .put("target", new JsonObject().put("type", "AverageValue").put("averageValue", "100Mi"))))));
    assertEquals("cpu: <unknown>/50%, memory: <unknown>/100Mi", WorkloadColumns.hpaTargets(hpa));
    hpa.put("status", new JsonObject().put("currentMetrics", new JsonArray()
        .add(new JsonObject().put("type", "Resource").put("resource", new JsonObject().put("name", "cpu")
            .put("current", new JsonObject().put("averageUtilization", 200).put("averageValue", "200m"))))
        .add(new JsonObject().put("type", "Resource").put("resource", new JsonObject().put("name", "memory")
            .put("current", new JsonObject().put("averageValue", "52Mi"))))));
    assertEquals("cpu: 200%/50%, memory: 52Mi/100Mi", WorkloadColumns.hpaTargets(hpa));
    assertEquals("<none>", WorkloadColumns.hpaTargets(new JsonObject()));
  }

  @Test
  void quotaAndStorageClassCells() {
    JsonObject q = new JsonObject("{\"spec\":{\"hard\":{\"pods\":\"10\",\"limits.memory\":\"1Gi\","
        + "\"requests.cpu\":\"2\"}},\"status\":{\"used\":{\"pods\":\"3\"}}}");
    assertEquals("pods: 3/10, requests.cpu: 0/2", WorkloadColumns.quotaUsage(q, false));
    assertEquals("limits.memory: 0/1Gi", WorkloadColumns.quotaUsage(q, true));
    JsonObject sc = new JsonObject("{\"metadata\":{\"name\":\"fast\",\"annotations\":"
        + "{\"storageclass.kubernetes.io/is-default-class\":\"true\"}}}");
    assertEquals("fast (default)", WorkloadColumns.storageClassName(sc));
  }
}
