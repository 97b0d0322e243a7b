package io.kvx.controller.job;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Claiming;
import io.kvx.controller.Claims;
import io.kvx.controller.Expectations;
import io.kvx.controller.Reconciler;
import io.kvx.controller.Workloads;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The Job controller: runs a job's pods to completion as {@link JobSync} decides, records the
 * outcome in status, and deletes finished jobs whose ttlSecondsAfterFinished has passed.
 */
public final class JobReconciler implements Reconciler {

  public static final ResourceType JOBS = Resources.builtIn("batch", "jobs");

  private final Cache jobs;
  private final Cache pods;
  private final ApiClient client;
  private final EventRecorder events;
  private final Expectations expectations = new Expectations();

  public JobReconciler(Cache jobs, Cache pods, ApiClient client, EventRecorder events, Consumer<String> enqueue) {
    this.jobs = jobs;
    this.pods = pods;
    this.client = client;
    this.events = events;
    jobs.listen(c -> enqueue.accept(Cache.key(c.object())));
    pods.listen(c -> {
      String key = expectations.observePod(c, "Job");
      if (key != null) enqueue.accept(key);
      else Claiming.wakeSelecting(c, jobs, enqueue);
    });
  }

  @Override
  public String name() {
    return "job";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject job = jobs.get(key);
    if (job == null) {
      expectations.forget(key);
      return Future.succeededFuture(Result.DONE);
    }
    if (Workloads.isDeleting(job)) return Future.succeededFuture(Result.DONE);
    // Claims as Kubernetes' Job controller makes them: matching orphan pods adopted, owned pods that no
    // longer match the selector released; a finished job claims nothing any more.
    Claims.Decision claims = JobSync.finished(job) != null
        ? new Claims.Decision(pods.controlledBy(Meta.uid(job)), List.of(), List.of())
        : Claims.decide(Claims.Owner.of(job), Claims.selectorOf(job), pods.list(Meta.namespace(job)));
    return Claiming.apply(client, JOBS, job, Resources.PODS, claims).compose(owned -> sync(key, job, owned));
  }

  private Future<Result> sync(String key, JsonObject job, List<JsonObject> owned) {
    long nowMs = System.currentTimeMillis();
    if (!expectations.satisfied(key, nowMs)) {
      // Our last creates or deletes are not in the cache yet: deciding now would repeat them.
      return Future.succeededFuture(Result.DONE);
    }
    JobSync.Plan plan = JobSync.plan(job, owned, Instant.ofEpochMilli(nowMs));
    if (plan.deleteJob()) {
      return client.delete(JOBS, Meta.namespace(job), Meta.name(job),
              new JsonObject().put("propagationPolicy", "Background"))
          .recover(ApiError.ignoring(ApiError.Reason.NotFound))
          .map(Result.DONE);
    }
    if (!plan.create().isEmpty() || !plan.delete().isEmpty()) {
      expectations.expect(key, plan.create().size(), plan.delete().size(), nowMs);
    }
    List<Future<?>> actions = new ArrayList<>();
    for (int index : plan.create()) {
      actions.add(client.create(Resources.PODS, Meta.namespace(job), JobSync.pod(job, index))
          .onSuccess(p -> events.normal(job, "SuccessfulCreate", "Created pod: " + Meta.name(p)))
          .onFailure(e -> {
            expectations.lower(key, 1, 0);
            events.warning(job, "FailedCreate", "Error creating: " + e.getMessage());
          }));
    }
    for (JsonObject pod : plan.delete()) {
      actions.add(client.delete(Resources.PODS, Meta.namespace(pod), Meta.name(pod), null)
          .onSuccess(p -> events.normal(job, "SuccessfulDelete", "Deleted pod: " + Meta.name(pod)))
          .onFailure(e -> expectations.lower(key, 0, 1)));
    }
    return Future.join(actions).transform(v -> writeStatus(job, plan.status())).map(v -> {
      if (plan.finished() != null) {
        switch (plan.finished()) {
          case "Completed" -> events.normal(job, "Completed", "Job completed");
          case "BackoffLimitExceeded" -> events.warning(job, "BackoffLimitExceeded",
              "Job has reached the specified backoff limit");
          case "DeadlineExceeded" -> events.warning(job, "DeadlineExceeded",
              "Job was active longer than specified deadline");
          default -> {
            // The Failed condition says why (a podFailurePolicy rule names the pod and its exit code).
            JsonObject failed = Workloads.condition(new JsonObject().put("status", plan.status()), "Failed");
            events.warning(job, plan.finished(), failed == null ? "Job failed" : failed.getString("message"));
          }
        }
      }
      return plan.requeueAfterMs() > 0 ? Result.after(plan.requeueAfterMs()) : Result.DONE;
    });
  }

  private Future<Void> writeStatus(JsonObject job, JsonObject status) {
    if (status.equals(job.getJsonObject("status", new JsonObject()))) return Future.succeededFuture();
    JsonObject patch = status.copy();
    // Merge patch: a field we dropped must be nulled explicitly.
    for (String f : job.getJsonObject("status", new JsonObject()).fieldNames()) {
      if (!patch.containsKey(f)) patch.putNull(f);
    }
    return client.mergePatch(JOBS, Meta.namespace(job), Meta.name(job), "status",
        new JsonObject().put("status", patch)).mapEmpty();
  }
}
