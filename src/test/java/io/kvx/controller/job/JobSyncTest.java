package io.kvx.controller.job;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobSyncTest {

  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

  private static JsonObject job(Integer completions, int parallelism, int backoffLimit) {
    JsonObject spec = new JsonObject().put("parallelism", parallelism).put("backoffLimit", backoffLimit)
        .put("template", new JsonObject().put("spec", new JsonObject().put("restartPolicy", "Never")
            .put("containers", new JsonArray().add(new JsonObject().put("name", "c").put("image", "busybox")))));
    if (completions != null) spec.put("completions", completions);
    return new JsonObject().put("apiVersion", "batch/v1").put("kind", "Job")
        .put("metadata", new JsonObject().put("name", "j").put("namespace", "default").put("uid", "u1"))
        .put("spec", spec).put("status", new JsonObject().put("startTime", "2026-01-01T11:59:00Z"));
  }

  private static int counter;

  private static JsonObject pod(String phase) {
    return pod(phase, -1);
  }

  private static JsonObject pod(String phase, int index) {
    JsonObject meta = new JsonObject().put("name", "p" + (counter++)).put("namespace", "default")
        .put("creationTimestamp", "2026-01-01T11:59:30Z");
    if (index >= 0) {
      meta.put("annotations", new JsonObject().put(JobSync.COMPLETION_INDEX, String.valueOf(index)));
    }
    JsonObject status = new JsonObject().put("phase", phase);
    if (phase.equals("Running")) {
      status.put("conditions", new JsonArray().add(new JsonObject().put("type", "Ready").put("status", "True")));
    }
    return new JsonObject().put("metadata", meta).put("spec", new JsonObject().put("nodeName", "n"))
        .put("status", status);
  }

  private static List<JsonObject> pods(String... phases) {
    List<JsonObject> out = new ArrayList<>();
    for (String p : phases) out.add(pod(p));
    return out;
  }

  private static String types(JsonObject status) {
    List<String> out = new ArrayList<>();
    for (Object o : status.getJsonArray("conditions", new JsonArray())) {
      out.add(((JsonObject) o).getString("type"));
    }
    return String.join(",", out);
  }

  static Stream<Arguments> nonIndexed() {
    return Stream.of(
        // name, job, pods, creates, deletes, active, succeeded, failed, conditions, finished
        Arguments.of("new job starts parallelism pods", job(3, 2, 6), pods(), 2, 0, 2, 0, 0, "", null),
        Arguments.of("never more than remaining completions", job(3, 2, 6), pods("Succeeded", "Succeeded", "Running"),
            0, 0, 1, 2, 0, "", null),
        Arguments.of("replaces a finished pod", job(3, 2, 6), pods("Succeeded", "Running"), 1, 0, 2, 1, 0, "", null),
        Arguments.of("too many active: the extra goes", job(1, 1, 6), pods("Running", "Pending"), 0, 1, 1, 0, 0, "",
            null),
        Arguments.of("all completions: complete", job(3, 2, 6), pods("Succeeded", "Succeeded", "Succeeded"), 0, 0, 0,
            3, 0, "SuccessCriteriaMet,Complete", "Completed"),
        Arguments.of("failures under the limit are replaced", job(1, 1, 2), pods("Failed", "Failed"), 1, 0, 1, 0, 2,
            "", null),
        Arguments.of("failures over the limit: failed", job(1, 1, 1), pods("Failed", "Failed"), 0, 0, 0, 0, 2,
            "FailureTarget,Failed", "BackoffLimitExceeded"),
        Arguments.of("failed with a pod still running: target first, pod deleted", job(2, 2, 0),
            pods("Failed", "Running"), 0, 1, 0, 0, 1, "FailureTarget", null),
        Arguments.of("work queue: runs parallelism until one succeeds", job(null, 3, 6), pods(), 3, 0, 3, 0, 0, "",
            null),
        Arguments.of("work queue: a success with others running waits", job(null, 3, 6),
            pods("Succeeded", "Running"), 0, 0, 1, 1, 0, "", null),
        Arguments.of("work queue: a success and nothing running completes", job(null, 3, 6), pods("Succeeded"), 0, 0,
            0, 1, 0, "SuccessCriteriaMet,Complete", "Completed"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("nonIndexed")
  void nonIndexed(String name, JsonObject job, List<JsonObject> pods, int creates, int deletes, int active,
                  int succeeded, int failed, String conditions, String finished) {
    JobSync.Plan plan = JobSync.plan(job, pods, NOW);
    assertEquals(creates, plan.create().size(), "creates");
    assertEquals(deletes, plan.delete().size(), "deletes");
    assertEquals(active, plan.status().getInteger("active"), "active");
    assertEquals(succeeded, plan.status().getInteger("succeeded"), "succeeded");
    assertEquals(failed, plan.status().getInteger("failed"), "failed");
    assertEquals(conditions, types(plan.status()));
    assertEquals(finished, plan.finished());
    plan.create().forEach(i -> assertEquals(-1, i));
  }

  @Test
  void completeSetsCompletionTimeAndStaysComplete() {
    JobSync.Plan plan = JobSync.plan(job(1, 1, 6), pods("Succeeded"), NOW);
    assertEquals("2026-01-01T12:00:00Z", plan.status().getString("completionTime"));
    JsonObject done = job(1, 1, 6).put("status", plan.status());
    JobSync.Plan again = JobSync.plan(done, pods("Succeeded"), NOW.plusSeconds(5));
    assertNull(again.finished());
    assertEquals(plan.status(), again.status(), "idempotent once finished");
    assertEquals("Complete", JobSync.finished(done));
  }

  /** A failed pod whose container {@code c} exited with {@code code}. */
  private static JsonObject exited(int code) {
    JsonObject p = pod("Failed");
    p.getJsonObject("status").put("containerStatuses", new JsonArray().add(new JsonObject().put("name", "c")
        .put("state", new JsonObject().put("terminated", new JsonObject().put("exitCode", code)))));
    return p;
  }

  @Test
  void podFailurePolicyFailsTheJobOrIgnoresAFailure() {
    JsonObject j = job(1, 1, 6);
    j.getJsonObject("spec").put("podFailurePolicy", new JsonObject().put("rules", new JsonArray()
        .add(new JsonObject().put("action", "FailJob").put("onExitCodes", new JsonObject().put("containerName", "c")
            .put("operator", "In").put("values", new JsonArray().add(42))))
        .add(new JsonObject().put("action", "Ignore").put("onPodConditions", new JsonArray()
            .add(new JsonObject().put("type", "DisruptionTarget"))))));
    // Exit code 42: the job fails at once, whatever its backoff limit.
    JobSync.Plan failJob = JobSync.plan(j, List.of(exited(42)), NOW);
    JsonObject target = failJob.status().getJsonArray("conditions").getJsonObject(0);
    assertEquals("FailureTarget", target.getString("type"));
    assertEquals("PodFailurePolicy", target.getString("reason"));
    assertTrue(target.getString("message").matches("Container c for pod default/p\\d+ failed with exit code 42 "
        + "matching FailJob rule at index 0"), target.getString("message"));
    // Another exit code counts as usual: a replacement, no failure yet.
    JobSync.Plan counted = JobSync.plan(j, List.of(exited(1)), NOW);
    assertEquals(1, counted.status().getInteger("failed"));
    // A pod disrupted (its DisruptionTarget condition) is ignored: not counted, replaced.
    JsonObject disrupted = exited(137);
    disrupted.getJsonObject("status").put("conditions", new JsonArray().add(new JsonObject()
        .put("type", "DisruptionTarget").put("status", "True")));
    JobSync.Plan ignored = JobSync.plan(j, List.of(disrupted), NOW);
    assertEquals(0, ignored.status().getInteger("failed", 0));
    assertEquals(1, ignored.create().size());
  }

  @Test
  void deadlineExceededFailsAndDeletesActive() {
    JsonObject j = job(1, 1, 6);
    j.getJsonObject("spec").put("activeDeadlineSeconds", 30);
    JobSync.Plan plan = JobSync.plan(j, pods("Running"), NOW);
    assertEquals(1, plan.delete().size());
    assertEquals("FailureTarget", types(plan.status()));
    assertEquals("DeadlineExceeded", plan.status().getJsonArray("conditions").getJsonObject(0).getString("reason"));
    // Once the pod is gone the job is Failed.
    JsonObject next = j.copy().put("status", plan.status());
    JobSync.Plan after = JobSync.plan(next, List.of(), NOW.plusSeconds(2));
    assertEquals("FailureTarget,Failed", types(after.status()));
    assertEquals("DeadlineExceeded", after.finished());
  }

  @Test
  void deadlineNotYetReachedRequeuesAtIt() {
    JsonObject j = job(1, 1, 6);
    j.getJsonObject("spec").put("activeDeadlineSeconds", 90);
    JobSync.Plan plan = JobSync.plan(j, pods("Running"), NOW);
    assertTrue(plan.delete().isEmpty());
    assertEquals(30_100, plan.requeueAfterMs());
  }

  @Test
  void onFailureRestartsCountTowardTheBackoffLimit() {
    JsonObject j = job(1, 1, 2);
    j.getJsonObject("spec").getJsonObject("template").getJsonObject("spec").put("restartPolicy", "OnFailure");
    JsonObject running = pod("Running");
    running.getJsonObject("status").put("containerStatuses", new JsonArray().add(new JsonObject().put("restartCount", 3)));
    JobSync.Plan plan = JobSync.plan(j, List.of(running), NOW);
    assertEquals("FailureTarget", types(plan.status()));
    assertEquals(1, plan.delete().size());
  }

  @Test
  void ttlDeletesAFinishedJobWhenDue() {
    JsonObject j = job(1, 1, 6);
    j.getJsonObject("spec").put("ttlSecondsAfterFinished", 10);
    j.put("status", JobSync.plan(j, pods("Succeeded"), NOW).status());
    assertFalse(JobSync.plan(j, List.of(), NOW.plusSeconds(5)).deleteJob());
    assertEquals(5_100, JobSync.plan(j, List.of(), NOW.plusSeconds(5)).requeueAfterMs());
    assertTrue(JobSync.plan(j, List.of(), NOW.plusSeconds(10)).deleteJob());
  }

  @Test
  void suspendedJobStopsItsPods() {
    JsonObject j = job(2, 2, 6);
    j.getJsonObject("spec").put("suspend", true);
    JobSync.Plan plan = JobSync.plan(j, pods("Running", "Running"), NOW);
    assertEquals(2, plan.delete().size());
    assertTrue(plan.create().isEmpty());
    assertEquals("Suspended", types(plan.status()));
  }

  @Test
  void indexedCreatesTheLowestMissingIndexes() {
    JsonObject j = job(4, 2, 6);
    j.getJsonObject("spec").put("completionMode", "Indexed");
    JobSync.Plan plan = JobSync.plan(j, List.of(pod("Succeeded", 0), pod("Running", 2)), NOW);
    assertEquals(List.of(1), plan.create());
    assertEquals("0", plan.status().getString("completedIndexes"));
    JobSync.Plan dup = JobSync.plan(j, List.of(pod("Running", 1), pod("Running", 1), pod("Succeeded", 3)), NOW);
    assertEquals(1, dup.delete().size(), "a second pod for one index goes");
    assertEquals(List.of(0), dup.create());
    JobSync.Plan done = JobSync.plan(j, List.of(pod("Succeeded", 0), pod("Succeeded", 1), pod("Succeeded", 2),
        pod("Succeeded", 3)), NOW);
    assertEquals("0-3", done.status().getString("completedIndexes"));
    assertEquals("Completed", done.finished());
  }

  @Test
  void anIndexFailingMoreThanItsLimitIsFailedAndNotRunAgain() {
    JsonObject j = job(3, 3, Integer.MAX_VALUE);
    j.getJsonObject("spec").put("completionMode", "Indexed").put("backoffLimitPerIndex", 1);
    // Index 1 failed twice (its limit is one retry): it is not created again; 0 and 2 go on.
    JobSync.Plan plan = JobSync.plan(j, List.of(pod("Succeeded", 0), pod("Failed", 1), pod("Failed", 1),
        pod("Running", 2)), Instant.parse("2026-01-01T13:00:00Z"));
    assertEquals(List.of(), plan.create());
    assertEquals("1", plan.status().getString("failedIndexes"));
    assertEquals("", types(plan.status()));
    // Once every index has succeeded or failed, the Job fails for its failed indexes.
    JobSync.Plan end = JobSync.plan(j, List.of(pod("Succeeded", 0), pod("Failed", 1), pod("Failed", 1),
        pod("Succeeded", 2)), Instant.parse("2026-01-01T13:00:00Z"));
    assertEquals("FailedIndexes", end.finished());
    assertEquals("FailureTarget,Failed", types(end.status()));
    // One failure within the limit: the index runs again.
    JobSync.Plan retry = JobSync.plan(j, List.of(pod("Failed", 1)), Instant.parse("2026-01-01T13:00:00Z"));
    assertEquals(List.of(0, 1, 2), retry.create());
    assertEquals("", retry.status().getString("failedIndexes"));
  }

  @Test
  void indexedPodCarriesItsIndex() {
    JsonObject j = job(3, 1, 6);
    j.getJsonObject("spec").put("completionMode", "Indexed");
    JsonObject pod = JobSync.pod(j, 2);
    assertEquals("j-2-", pod.getJsonObject("metadata").getString("generateName"));
    assertEquals("2", pod.getJsonObject("metadata").getJsonObject("annotations").getString(JobSync.COMPLETION_INDEX));
    assertEquals("j-2", pod.getJsonObject("spec").getString("hostname"));
    JsonObject env = pod.getJsonObject("spec").getJsonArray("containers").getJsonObject(0).getJsonArray("env")
        .getJsonObject(0);
    assertEquals("JOB_COMPLETION_INDEX", env.getString("name"));
    assertEquals("2", env.getString("value"));
    JsonObject plain = JobSync.pod(job(1, 1, 6), -1);
    assertEquals("j", plain.getJsonObject("metadata").getJsonObject("labels").getString(JobSync.JOB_NAME));
    assertEquals("u1", plain.getJsonObject("metadata").getJsonObject("labels").getString(JobSync.CONTROLLER_UID));
    assertTrue(plain.getJsonObject("metadata").getJsonArray("ownerReferences").getJsonObject(0).getBoolean("controller"));
  }

  @Test
  void replacementsBackOffAfterFailures() {
    JsonObject failed = pod("Failed");
    failed.getJsonObject("status").put("containerStatuses", new JsonArray().add(new JsonObject()
        .put("state", new JsonObject().put("terminated", new JsonObject().put("exitCode", 1)
            .put("finishedAt", "2026-01-01T11:59:55Z")))));
    JobSync.Plan plan = JobSync.plan(job(1, 1, 6), List.of(failed), NOW);
    assertTrue(plan.create().isEmpty(), "first failure: 10 s before a new pod");
    assertEquals(5_000, plan.requeueAfterMs());
    assertEquals(1, JobSync.plan(job(1, 1, 6), List.of(failed), NOW.plusSeconds(5)).create().size());
    // Two failures: 20 s; a success in between resets the count.
    JsonObject second = failed.copy();
    second.getJsonObject("metadata").put("name", "second");
    assertEquals(15_000, JobSync.backoffLeft(List.of(failed, second), NOW));
    JsonObject success = pod("Succeeded");
    success.getJsonObject("metadata").put("creationTimestamp", "2026-01-01T11:59:56Z");
    assertEquals(0, JobSync.backoffLeft(List.of(failed, success), NOW));
  }

  @Test
  void indexIntervals() {
    assertEquals("0-2,5,7-8", JobSync.formatIndexes(new TreeSet<>(List.of(0, 1, 2, 5, 7, 8))));
    assertEquals(new TreeSet<>(List.of(0, 1, 2, 5)), JobSync.parseIndexes("0-2,5"));
    assertEquals("", JobSync.formatIndexes(new TreeSet<>()));
  }
}
