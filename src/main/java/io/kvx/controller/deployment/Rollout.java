package io.kvx.controller.deployment;

import io.kvx.api.Meta;
import io.kvx.controller.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Deployment's rollout arithmetic: how far to scale the new and old ReplicaSets this step, and the
 * status to report. Pure: ReplicaSets in, replica counts and a status out.
 */
public final class Rollout {

  /** Target spec.replicas per ReplicaSet name, only for those that change. */
  public record Plan(Map<String, Integer> scales) {
  }

  private Rollout() {
  }

  static int replicas(JsonObject obj) {
    return obj.getJsonObject("spec", new JsonObject()).getInteger("replicas", 0);
  }

  static int statusCount(JsonObject obj, String field) {
    return obj == null ? 0 : obj.getJsonObject("status", new JsonObject()).getInteger(field, 0);
  }

  static boolean recreate(JsonObject d) {
    return "Recreate".equals(d.getJsonObject("spec").getJsonObject("strategy", new JsonObject()).getString("type"));
  }

  static int maxSurge(JsonObject d) {
    int replicas = replicas(d);
    JsonObject ru = d.getJsonObject("spec").getJsonObject("strategy", new JsonObject())
        .getJsonObject("rollingUpdate", new JsonObject());
    int surge = Workloads.intOrPercent(ru.getValue("maxSurge", "25%"), replicas, true);
    int unavailable = Workloads.intOrPercent(ru.getValue("maxUnavailable", "25%"), replicas, false);
    return surge == 0 && unavailable == 0 ? 0 : surge;
  }

  static int maxUnavailable(JsonObject d) {
    int replicas = replicas(d);
    if (recreate(d)) return replicas;
    JsonObject ru = d.getJsonObject("spec").getJsonObject("strategy", new JsonObject())
        .getJsonObject("rollingUpdate", new JsonObject());
    int surge = Workloads.intOrPercent(ru.getValue("maxSurge", "25%"), replicas, true);
    int unavailable = Workloads.intOrPercent(ru.getValue("maxUnavailable", "25%"), replicas, false);
    // Both zero would deadlock a rollout; Kubernetes then allows one unavailable pod.
    if (surge == 0 && unavailable == 0) unavailable = 1;
    return Math.min(unavailable, replicas);
  }

  /** The size a just-created new ReplicaSet starts with. */
  static int initialReplicas(JsonObject d, List<JsonObject> old) {
    int replicas = replicas(d);
    int oldTotal = old.stream().mapToInt(Rollout::replicas).sum();
    if (recreate(d)) return oldTotal == 0 ? replicas : 0;
    if (oldTotal == 0) return replicas;
    return Math.max(0, Math.min(replicas, replicas + maxSurge(d) - oldTotal));
  }

  /** One step of the rollout. {@code oldActivePods} counts pods of old ReplicaSets still present. */
  public static Plan plan(JsonObject d, JsonObject newRs, List<JsonObject> old, int oldActivePods) {
    Map<String, Integer> out = new LinkedHashMap<>();
    int replicas = replicas(d);
    if (newRs == null) return new Plan(out);
    int newReplicas = replicas(newRs);
    if (recreate(d)) {
      boolean oldRunning = false;
      for (JsonObject rs : old) {
        if (replicas(rs) > 0) {
          out.put(Meta.name(rs), 0);
          oldRunning = true;
        }
      }
      if (!oldRunning && oldActivePods == 0 && newReplicas != replicas) out.put(Meta.name(newRs), replicas);
      return new Plan(out);
    }
    int total = newReplicas + old.stream().mapToInt(Rollout::replicas).sum();
    if (newReplicas > replicas) {
      out.put(Meta.name(newRs), replicas);
    } else if (newReplicas < replicas) {
      int room = replicas + maxSurge(d) - total;
      if (room > 0) out.put(Meta.name(newRs), newReplicas + Math.min(room, replicas - newReplicas));
    }
    int minAvailable = replicas - maxUnavailable(d);
    int newUnavailable = Math.max(0, newReplicas - statusCount(newRs, "availableReplicas"));
    int maxScaledDown = total - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return new Plan(out);
    Map<String, Integer> sizes = new LinkedHashMap<>();
    old.forEach(rs -> sizes.put(Meta.name(rs), replicas(rs)));
    // Unhealthy old pods go first: they cost no availability.
    int budget = maxScaledDown;
    for (JsonObject rs : old) {
      int size = sizes.get(Meta.name(rs));
      int unhealthy = size - Math.min(size, statusCount(rs, "availableReplicas"));
      int down = Math.min(budget, unhealthy);
      if (down > 0) {
        sizes.put(Meta.name(rs), size - down);
        budget -= down;
      }
    }
    int available = statusCount(newRs, "availableReplicas");
    for (JsonObject rs : old) available += Math.min(sizes.get(Meta.name(rs)), statusCount(rs, "availableReplicas"));
    int canScaleDown = Math.min(budget, available - minAvailable);
    for (JsonObject rs : old) {
      if (canScaleDown <= 0) break;
      int size = sizes.get(Meta.name(rs));
      int down = Math.min(size, canScaleDown);
      sizes.put(Meta.name(rs), size - down);
      canScaleDown -= down;
    }
    for (JsonObject rs : old) {
      if (sizes.get(Meta.name(rs)) != replicas(rs)) out.put(Meta.name(rs), sizes.get(Meta.name(rs)));
    }
    return new Plan(out);
  }

