package io.kvx.controller.job;

import io.kvx.api.Meta;
import io.kvx.controller.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A Job's decisions: which pods to start (and at which completion index), which to stop, when the
 * job has succeeded or failed, and the status to write. Pure: the job and its pods in, a plan out.
 *
 * <p>The outcome is decided once (a FailureTarget or SuccessCriteriaMet condition) and then sticks;
 * the terminal condition (Failed or Complete) follows when no pod of the job is still running.
 */
public final class JobSync {

  public static final String COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";
  public static final String JOB_NAME = "batch.kubernetes.io/job-name";
  public static final String CONTROLLER_UID = "batch.kubernetes.io/controller-uid";

  /**
   * What to do this sync. {@code create} holds one entry per pod to start: its completion index, or
   * -1 for a NonIndexed job. {@code finished} names the terminal condition reached this sync
   * (Complete's reason or Failed's), else null. {@code deleteJob}: ttlSecondsAfterFinished has passed.
   */
  /** Replacement pods after failures wait 10 s, doubling per failure since the last success, up to 10 min. */
  static final long BACKOFF_BASE_MS = 10_000;
  static final long BACKOFF_MAX_MS = 600_000;

  public record Plan(List<Integer> create, List<JsonObject> delete, JsonObject status, String finished,
                     boolean deleteJob, long requeueAfterMs) {
  }

  private JobSync() {
  }

  public static boolean indexed(JsonObject job) {
    return "Indexed".equals(spec(job).getString("completionMode"));
  }

  private static JsonObject spec(JsonObject job) {
    return job.getJsonObject("spec", new JsonObject());
  }

  /** "Complete" or "Failed" once the job has finished, else null. */
  public static String finished(JsonObject job) {
    for (String type : List.of("Complete", "Failed")) {
      JsonObject c = Workloads.condition(job, type);
      if (c != null && "True".equals(c.getString("status"))) return type;
    }
    return null;
  }

  /** When the job finished: completionTime, or the Failed condition's transition. */
  public static Instant finishedAt(JsonObject job) {
    JsonObject status = job.getJsonObject("status", new JsonObject());
    if (status.getString("completionTime") != null) return Instant.parse(status.getString("completionTime"));
    JsonObject failed = Workloads.condition(job, "Failed");
    if (failed != null && failed.getString("lastTransitionTime") != null) {
      return Instant.parse(failed.getString("lastTransitionTime"));
    }
    return null;
  }

