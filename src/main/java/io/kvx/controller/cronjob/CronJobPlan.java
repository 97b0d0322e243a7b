package io.kvx.controller.cronjob;

import io.kvx.api.CronSchedule;
import io.kvx.api.Meta;
import io.kvx.controller.Workloads;
import io.kvx.controller.job.JobSync;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A CronJob's decisions at one moment: whether a scheduled run is due (and which), which jobs to
 * delete (replaced runs, history beyond the limits), the status, and when to look again. Pure.
 */
public final class CronJobPlan {

  public static final String SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp";
  /** Missed runs looked at, at most: a CronJob asleep for years does not loop for years. */
  private static final int MAX_MISSED = 10_000;

  /**
   * {@code run}: the scheduled time to start a job for, or null. {@code skipped}: why a due run did not
   * start (null if none was due or it started). {@code sawCompleted}: jobs in status.active that have
   * finished, as "name:Complete".
   */
  public record Plan(Instant run, String jobName, List<JsonObject> delete, JsonObject status, String skipped,
                     List<String> sawCompleted, long requeueAfterMs) {
  }

  private CronJobPlan() {
  }

  /** Jobs are named by their scheduled time in minutes since the epoch, so a run is created once. */
  public static String jobName(JsonObject cronJob, Instant scheduled) {
    return Meta.name(cronJob) + "-" + scheduled.getEpochSecond() / 60;
  }

  public static ZoneId zone(JsonObject cronJob, ZoneId fallback) {
    String tz = cronJob.getJsonObject("spec", new JsonObject()).getString("timeZone");
    try {
      return tz == null || tz.isEmpty() ? fallback : ZoneId.of(tz);
    } catch (RuntimeException e) {
      return fallback;
    }
  }

  public static Plan plan(JsonObject cj, List<JsonObject> jobs, Instant now, ZoneId defaultZone) {
    JsonObject spec = cj.getJsonObject("spec", new JsonObject());
    JsonObject old = cj.getJsonObject("status", new JsonObject());
    JsonObject status = old.copy();
    List<JsonObject> active = new ArrayList<>();
    List<JsonObject> succeeded = new ArrayList<>();
    List<JsonObject> failed = new ArrayList<>();
    for (JsonObject job : jobs) {
      String done = JobSync.finished(job);
      if (done == null) {
        if (!Workloads.isDeleting(job)) active.add(job);
      } else if (done.equals("Complete")) {
        succeeded.add(job);
      } else {
        failed.add(job);
      }
    }
    List<String> saw = new ArrayList<>();
    for (Object o : old.getJsonArray("active", new JsonArray())) {
      if (!(o instanceof JsonObject ref)) continue;
      for (JsonObject job : jobs) {
        if (Meta.name(job).equals(ref.getString("name")) && JobSync.finished(job) != null) {
          saw.add(Meta.name(job) + ":" + JobSync.finished(job));
        }
      }
    }
    Instant lastSuccess = old.getString("lastSuccessfulTime") == null ? null
        : Instant.parse(old.getString("lastSuccessfulTime"));
    for (JsonObject job : succeeded) {
      String t = job.getJsonObject("status", new JsonObject()).getString("completionTime");
      if (t != null && (lastSuccess == null || Instant.parse(t).isAfter(lastSuccess))) lastSuccess = Instant.parse(t);
    }
    if (lastSuccess != null) status.put("lastSuccessfulTime", lastSuccess.toString());

    List<JsonObject> delete = new ArrayList<>();
    delete.addAll(beyondLimit(succeeded, spec.getInteger("successfulJobsHistoryLimit", 3)));
    delete.addAll(beyondLimit(failed, spec.getInteger("failedJobsHistoryLimit", 1)));

    Instant run = null;
    String skipped = null;
    long requeue = 0;
    CronSchedule schedule;
    try {
      schedule = CronSchedule.parse(spec.getString("schedule", ""));
    } catch (RuntimeException e) {
      schedule = null;
      skipped = "UnparseableSchedule";
    }
    if (schedule != null) {
      ZoneId zone = zone(cj, defaultZone);
      ZonedDateTime zNow = now.atZone(zone);
      requeue = schedule.next(zNow).toInstant().toEpochMilli() - now.toEpochMilli() + 100;
      if (!spec.getBoolean("suspend", false)) {
        Instant earliest = old.getString("lastScheduleTime") != null ? Instant.parse(old.getString("lastScheduleTime"))
            : Instant.parse(Meta.meta(cj).getString("creationTimestamp", now.toString()));
        Long deadline = spec.getValue("startingDeadlineSeconds") instanceof Number n ? n.longValue() : null;
        if (deadline != null && earliest.isBefore(now.minusSeconds(deadline))) {
          // Runs older than the deadline would be skipped anyway: no need to walk them.
          earliest = now.minusSeconds(deadline).minusSeconds(60);
        }
        Instant due = latestDue(schedule, earliest.atZone(zone), zNow);
        if (due != null) {
          if (deadline != null && due.plusSeconds(deadline).isBefore(now)) {
            skipped = "MissSchedule";
          } else if (jobs.stream().anyMatch(j -> Meta.name(j).equals(jobName(cj, due)))) {
            status.put("lastScheduleTime", due.toString());
          } else {
            String policy = spec.getString("concurrencyPolicy", "Allow");
            if (policy.equals("Forbid") && !active.isEmpty()) {
              // The run waits (within its deadline) for the active job to finish.
              skipped = "JobAlreadyActive";
            } else {
              if (policy.equals("Replace")) delete.addAll(active);
              run = due;
              status.put("lastScheduleTime", due.toString());
            }
          }
        }
      }
    }
    JsonArray refs = new JsonArray();
    active.stream().filter(j -> !delete.contains(j)).sorted(Comparator.comparing(Meta::name))
        .forEach(j -> refs.add(new JsonObject().put("kind", "Job").put("namespace", Meta.namespace(j))
            .put("name", Meta.name(j)).put("uid", Meta.uid(j)).put("apiVersion", "batch/v1")
            .put("resourceVersion", Meta.meta(j).getString("resourceVersion"))));
    if (refs.isEmpty()) status.remove("active");
    else status.put("active", refs);
    return new Plan(run, run == null ? null : jobName(cj, run), delete, status, skipped, saw, requeue);
  }