  static final String DESIRED = "deployment.kubernetes.io/desired-replicas";
  static final String MAX = "deployment.kubernetes.io/max-replicas";

  /** The sizing annotations a ReplicaSet gets whenever the controller sizes it: the Deployment's replicas, + surge. */
  public static JsonObject sizeAnnotations(JsonObject d) {
    return new JsonObject().put(DESIRED, String.valueOf(replicas(d)))
        .put(MAX, String.valueOf(replicas(d) + (recreate(d) ? 0 : maxSurge(d))));
  }

  /**
   * Kube's isScalingEvent: the Deployment was resized since an active ReplicaSet was last sized (its desired-replicas
   * annotation says another size). Then the sets are resized proportionally ({@link #scale}) instead of rolled.
   */
  public static boolean isScalingEvent(JsonObject d, JsonObject newRs, List<JsonObject> old) {
    for (JsonObject rs : all(newRs, old)) {
      String desired = Meta.meta(rs).getJsonObject("annotations", new JsonObject()).getString(DESIRED);
      if (replicas(rs) > 0 && desired != null && !desired.equals(String.valueOf(replicas(d)))) return true;
    }
    return false;
  }

  private static List<JsonObject> all(JsonObject newRs, List<JsonObject> old) {
    List<JsonObject> all = new java.util.ArrayList<>(old);
    if (newRs != null) all.add(newRs);
    return all;
  }

  /**
   * Kube's scale(): one active (or else the newest) ReplicaSet takes the whole size; a saturated new one leaves the
   * old at zero; otherwise, rolling, the replicas added or removed are spread over the active sets in proportion to
   * their sizes (by each set's max-replicas annotation), the remainder to the largest.
   */
  public static Plan scale(JsonObject d, JsonObject newRs, List<JsonObject> old) {
    Map<String, Integer> out = new LinkedHashMap<>();
    int replicas = replicas(d);
    List<JsonObject> active = all(newRs, old).stream().filter(rs -> replicas(rs) > 0).toList();
    if (active.size() <= 1) {
      JsonObject only = !active.isEmpty() ? active.get(0) : newRs != null ? newRs
          : old.stream().max(java.util.Comparator.comparing(rs -> Meta.meta(rs).getString("creationTimestamp", "")))
              .orElse(null);
      if (only != null) out.put(Meta.name(only), replicas);
      return resized(out, d, all(newRs, old));
    }
    if (newRs != null && replicas(newRs) == replicas && statusCount(newRs, "availableReplicas") == replicas) {
      for (JsonObject rs : old) {
        if (replicas(rs) > 0) out.put(Meta.name(rs), 0);
      }
      return resized(out, d, active);
    }
    if (recreate(d)) return resized(out, d, active);
    int allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    int toAdd = allowed - active.stream().mapToInt(Rollout::replicas).sum();
    if (toAdd == 0) return resized(out, d, active);
    // Larger first; among equals the newer first when adding, the older first when removing.
    java.util.Comparator<JsonObject> byAge = java.util.Comparator.comparing(rs -> Meta.meta(rs)
        .getString("creationTimestamp", ""));
    List<JsonObject> sorted = active.stream().sorted(java.util.Comparator.comparingInt(Rollout::replicas).reversed()
        .thenComparing(toAdd > 0 ? byAge.reversed() : byAge)).toList();
    Map<String, Integer> sizes = new LinkedHashMap<>();
    int added = 0;
    for (JsonObject rs : sorted) {
      int proportion = proportion(rs, d, toAdd, added);
      sizes.put(Meta.name(rs), replicas(rs) + proportion);
      added += proportion;
    }
    String largest = Meta.name(sorted.get(0));
    sizes.put(largest, Math.max(0, sizes.get(largest) + toAdd - added));
    out.putAll(sizes);
    return resized(out, d, active);
  }