  /** The pod's completion index, or -1. */
  public static int index(JsonObject pod) {
    String v = Meta.meta(pod).getJsonObject("annotations", new JsonObject()).getString(COMPLETION_INDEX);
    if (v == null) v = Meta.labels(pod).get(COMPLETION_INDEX);
    try {
      return v == null ? -1 : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  public static Plan plan(JsonObject job, List<JsonObject> pods, Instant now) {
    JsonObject spec = spec(job);
    JsonObject old = job.getJsonObject("status", new JsonObject());
    JsonObject status = old.copy();
    // Kubernetes times have whole seconds.
    String ts = now.truncatedTo(ChronoUnit.SECONDS).toString();
    boolean isIndexed = indexed(job);
    Integer completions = spec.getValue("completions") instanceof Number n ? n.intValue() : null;
    int parallelism = spec.getInteger("parallelism", 1);
    int backoffLimit = spec.getInteger("backoffLimit", 6);
    boolean onFailure = "OnFailure".equals(spec.getJsonObject("template", new JsonObject())
        .getJsonObject("spec", new JsonObject()).getString("restartPolicy"));
    boolean suspended = spec.getBoolean("suspend", false);

    List<JsonObject> active = new ArrayList<>();
    int terminating = 0;
    int succeededPods = 0;
    int failedPods = 0;
    int restarts = 0;
    TreeSet<Integer> doneIndexes = isIndexed ? parseIndexes(old.getString("completedIndexes")) : new TreeSet<>();
    // backoffLimitPerIndex: an index whose pods failed more often than that is failed, and not run again.
    Integer perIndex = isIndexed && spec.getValue("backoffLimitPerIndex") instanceof Number n ? n.intValue() : null;
    TreeSet<Integer> failedIndexes = perIndex == null ? new TreeSet<>() : parseIndexes(old.getString("failedIndexes"));
    Map<Integer, Integer> failuresByIndex = new HashMap<>();
    String failJob = null; // the message of the first failed pod a FailJob rule of the podFailurePolicy matched
    for (JsonObject pod : pods) {
      String phase = Workloads.phase(pod);
      if (phase.equals("Succeeded")) {
        succeededPods++;
        int i = index(pod);
        if (isIndexed && i >= 0 && (completions == null || i < completions)) doneIndexes.add(i);
      } else if (phase.equals("Failed")) {
        String[] rule = podFailurePolicy(spec, pod);
        if (rule != null && rule[0].equals("Ignore")) continue; // not counted against the backoff limit
        if (rule != null && rule[0].equals("FailJob") && failJob == null) failJob = rule[1];
        failedPods++;
        int i = index(pod);
        if (perIndex != null && i >= 0 && rule != null && rule[0].equals("FailIndex")) failedIndexes.add(i);
        if (perIndex != null && i >= 0 && failuresByIndex.merge(i, 1, Integer::sum) > perIndex) failedIndexes.add(i);
      } else if (Workloads.isDeleting(pod)) {
        terminating++;
      } else {
        active.add(pod);
        if (onFailure) restarts += Workloads.restarts(pod);
      }
    }
    // Counts never go down: a finished pod someone deleted still counted.
    int succeeded = Math.max(old.getInteger("succeeded", 0), isIndexed ? doneIndexes.size() : succeededPods);
    int failed = Math.max(old.getInteger("failed", 0), failedPods);

    List<Integer> create = new ArrayList<>();
    List<JsonObject> delete = new ArrayList<>();
    String finishedNow = null;
    boolean deleteJob = false;
    long requeue = 0;
    String done = finished(job);

    if (!suspended && status.getString("startTime") == null && done == null) status.put("startTime", ts);
    JsonArray conditions = old.getJsonArray("conditions", new JsonArray()).copy();

    if (done != null) {
      // Finished: nothing runs any more; only the time to live is left.
      if (done.equals("Failed")) delete.addAll(active);
      Integer ttl = spec.getValue("ttlSecondsAfterFinished") instanceof Number n ? n.intValue() : null;
      Instant at = finishedAt(job);
      if (ttl != null && at != null) {
        long left = at.plusSeconds(ttl).toEpochMilli() - now.toEpochMilli();
        if (left <= 0) deleteJob = true;
        else requeue = left + 100;
      }
    } else {
      JsonObject failureTarget = find(conditions, "FailureTarget");
      JsonObject successTarget = find(conditions, "SuccessCriteriaMet");
      if (failureTarget == null && successTarget == null) {
        Integer deadline = spec.getValue("activeDeadlineSeconds") instanceof Number n ? n.intValue() : null;
        Instant started = status.getString("startTime") == null ? null : Instant.parse(status.getString("startTime"));
        boolean allDone = completions == null ? succeeded > 0 && active.isEmpty() : succeeded >= completions;
        Integer maxFailedIndexes = spec.getValue("maxFailedIndexes") instanceof Number n ? n.intValue() : null;
        boolean indexesSettled = completions != null && doneIndexes.size() + failedIndexes.size() >= completions;
        if (failJob != null) {
          failureTarget = condition("FailureTarget", "PodFailurePolicy", failJob, ts);
        } else if (failed + restarts > backoffLimit) {
          failureTarget = condition("FailureTarget", "BackoffLimitExceeded",
              "Job has reached the specified backoff limit", ts);
        } else if (maxFailedIndexes != null && failedIndexes.size() > maxFailedIndexes) {
          failureTarget = condition("FailureTarget", "MaxFailedIndexesExceeded",
              "Job has exceeded the specified maximal number of failed indexes", ts);
        } else if (!failedIndexes.isEmpty() && indexesSettled) {
          failureTarget = condition("FailureTarget", "FailedIndexes", "Job has failed indexes", ts);
        } else if (deadline != null && started != null && !suspended
            && !started.plusSeconds(deadline).isAfter(now)) {
          failureTarget = condition("FailureTarget", "DeadlineExceeded",
              "Job was active longer than specified deadline", ts);
        } else if (allDone) {
          successTarget = condition("SuccessCriteriaMet", "CompletionsReached",
              "Reached expected number of succeeded pods", ts);
        }
        if (failureTarget != null) conditions.add(failureTarget);
        if (successTarget != null) conditions.add(successTarget);
        if (failureTarget == null && successTarget == null && deadline != null && started != null && !suspended) {
          requeue = started.plusSeconds(deadline).toEpochMilli() - now.toEpochMilli() + 100;
        }
      }
      if (failureTarget != null || successTarget != null) {
        delete.addAll(active);
        if (active.isEmpty() && terminating == 0) {
          if (failureTarget != null) {
            conditions.add(condition("Failed", failureTarget.getString("reason"), failureTarget.getString("message"),
                ts));
            finishedNow = failureTarget.getString("reason");
          } else {
            conditions.add(condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods",
                ts));
            status.put("completionTime", ts);
            finishedNow = "Completed";
          }
        }
      } else if (suspended) {
        delete.addAll(active);
      } else if (backoffLeft(pods, now) > 0) {
        long left = backoffLeft(pods, now);
        requeue = requeue > 0 ? Math.min(requeue, left) : left;
      } else if (isIndexed) {
        TreeSet<Integer> settled = new TreeSet<>(doneIndexes);
        settled.addAll(failedIndexes);
        planIndexed(active, settled, completions == null ? 0 : completions, parallelism, create, delete);
      } else {
        int want = completions == null ? (succeeded > 0 ? 0 : parallelism)
            : Math.max(0, Math.min(parallelism, completions - succeeded));
        if (active.size() < want) {
          for (int i = active.size(); i < want; i++) create.add(-1);
        } else if (active.size() > want && (completions != null || succeeded == 0)) {
          active.stream().sorted(Workloads.DELETE_FIRST).limit(active.size() - want).forEach(delete::add);
        }
      }
      setSuspended(conditions, suspended, ts);
    }

    int ready = 0;
    for (JsonObject pod : active) {
      if (!delete.contains(pod) && Workloads.isReady(pod)) ready++;
    }
    status.put("active", active.size() - countIn(delete, active) + create.size());
    status.put("ready", ready);
    status.put("succeeded", succeeded);
    status.put("failed", failed);
    status.put("terminating", terminating + countIn(delete, active));
    if (isIndexed) {
      String text = formatIndexes(doneIndexes);
      if (text.isEmpty()) status.remove("completedIndexes");
      else status.put("completedIndexes", text);
    }
    if (perIndex != null) status.put("failedIndexes", formatIndexes(failedIndexes));
    if (!conditions.isEmpty()) status.put("conditions", conditions);
    status.remove("uncountedTerminatedPods");
    return new Plan(create, delete, status, finishedNow, deleteJob, Math.max(0, requeue));
  }

  /**
   * How long new pods must still wait after the failures since the last success (0: none). The clock
   * is each pod's last container finish, or its creation when it never ran.
   */
  static long backoffLeft(List<JsonObject> pods, Instant now) {
    Instant lastSuccess = null;
    for (JsonObject pod : pods) {
      if (!"Succeeded".equals(Workloads.phase(pod))) continue;
      Instant t = podFinishedAt(pod);
      if (t != null && (lastSuccess == null || t.isAfter(lastSuccess))) lastSuccess = t;
    }
    int failures = 0;
    Instant lastFailure = null;
    for (JsonObject pod : pods) {
      if (!"Failed".equals(Workloads.phase(pod))) continue;
      Instant t = podFinishedAt(pod);
      if (t == null || (lastSuccess != null && !t.isAfter(lastSuccess))) continue;
      failures++;
      if (lastFailure == null || t.isAfter(lastFailure)) lastFailure = t;
    }
    if (failures == 0) return 0;
    long delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS << Math.min(20, failures - 1));
    return Math.max(0, lastFailure.toEpochMilli() + delay - now.toEpochMilli());
  }

