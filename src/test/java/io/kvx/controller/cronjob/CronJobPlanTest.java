package io.kvx.controller.cronjob;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CronJobPlanTest {

  private static final ZoneId UTC = ZoneOffset.UTC;

  private static JsonObject cron(String schedule, String policy, String lastSchedule) {
    JsonObject status = new JsonObject();
    if (lastSchedule != null) status.put("lastScheduleTime", lastSchedule);
    return new JsonObject().put("apiVersion", "batch/v1").put("kind", "CronJob")
        .put("metadata", new JsonObject().put("name", "cj").put("namespace", "default").put("uid", "cu")
            .put("creationTimestamp", "2026-01-01T09:30:00Z"))
        .put("spec", new JsonObject().put("schedule", schedule).put("concurrencyPolicy", policy)
            .put("successfulJobsHistoryLimit", 2).put("failedJobsHistoryLimit", 1)
            .put("jobTemplate", new JsonObject().put("spec", new JsonObject().put("template", new JsonObject()))))
        .put("status", status);
  }

  /** A job of the cron job: running (null), "Complete" or "Failed", started at minute {@code minute}. */
  private static JsonObject job(String name, String done, int minute) {
    String start = String.format("2026-01-01T09:%02d:00Z", minute);
    JsonObject status = new JsonObject().put("startTime", start);
    if (done != null) {
      status.put("conditions", new JsonArray().add(new JsonObject().put("type", done).put("status", "True")
          .put("lastTransitionTime", start)));
      if (done.equals("Complete")) status.put("completionTime", start);
    }
    return new JsonObject().put("metadata", new JsonObject().put("name", name).put("namespace", "default")
        .put("uid", name + "-uid").put("creationTimestamp", start)).put("status", status);
  }

  static Stream<Arguments> cases() {
    Instant at1001 = Instant.parse("2026-01-01T10:01:30Z");
    return Stream.of(
        // name, cronjob, jobs, now, expected run (or null), deletes, skipped
        Arguments.of("first run after creation", cron("*/1 * * * *", "Allow", null), List.of(), at1001,
            "2026-01-01T10:01:00Z", 0, null),
        Arguments.of("already ran this minute", cron("*/1 * * * *", "Allow", "2026-01-01T10:01:00Z"), List.of(),
            at1001, null, 0, null),
        Arguments.of("many missed: only the latest runs", cron("*/5 * * * *", "Allow", "2026-01-01T09:30:00Z"),
            List.of(), at1001, "2026-01-01T10:00:00Z", 0, null),
        Arguments.of("allow runs beside an active job", cron("*/1 * * * *", "Allow", "2026-01-01T10:00:00Z"),
            List.of(job("cj-old", null, 59)), at1001, "2026-01-01T10:01:00Z", 0, null),
        Arguments.of("forbid waits for the active job", cron("*/1 * * * *", "Forbid", "2026-01-01T10:00:00Z"),
            List.of(job("cj-old", null, 59)), at1001, null, 0, "JobAlreadyActive"),
        Arguments.of("replace deletes the active job", cron("*/1 * * * *", "Replace", "2026-01-01T10:00:00Z"),
            List.of(job("cj-old", null, 59)), at1001, "2026-01-01T10:01:00Z", 1, null),
        Arguments.of("history limits trim the oldest", cron("0 0 1 1 *", "Allow", "2026-01-01T00:00:00Z"),
            List.of(job("s1", "Complete", 1), job("s2", "Complete", 2), job("s3", "Complete", 3),
                job("f1", "Failed", 4), job("f2", "Failed", 5)), at1001, null, 2, null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void plan(String name, JsonObject cj, List<JsonObject> jobs, Instant now, String run, int deletes, String skipped) {
    CronJobPlan.Plan plan = CronJobPlan.plan(cj, jobs, now, UTC);
    assertEquals(run, plan.run() == null ? null : plan.run().toString());
    assertEquals(deletes, plan.delete().size());
    assertEquals(skipped, plan.skipped());
    if (run != null) {
      assertEquals(run, plan.status().getString("lastScheduleTime"));
      assertEquals("cj-" + Instant.parse(run).getEpochSecond() / 60, plan.jobName());
    }
  }

  @Test
  void historyKeepsTheNewest() {
    CronJobPlan.Plan plan = CronJobPlan.plan(cron("0 0 1 1 *", "Allow", "2026-01-01T00:00:00Z"),
        List.of(job("s3", "Complete", 3), job("s1", "Complete", 1), job("s2", "Complete", 2), job("f1", "Failed", 4),
            job("f2", "Failed", 5)), Instant.parse("2026-01-01T10:00:00Z"), UTC);
    assertEquals(List.of("s1", "f1"), plan.delete().stream().map(j -> j.getJsonObject("metadata").getString("name"))
        .toList());
    assertEquals("2026-01-01T09:03:00Z", plan.status().getString("lastSuccessfulTime"));
  }

  @Test
  void requeuesAtTheNextScheduledTime() {
    CronJobPlan.Plan plan = CronJobPlan.plan(cron("*/15 * * * *", "Allow", "2026-01-01T10:00:00Z"), List.of(),
        Instant.parse("2026-01-01T10:01:30Z"), UTC);
    assertNull(plan.run());
    assertEquals(13 * 60_000 + 30_000 + 100, plan.requeueAfterMs());
  }

  @Test
  void startingDeadlineSkipsRunsTooLate() {
    JsonObject cj = cron("0 * * * *", "Allow", "2026-01-01T09:00:00Z");
    cj.getJsonObject("spec").put("startingDeadlineSeconds", 60);
    CronJobPlan.Plan late = CronJobPlan.plan(cj, List.of(), Instant.parse("2026-01-01T10:01:30Z"), UTC);
    assertNull(late.run());
    assertEquals("MissSchedule", late.skipped());
    CronJobPlan.Plan longGone = CronJobPlan.plan(cj, List.of(), Instant.parse("2026-01-01T10:30:00Z"), UTC);
    assertNull(longGone.run());
    CronJobPlan.Plan inTime = CronJobPlan.plan(cj, List.of(), Instant.parse("2026-01-01T10:00:30Z"), UTC);
    assertEquals("2026-01-01T10:00:00Z", inTime.run().toString());
  }

  @Test
  void suspendedNeverRuns() {
    JsonObject cj = cron("*/1 * * * *", "Allow", null);
    cj.getJsonObject("spec").put("suspend", true);
    assertNull(CronJobPlan.plan(cj, List.of(), Instant.parse("2026-01-01T10:01:30Z"), UTC).run());
  }

  @Test
  void timeZoneMovesTheSchedule() {
    JsonObject cj = cron("0 9 * * *", "Allow", "2026-01-01T00:00:00Z");
    cj.getJsonObject("spec").put("timeZone", "Europe/Berlin");
    // 09:00 in Berlin (UTC+1 in January) is 08:00 UTC.
    CronJobPlan.Plan plan = CronJobPlan.plan(cj, List.of(), Instant.parse("2026-01-01T08:00:10Z"), UTC);
    assertEquals("2026-01-01T08:00:00Z", plan.run().toString());
    JsonObject job = CronJobPlan.job(cj, plan.run(), CronJobPlan.zone(cj, UTC));
    assertEquals("2026-01-01T09:00:00+01:00", job.getJsonObject("metadata").getJsonObject("annotations")
        .getString(CronJobPlan.SCHEDULED_TIMESTAMP));
  }

  @Test
  void activeListsRunningJobsAndSawCompletedTheFinished() {
    JsonObject cj = cron("0 0 1 1 *", "Allow", "2026-01-01T00:00:00Z");
    cj.getJsonObject("status").put("active", new JsonArray().add(new JsonObject().put("name", "done"))
        .add(new JsonObject().put("name", "run")));
    CronJobPlan.Plan plan = CronJobPlan.plan(cj, List.of(job("done", "Complete", 1), job("run", null, 2)),
        Instant.parse("2026-01-01T10:00:00Z"), UTC);
    assertEquals(1, plan.status().getJsonArray("active").size());
    assertEquals("run", plan.status().getJsonArray("active").getJsonObject(0).getString("name"));
    assertEquals(List.of("done:Complete"), plan.sawCompleted());
  }
}