  /**
   * The plan with every set whose size or sizing annotations change (kube's scaleReplicaSet writes both): an active set
   * sized for another Deployment size is written even at the same size, so the scaling event is over.
   */
  private static Plan resized(Map<String, Integer> sizes, JsonObject d, List<JsonObject> sets) {
    Map<String, Integer> out = new LinkedHashMap<>();
    JsonObject wanted = sizeAnnotations(d);
    for (JsonObject rs : sets) {
      Integer size = sizes.get(Meta.name(rs));
      JsonObject annotations = Meta.meta(rs).getJsonObject("annotations", new JsonObject());
      boolean stale = replicas(rs) > 0 && !wanted.getValue(DESIRED).equals(annotations.getValue(DESIRED));
      if (size != null && size != replicas(rs) || stale) out.put(Meta.name(rs), size == null ? replicas(rs) : size);
    }
    return new Plan(out);
  }

  /** Kube's GetProportion: a set's share of the replicas to add (or remove, negative), within what is left. */
  private static int proportion(JsonObject rs, JsonObject d, int toAdd, int added) {
    if (replicas(rs) == 0 || toAdd == added) return 0;
    int fraction;
    if (replicas(d) == 0) {
      fraction = -replicas(rs);
    } else {
      int deploymentReplicas = replicas(d) + maxSurge(d);
      String max = Meta.meta(rs).getJsonObject("annotations", new JsonObject()).getString(MAX);
      int annotated;
      try {
        annotated = max != null ? Integer.parseInt(max) : statusCount(d, "replicas");
      } catch (NumberFormatException e) {
        annotated = statusCount(d, "replicas");
      }
      if (annotated <= 0) annotated = Math.max(1, replicas(rs));
      fraction = (int) Math.round((double) replicas(rs) * deploymentReplicas / annotated) - replicas(rs);
    }
    int left = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
  }