  private static Instant podFinishedAt(JsonObject pod) {
    Instant last = null;
    for (Object o : pod.getJsonObject("status", new JsonObject()).getJsonArray("containerStatuses", new JsonArray())) {
      if (!(o instanceof JsonObject cs)) continue;
      String t = cs.getJsonObject("state", new JsonObject()).getJsonObject("terminated", new JsonObject())
          .getString("finishedAt");
      if (t != null && (last == null || Instant.parse(t).isAfter(last))) last = Instant.parse(t);
    }
    if (last != null) return last;
    String created = Meta.meta(pod).getString("creationTimestamp");
    return created == null ? null : Instant.parse(created);
  }

  private static int countIn(List<JsonObject> delete, List<JsonObject> active) {
    int n = 0;
    for (JsonObject p : delete) {
      if (active.contains(p)) n++;
    }
    return n;
  }

  private static void setSuspended(JsonArray conditions, boolean suspended, String ts) {
    JsonObject c = find(conditions, "Suspended");
    if (suspended && (c == null || !"True".equals(c.getString("status")))) {
      if (c != null) conditions.remove(c);
      conditions.add(condition("Suspended", "JobSuspended", "Job suspended", ts));
    } else if (!suspended && c != null && "True".equals(c.getString("status"))) {
      conditions.remove(c);
      conditions.add(condition("Suspended", "JobResumed", "Job resumed", ts).put("status", "False"));
    }
  }