  /** The latest scheduled time after {@code earliest} and not after {@code now}, or null. */
  static Instant latestDue(CronSchedule schedule, ZonedDateTime earliest, ZonedDateTime now) {
    ZonedDateTime due = null;
    ZonedDateTime t = schedule.next(earliest);
    for (int i = 0; i < MAX_MISSED && !t.isAfter(now); i++) {
      due = t;
      t = schedule.next(t);
    }
    return due == null ? null : due.toInstant();
  }

  private static List<JsonObject> beyondLimit(List<JsonObject> finished, int limit) {
    List<JsonObject> sorted = new ArrayList<>(finished);
    sorted.removeIf(Workloads::isDeleting);
    sorted.sort(Comparator.comparing((JsonObject j) -> j.getJsonObject("status", new JsonObject())
        .getString("startTime", Meta.meta(j).getString("creationTimestamp", ""))).thenComparing(Meta::name));
    return sorted.subList(0, Math.max(0, sorted.size() - Math.max(0, limit)));
  }

  /** The Job a run starts: the job template, owned by the CronJob, with its scheduled time. */
  public static JsonObject job(JsonObject cj, Instant scheduled, ZoneId zone) {
    JsonObject template = cj.getJsonObject("spec", new JsonObject()).getJsonObject("jobTemplate", new JsonObject());
    JsonObject tmeta = template.getJsonObject("metadata", new JsonObject());
    JsonObject annotations = tmeta.getJsonObject("annotations", new JsonObject()).copy()
        .put(SCHEDULED_TIMESTAMP, java.time.format.DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(scheduled.atZone(zone)));
    JsonObject meta = new JsonObject().put("name", jobName(cj, scheduled)).put("namespace", Meta.namespace(cj))
        .put("annotations", annotations)
        .put("ownerReferences", new JsonArray().add(Workloads.ownerRef(cj)));
    if (tmeta.getJsonObject("labels") != null) meta.put("labels", tmeta.getJsonObject("labels").copy());
    return new JsonObject().put("apiVersion", "batch/v1").put("kind", "Job").put("metadata", meta)
        .put("spec", template.getJsonObject("spec", new JsonObject()).copy());
  }
}