  /** DeploymentStatus with the Available and Progressing conditions. */
  public static JsonObject status(JsonObject d, JsonObject newRs, List<JsonObject> old, Instant now) {
    int replicas = replicas(d);
    int total = statusCount(newRs, "replicas");
    int ready = statusCount(newRs, "readyReplicas");
    int available = statusCount(newRs, "availableReplicas");
    int specTotal = newRs == null ? 0 : replicas(newRs);
    for (JsonObject rs : old) {
      total += statusCount(rs, "replicas");
      ready += statusCount(rs, "readyReplicas");
      available += statusCount(rs, "availableReplicas");
      specTotal += replicas(rs);
    }
    int updated = statusCount(newRs, "replicas");
    JsonObject prev = d.getJsonObject("status", new JsonObject());
    JsonObject status = new JsonObject().put("observedGeneration", Meta.meta(d).getLong("generation", 1L))
        .put("replicas", total).put("updatedReplicas", updated).put("readyReplicas", ready)
        .put("availableReplicas", available).put("unavailableReplicas", Math.max(0, specTotal - available));
    // DeploymentStatus's counts are omitempty in Kubernetes: a zero is not written.
    for (String f : COUNTS) {
      if (status.getInteger(f) == 0) status.remove(f);
    }
    String ts = now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    JsonArray conditions = new JsonArray();
    boolean minAvailable = available >= replicas - maxUnavailable(d);
    conditions.add(condition(prev, "Available", minAvailable ? "True" : "False",
        minAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
        minAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", ts));
    String rsName = newRs == null ? Meta.name(d) : Meta.name(newRs);
    boolean complete = newRs != null && updated == replicas && total == replicas && available == replicas
        && replicas(newRs) == replicas;
    boolean paused = d.getJsonObject("spec").getBoolean("paused", false);
    JsonObject progressing;
    if (paused) {
      progressing = condition(prev, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", ts);
    } else if (complete) {
      progressing = condition(prev, "Progressing", "True", "NewReplicaSetAvailable",
          "ReplicaSet \"" + rsName + "\" has successfully progressed.", ts);
    } else {
      JsonObject last = find(prev, "Progressing");
      boolean moved = !sameCounts(prev, status) || last == null || "NewReplicaSetAvailable".equals(last.getString("reason"))
          || "DeploymentPaused".equals(last.getString("reason"));
      long deadline = d.getJsonObject("spec").getLong("progressDeadlineSeconds", 600L);
      String lastUpdate = last == null ? ts : last.getString("lastUpdateTime", ts);
      if (!moved && "ProgressDeadlineExceeded".equals(last.getString("reason"))) {
        progressing = last.copy();
      } else if (!moved && Instant.parse(lastUpdate).plusSeconds(deadline).isBefore(now)) {
        progressing = condition(prev, "Progressing", "False", "ProgressDeadlineExceeded",
            "ReplicaSet \"" + rsName + "\" has timed out progressing.", ts);
      } else {
        progressing = condition(prev, "Progressing", "True", "ReplicaSetUpdated",
            "ReplicaSet \"" + rsName + "\" is progressing.", ts);
        progressing.put("lastUpdateTime", moved ? ts : lastUpdate);
      }
    }
    conditions.add(progressing);
    // As kube's: a ReplicaSet's ReplicaFailure (the new one's first) is the Deployment's too, while it lasts.
    List<JsonObject> sets = new java.util.ArrayList<>();
    if (newRs != null) sets.add(newRs);
    sets.addAll(old);
    for (JsonObject rs : sets) {
      JsonObject failure = io.kvx.controller.Workloads.condition(rs, "ReplicaFailure");
      if (failure != null && "True".equals(failure.getString("status"))) {
        String at = failure.getString("lastTransitionTime", ts);
        conditions.add(new JsonObject().put("type", "ReplicaFailure").put("status", "True")
            .put("lastUpdateTime", at).put("lastTransitionTime", at)
            .put("reason", failure.getString("reason", "")).put("message", failure.getString("message", "")));
        break;
      }
    }
    status.put("conditions", conditions);
    return status;
  }

  private static boolean sameCounts(JsonObject a, JsonObject b) {
    for (String f : List.of("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")) {
      if (a.getInteger(f, 0).intValue() != b.getInteger(f, 0).intValue()) return false;
    }
    return true;
  }

  private static JsonObject find(JsonObject status, String type) {
    for (Object o : status.getJsonArray("conditions", new JsonArray())) {
      if (o instanceof JsonObject c && type.equals(c.getString("type"))) return c;
    }
    return null;
  }

  private static JsonObject condition(JsonObject prevStatus, String type, String status, String reason,
                                      String message, String now) {
    JsonObject prev = find(prevStatus, type);
    String transition = prev != null && status.equals(prev.getString("status"))
        ? prev.getString("lastTransitionTime", now) : now;
    String update = prev != null && status.equals(prev.getString("status")) && reason.equals(prev.getString("reason"))
        ? prev.getString("lastUpdateTime", now) : now;
    return new JsonObject().put("type", type).put("status", status).put("lastUpdateTime", update)
        .put("lastTransitionTime", transition).put("reason", reason).put("message", message);
  }

  /** Annotations a Deployment keeps to itself; every other one is copied to its new ReplicaSet. */
  private static final java.util.Set<String> NOT_COPIED = java.util.Set.of(
      "kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision",
      "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
      "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to");

  /**
   * The Deployment's annotations the new ReplicaSet lacks or holds otherwise (kubernetes.io/change-cause
   * among them), as Kubernetes' deployment controller copies them on every sync; empty when in step.
   */
  public static JsonObject annotationsToCopy(JsonObject deployment, JsonObject rs) {
    JsonObject from = Meta.meta(deployment).getJsonObject("annotations", new JsonObject());
    JsonObject have = rs == null ? new JsonObject() : Meta.meta(rs).getJsonObject("annotations", new JsonObject());
    JsonObject out = new JsonObject();
    for (String k : from.fieldNames()) {
      if (!NOT_COPIED.contains(k) && !java.util.Objects.equals(from.getValue(k), have.getValue(k))) {
        out.put(k, from.getValue(k));
      }
    }
    return out;
  }

  /**
   * A status as a merge patch: the counts it leaves out (zero) are written as nulls, so a stored count
   * from before goes instead of staying behind.
   */
  public static JsonObject asMergePatch(JsonObject status) {
    JsonObject patch = status.copy();
    for (String f : COUNTS) {
      if (!patch.containsKey(f)) patch.putNull(f);
    }
    return patch;
  }

  private static final List<String> COUNTS = List.of("replicas", "updatedReplicas", "readyReplicas",
      "availableReplicas", "unavailableReplicas");

  /** Equal apart from timestamps: no write needed. */
  public static boolean sameStatus(JsonObject a, JsonObject b) {
    return strip(a).equals(strip(b));
  }

  private static JsonObject strip(JsonObject status) {
    JsonObject s = new JsonObject();
    for (String f : List.of("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
        "unavailableReplicas")) {
      s.put(f, status.getValue(f) == null ? 0L : ((Number) status.getValue(f)).longValue());
    }
    JsonArray cs = new JsonArray();
    for (Object o : status.getJsonArray("conditions", new JsonArray())) {
      JsonObject c = ((JsonObject) o).copy();
      c.remove("lastTransitionTime");
      c.remove("lastUpdateTime");
      cs.add(c);
    }
    return s.put("conditions", cs);
  }
}