  /** Indexed mode: one running pod per index not yet succeeded, lowest indexes first. */
  private static void planIndexed(List<JsonObject> active, TreeSet<Integer> done, int completions, int parallelism,
                                  List<Integer> create, List<JsonObject> delete) {
    Map<Integer, JsonObject> running = new HashMap<>();
    for (JsonObject pod : active) {
      int i = index(pod);
      if (i < 0 || i >= completions || done.contains(i) || running.containsKey(i)) delete.add(pod);
      else running.put(i, pod);
    }
    int room = parallelism - running.size();
    for (int i = 0; i < completions && room > 0; i++) {
      if (!done.contains(i) && !running.containsKey(i)) {
        create.add(i);
        room--;
      }
    }
  }

  static TreeSet<Integer> parseIndexes(String text) {
    TreeSet<Integer> out = new TreeSet<>();
    if (text == null || text.isBlank()) return out;
    for (String part : text.split(",")) {
      String[] ends = part.trim().split("-", 2);
      int lo = Integer.parseInt(ends[0].trim());
      int hi = ends.length == 2 ? Integer.parseInt(ends[1].trim()) : lo;
      for (int i = lo; i <= hi; i++) out.add(i);
    }
    return out;
  }

  /** Intervals as status.completedIndexes writes them: "0-2,5". */
  static String formatIndexes(TreeSet<Integer> indexes) {
    StringBuilder sb = new StringBuilder();
    Integer start = null;
    Integer prev = null;
    for (int i : indexes) {
      if (start == null) {
        start = i;
      } else if (i != prev + 1) {
        append(sb, start, prev);
        start = i;
      }
      prev = i;
    }
    if (start != null) append(sb, start, prev);
    return sb.toString();
  }

  private static void append(StringBuilder sb, int lo, int hi) {
    if (!sb.isEmpty()) sb.append(',');
    sb.append(lo);
    if (hi > lo) sb.append('-').append(hi);
  }

  private static JsonObject find(JsonArray conditions, String type) {
    for (Object o : conditions) {
      if (o instanceof JsonObject c && type.equals(c.getString("type"))) return c;
    }
    return null;
  }

  private static JsonObject condition(String type, String reason, String message, String ts) {
    return new JsonObject().put("type", type).put("status", "True").put("lastProbeTime", ts)
        .put("lastTransitionTime", ts).put("reason", reason).put("message", message);
  }

