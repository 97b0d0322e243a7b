package io.kvx.controller.cronjob;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.kvx.controller.Workloads;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The CronJob controller: starts a Job at each scheduled time ({@link CronJobPlan} decides which),
 * honours the concurrency policy, trims finished jobs to the history limits and looks again at the
 * next scheduled time.
 */
public final class CronJobReconciler implements Reconciler {

  private static final ResourceType CRONJOBS = Resources.builtIn("batch", "cronjobs");
  private static final ResourceType JOBS = Resources.builtIn("batch", "jobs");

  private final Cache cronJobs;
  private final Cache jobs;
  private final ApiClient client;
  private final EventRecorder events;
  private final ZoneId zone;

  public CronJobReconciler(Cache cronJobs, Cache jobs, ApiClient client, EventRecorder events, ZoneId zone,
                           Consumer<String> enqueue) {
    this.cronJobs = cronJobs;
    this.jobs = jobs;
    this.client = client;
    this.events = events;
    this.zone = zone;
    cronJobs.listen(c -> enqueue.accept(Cache.key(c.object())));
    jobs.listen(c -> {
      JsonObject ref = Workloads.controllerRef(c.object());
      if (ref != null && "CronJob".equals(ref.getString("kind"))) {
        enqueue.accept(Meta.namespace(c.object()) + "/" + ref.getString("name"));
      }
    });
  }

  @Override
  public String name() {
    return "cronjob";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject cj = cronJobs.get(key);
    if (cj == null || Workloads.isDeleting(cj)) return Future.succeededFuture(Result.DONE);
    List<JsonObject> owned = new ArrayList<>();
    for (JsonObject job : jobs.list(Meta.namespace(cj))) {
      if (Workloads.isControlledBy(job, cj)) owned.add(job);
    }
    CronJobPlan.Plan plan = CronJobPlan.plan(cj, owned, Instant.now(), zone);
    for (String seen : plan.sawCompleted()) {
      int colon = seen.lastIndexOf(':');
      events.normal(cj, "SawCompletedJob", "Saw completed job: " + seen.substring(0, colon) + ", condition: "
          + seen.substring(colon + 1));
    }
    if ("MissSchedule".equals(plan.skipped())
        && !plan.status().equals(cj.getJsonObject("status", new JsonObject()))) {
      events.warning(cj, "MissSchedule", "Missed scheduled time to start a job: too late for startingDeadlineSeconds");
    }
    if ("JobAlreadyActive".equals(plan.skipped())) {
      events.normal(cj, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency "
          + "policy is Forbid");
    }
    List<Future<?>> deletes = new ArrayList<>();
    for (JsonObject job : plan.delete()) {
      deletes.add(client.delete(JOBS, Meta.namespace(job), Meta.name(job),
              new JsonObject().put("propagationPolicy", "Background"))
          .onSuccess(x -> events.normal(cj, "SuccessfulDelete", "Deleted job " + Meta.name(job)))
          .recover(ApiError.ignoring(ApiError.Reason.NotFound)));
    }
    Future<Void> created = Future.succeededFuture();
    if (plan.run() != null) {
      created = client.create(JOBS, Meta.namespace(cj), CronJobPlan.job(cj, plan.run(), CronJobPlan.zone(cj, zone)))
          .onSuccess(j -> events.normal(cj, "SuccessfulCreate", "Created job " + Meta.name(j)))
          .<Void>mapEmpty()
          .recover(e -> {
            if (ApiError.is(e, ApiError.Reason.AlreadyExists)) return Future.succeededFuture();
            events.warning(cj, "FailedCreate", "Error creating job: " + e.getMessage());
            return Future.failedFuture(e);
          });
    }
    return Future.all(Future.join(deletes), created).compose(v -> writeStatus(cj, plan.status()))
        .map(v -> plan.requeueAfterMs() > 0 ? Result.after(plan.requeueAfterMs()) : Result.DONE);
  }

  private Future<Void> writeStatus(JsonObject cj, JsonObject status) {
    JsonObject old = cj.getJsonObject("status", new JsonObject());
    if (status.equals(old)) return Future.succeededFuture();
    JsonObject patch = status.copy();
    for (String f : old.fieldNames()) {
      if (!patch.containsKey(f)) patch.putNull(f);
    }
    return client.mergePatch(CRONJOBS, Meta.namespace(cj), Meta.name(cj), "status",
        new JsonObject().put("status", patch)).mapEmpty();
  }
}
