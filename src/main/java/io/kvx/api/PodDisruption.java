package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a PodDisruptionBudget allows, as the eviction subresource and the disruption controller of
 * Kubernetes reckon it: which pods a budget covers, how many of them are healthy, how many must stay
 * healthy (minAvailable, or expected minus maxUnavailable; percentages rounded up), and whether one
 * more pod may go. Pods the budget's status lists under disruptedPods (evicted within the last two
 * minutes) no longer count as healthy. The expected count is the number of covered pods that have not
 * finished (Kubernetes asks the pods' controllers for their scale; the two agree once a controller has
 * created its pods). Pure.
 */
public final class PodDisruption {

  /** How long an eviction recorded in status.disruptedPods keeps that pod out of the healthy count. */
  public static final long DISRUPTED_TTL_SECONDS = 120;

  /**
   * The status patch (strategic: conditions merge by type) that gives a pod kube's DisruptionTarget condition before
   * it is deleted for a disruption: an eviction, a taint, a preemption.
   */
  public static JsonObject disruptionTarget(String reason, String message, String now) {
    return new JsonObject().put("status", new JsonObject().put("conditions", new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("type", "DisruptionTarget").put("status", "True").put("reason", reason)
            .put("message", message).put("lastTransitionTime", now))));
  }

  public record Budget(int expectedPods, int currentHealthy, int desiredHealthy, int disruptionsAllowed) {}

  private PodDisruption() {
  }

  /** Whether the budget covers the pod (same namespace; policy/v1: an empty selector covers every pod). */
  public static boolean covers(JsonObject pdb, JsonObject pod) {
    if (!java.util.Objects.equals(Meta.namespace(pdb), Meta.namespace(pod))) return false;
    Object sel = pdb.getJsonObject("spec", new JsonObject()).getValue("selector");
    if (!(sel instanceof JsonObject selector)) return false;
    Map<String, String> labels = new HashMap<>();
    Meta.meta(pod).getJsonObject("labels", new JsonObject()).forEach(e -> labels.put(e.getKey(),
        String.valueOf(e.getValue())));
    return LabelSelector.fromJson(selector).matches(labels);
  }

  /** Ready, and not being deleted. */
  public static boolean healthy(JsonObject pod) {
    if (Meta.meta(pod).containsKey("deletionTimestamp")) return false;
    for (Object o : pod.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray())) {
      if (o instanceof JsonObject c && "Ready".equals(c.getString("type"))) return "True".equals(c.getString("status"));
    }
    return false;
  }

  private static boolean finished(JsonObject pod) {
    String phase = pod.getJsonObject("status", new JsonObject()).getString("phase", "");
    return phase.equals("Succeeded") || phase.equals("Failed");
  }

  /** The budget over {@code pods} (every pod of its namespace, or just the covered ones) at {@code now}. */
  public static Budget budget(JsonObject pdb, List<JsonObject> pods, Instant now) {
    JsonObject spec = pdb.getJsonObject("spec", new JsonObject());
    JsonObject disrupted = pdb.getJsonObject("status", new JsonObject()).getJsonObject("disruptedPods",
        new JsonObject());
    int expected = 0;
    int healthy = 0;
    for (JsonObject pod : pods) {
      if (!covers(pdb, pod) || finished(pod)) continue;
      expected++;
      if (healthy(pod) && !recentlyDisrupted(disrupted, Meta.name(pod), now)) healthy++;
    }
    int desired;
    if (spec.getValue("minAvailable") != null) {
      desired = scaled(spec.getValue("minAvailable"), expected);
    } else if (spec.getValue("maxUnavailable") != null) {
      desired = Math.max(0, expected - scaled(spec.getValue("maxUnavailable"), expected));
    } else {
      desired = 0;
    }
    return new Budget(expected, healthy, desired, Math.max(0, healthy - desired));
  }

  private static boolean recentlyDisrupted(JsonObject disrupted, String name, Instant now) {
    String at = disrupted.getString(name);
    if (at == null) return false;
    try {
      return Instant.parse(at).plusSeconds(DISRUPTED_TTL_SECONDS).isAfter(now);
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** An int-or-percent against a total; percentages round up (as for both fields of a budget). */
  static int scaled(Object value, int total) {
    if (value instanceof Number n) return n.intValue();
    String s = String.valueOf(value).trim();
    if (s.endsWith("%")) {
      int pct = Integer.parseInt(s.substring(0, s.length() - 1).trim());
      return (int) Math.ceil(pct * (double) total / 100.0);
    }
    return Integer.parseInt(s);
  }

  /**
   * Whether evicting {@code pod} may skip the budget: an unhealthy pod goes when the policy is
   * AlwaysAllow, or (IfHealthyBudget, the default) while the budget already has the healthy pods it needs.
   */
  public static boolean unhealthyMayGo(JsonObject pdb, JsonObject pod, Budget b) {
    if (healthy(pod)) return false;
    String policy = pdb.getJsonObject("spec", new JsonObject()).getString("unhealthyPodEvictionPolicy",
        "IfHealthyBudget");
    return policy.equals("AlwaysAllow") || b.currentHealthy() >= b.desiredHealthy();
  }

  /** The budget's status after {@code pod} was allowed to go at {@code now}. */
  public static JsonObject statusAfterEviction(JsonObject pdb, Budget b, String pod, Instant now) {
    JsonObject status = pdb.getJsonObject("status", new JsonObject()).copy();
    JsonObject disrupted = status.getJsonObject("disruptedPods", new JsonObject()).copy();
    disrupted.put(pod, now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    return status.put("disruptedPods", disrupted).put("disruptionsAllowed", b.disruptionsAllowed() - 1)
        .put("currentHealthy", b.currentHealthy()).put("desiredHealthy", b.desiredHealthy())
        .put("expectedPods", b.expectedPods())
        .put("observedGeneration", Meta.meta(pdb).getLong("generation", 1L));
  }

  /**
   * The status the disruption controller writes: the budget's counts, its DisruptionAllowed condition,
   * and disruptedPods without the pods that are gone, being deleted, or recorded over two minutes ago.
   */
  public static JsonObject status(JsonObject pdb, List<JsonObject> pods, Instant now) {
    JsonObject old = pdb.getJsonObject("status", new JsonObject());
    Budget b = budget(pdb, pods, now);
    Map<String, JsonObject> byName = new HashMap<>();
    for (JsonObject pod : pods) byName.put(Meta.name(pod), pod);
    JsonObject disrupted = new JsonObject();
    old.getJsonObject("disruptedPods", new JsonObject()).forEach(e -> {
      JsonObject pod = byName.get(e.getKey());
      if (pod != null && !Meta.meta(pod).containsKey("deletionTimestamp")
          && recentlyDisrupted(old.getJsonObject("disruptedPods"), e.getKey(), now)) {
        disrupted.put(e.getKey(), e.getValue());
      }
    });
    boolean allowed = b.disruptionsAllowed() > 0;
    JsonObject previous = null;
    for (Object o : old.getJsonArray("conditions", new JsonArray())) {
      if (o instanceof JsonObject c && "DisruptionAllowed".equals(c.getString("type"))) previous = c;
    }
    String conditionStatus = allowed ? "True" : "False";
    String since = previous != null && conditionStatus.equals(previous.getString("status"))
        ? previous.getString("lastTransitionTime") : now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    long generation = Meta.meta(pdb).getLong("generation", 1L);
    JsonObject condition = new JsonObject().put("type", "DisruptionAllowed").put("status", conditionStatus)
        .put("reason", allowed ? "SufficientPods" : "InsufficientPods").put("message", "")
        .put("lastTransitionTime", since).put("observedGeneration", generation);
    JsonObject out = new JsonObject().put("observedGeneration", generation)
        .put("disruptionsAllowed", b.disruptionsAllowed()).put("currentHealthy", b.currentHealthy())
        .put("desiredHealthy", b.desiredHealthy()).put("expectedPods", b.expectedPods())
        .put("conditions", new JsonArray().add(condition));
    if (!disrupted.isEmpty()) out.put("disruptedPods", disrupted);
    return out;
  }

  /** Milliseconds until the first disruptedPods entry expires (0: none). */
  public static long nextExpiryMillis(JsonObject pdb, Instant now) {
    long next = 0;
    for (Map.Entry<String, Object> e : pdb.getJsonObject("status", new JsonObject())
        .getJsonObject("disruptedPods", new JsonObject())) {
      try {
        long ms = Instant.parse(String.valueOf(e.getValue())).plusSeconds(DISRUPTED_TTL_SECONDS).toEpochMilli()
            - now.toEpochMilli();
        if (ms > 0 && (next == 0 || ms < next)) next = ms;
      } catch (RuntimeException ignored) {
        // an unreadable time expires at once
      }
    }
    return next;
  }

  /** Kubernetes' words for a budget that allows no disruption now. */
  public static String blockedMessage(String pdbName, Budget b) {
    return "The disruption budget " + pdbName + " needs " + b.desiredHealthy() + " healthy pods and has "
        + b.currentHealthy() + " currently";
  }
}