  /** The pod a job starts: its template, the job's labels, and for Indexed jobs the completion index. */
  public static JsonObject pod(JsonObject job, int index) {
    JsonObject template = spec(job).getJsonObject("template", new JsonObject());
    String name = Meta.name(job);
    JsonObject pod = Workloads.podFromTemplate(template, job, index >= 0 ? name + "-" + index + "-" : name + "-");
    JsonObject meta = Meta.meta(pod);
    JsonObject labels = meta.getJsonObject("labels", new JsonObject());
    labels.put(CONTROLLER_UID, Meta.uid(job)).put(JOB_NAME, name).put("controller-uid", Meta.uid(job))
        .put("job-name", name);
    meta.put("labels", labels);
    if (index >= 0) {
      labels.put(COMPLETION_INDEX, String.valueOf(index));
      JsonObject annotations = meta.getJsonObject("annotations", new JsonObject());
      annotations.put(COMPLETION_INDEX, String.valueOf(index));
      meta.put("annotations", annotations);
      JsonObject podSpec = pod.getJsonObject("spec");
      if (podSpec.getString("hostname") == null) podSpec.put("hostname", name + "-" + index);
      for (String list : List.of("initContainers", "containers")) {
        for (Object o : podSpec.getJsonArray(list, new JsonArray())) {
          if (!(o instanceof JsonObject c)) continue;
          JsonArray env = c.getJsonArray("env", new JsonArray());
          env.add(new JsonObject().put("name", "JOB_COMPLETION_INDEX").put("value", String.valueOf(index)));
          c.put("env", env);
        }
      }
    }
    return pod;
  }

  /**
   * The podFailurePolicy rule a failed pod matches first, as kube's job controller reads it: {action, message}, or
   * null (counted as usual). onExitCodes looks at the containers that ended with a non-zero code (one container
   * when named), onPodConditions at the pod's conditions (status True unless given).
   */
  static String[] podFailurePolicy(JsonObject spec, JsonObject pod) {
    if (!(spec.getValue("podFailurePolicy") instanceof JsonObject policy)) return null;
    JsonArray rules = policy.getJsonArray("rules", new JsonArray());
    JsonObject status = pod.getJsonObject("status", new JsonObject());
    String who = Meta.namespace(pod) + "/" + Meta.name(pod);
    for (int i = 0; i < rules.size(); i++) {
      JsonObject rule = rules.getJsonObject(i);
      String action = rule.getString("action", "");
      if (rule.getValue("onExitCodes") instanceof JsonObject codes) {
        List<JsonObject> ended = new ArrayList<>();
        for (String list : List.of("initContainerStatuses", "containerStatuses")) {
          status.getJsonArray(list, new JsonArray()).forEach(o -> ended.add((JsonObject) o));
        }
        for (JsonObject cs : ended) {
          JsonObject term = cs.getJsonObject("state", new JsonObject()).getJsonObject("terminated");
          if (term == null || term.getInteger("exitCode", 0) == 0) continue;
          if (codes.getString("containerName") != null && !codes.getString("containerName").equals(cs.getString("name"))) {
            continue;
          }
          int code = term.getInteger("exitCode");
          boolean in = codes.getJsonArray("values", new JsonArray()).stream()
              .anyMatch(v -> v instanceof Number n && n.intValue() == code);
          if (in == !"NotIn".equals(codes.getString("operator", "In"))) {
            return new String[] {action, "Container " + cs.getString("name") + " for pod " + who
                + " failed with exit code " + code + " matching " + action + " rule at index " + i};
          }
        }
      }
      if (rule.getValue("onPodConditions") instanceof JsonArray wanted) {
        for (Object w : wanted) {
          JsonObject want = (JsonObject) w;
          for (Object c : status.getJsonArray("conditions", new JsonArray())) {
            JsonObject has = (JsonObject) c;
            if (want.getString("type", "").equals(has.getString("type"))
                && want.getString("status", "True").equals(has.getString("status"))) {
              return new String[] {action, "Pod " + who + " has condition " + has.getString("type") + " matching "
                  + action + " rule at index " + i};
            }
          }
        }
      }
    }
    return null;
  }
}
