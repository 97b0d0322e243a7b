package io.kvx.controller.nodelifecycle;

import io.kvx.api.Meta;
import io.kvx.controller.Taints;
import io.kvx.controller.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The node lifecycle decisions for one node: is its kubelet still heard from (Lease renewals or
 * status heartbeats within the grace period)? If not, its conditions become Unknown; a node that is
 * not Ready carries the not-ready or unreachable taints (NoSchedule and NoExecute); pods that do not
 * tolerate a NoExecute taint, or whose tolerationSeconds have run out, are evicted. Pure.
 */
public final class NodeHealth {

  public static final String STOPPED = "Kubelet stopped posting node status.";

  /** Tunables, from the controller manager's config. {@code maxTolerationSeconds} < 0: no cap. */
  public record Settings(long gracePeriodSeconds, long maxTolerationSeconds) {
    public static final Settings DEFAULT = new Settings(40, -1);
  }

  /**
   * {@code conditions}: the node's new status.conditions, or null if unchanged; {@code taints}: the new
   * spec.taints, or null if unchanged; {@code evict}: pods to delete now; {@code requeueAfterMs}: when
   * to look again even if nothing changes (a lease running out, a toleration expiring), 0 for never.
   */
  public record Decision(JsonArray conditions, JsonArray taints, List<JsonObject> evict, List<PodReady> notReady,
                         long requeueAfterMs) {
  }

  /** A pod on a node gone silent and its conditions with Ready (and ContainersReady) now False. */
  public record PodReady(JsonObject pod, JsonArray conditions) {
  }

  private NodeHealth() {
  }

  /** The last time the node's kubelet was heard from, or null. */
  static Instant lastHeard(JsonObject node, JsonObject lease) {
    Instant last = null;
    if (lease != null) last = parse(lease.getJsonObject("spec", new JsonObject()).getString("renewTime"));
    JsonObject ready = Workloads.condition(node, "Ready");
    Instant beat = ready == null ? null : parse(ready.getString("lastHeartbeatTime"));
    if (beat != null && (last == null || beat.isAfter(last))) last = beat;
    return last;
  }

  private static Instant parse(String t) {
    try {
      return t == null ? null : Instant.parse(t);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * {@code watchingSince}: when this controller started watching. Like Kubernetes' node controller it
   * trusts no clock from before then: a node gets a full grace period, and a pod its full
   * toleration, counted from no earlier than that moment.
   */
  public static Decision decide(JsonObject node, JsonObject lease, List<JsonObject> pods, Instant now,
                                Instant watchingSince, Settings settings) {
    String ts = now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    Instant heard = lastHeard(node, lease);
    if (heard == null) heard = parse(Meta.meta(node).getString("creationTimestamp"));
    if (heard == null || heard.isBefore(watchingSince)) heard = watchingSince;
    long graceMs = settings.gracePeriodSeconds() * 1000;
    boolean stale = heard.toEpochMilli() + graceMs < now.toEpochMilli();
    JsonArray oldConditions = node.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray());
    JsonArray conditions = null;
    if (stale) {
      JsonArray updated = new JsonArray();
      boolean changed = false;
      boolean sawReady = false;
      for (Object o : oldConditions) {
        JsonObject c = ((JsonObject) o).copy();
        if ("Ready".equals(c.getString("type"))) sawReady = true;
        if (!"Unknown".equals(c.getString("status"))) {
          c.put("status", "Unknown").put("reason", "NodeStatusUnknown").put("message", STOPPED)
              .put("lastTransitionTime", ts);
          changed = true;
        }
        updated.add(c);
      }
      if (!sawReady) {
        updated.add(new JsonObject().put("type", "Ready").put("status", "Unknown").put("reason", "NodeStatusNeverUpdated")
            .put("message", "Kubelet never posted node status.").put("lastHeartbeatTime", ts)
            .put("lastTransitionTime", ts));
        changed = true;
      }
      if (changed) conditions = updated;
    }
    JsonArray effective = conditions != null ? conditions : oldConditions;
    String ready = "Unknown";
    boolean hasReady = false;
    for (Object o : effective) {
      JsonObject c = (JsonObject) o;
      if ("Ready".equals(c.getString("type"))) {
        ready = c.getString("status", "Unknown");
        hasReady = true;
      }
    }
    String wantKey = !hasReady || ready.equals("True") ? null : ready.equals("False") ? Taints.NOT_READY
        : Taints.UNREACHABLE;
    List<JsonObject> oldTaints = Taints.of(node);
    JsonArray taints = new JsonArray();
    for (JsonObject t : oldTaints) {
      String key = t.getString("key");
      boolean ours = Taints.NOT_READY.equals(key) || Taints.UNREACHABLE.equals(key);
      boolean ourEffect = "NoSchedule".equals(t.getString("effect")) || "NoExecute".equals(t.getString("effect"));
      if (!ours || !ourEffect || key.equals(wantKey)) {
        // A NoExecute taint put without its time (kubectl taint): stamped when first seen, so that tolerationSeconds
        // count from then rather than from each look.
        if ("NoExecute".equals(t.getString("effect")) && t.getValue("timeAdded") == null) t = t.copy().put("timeAdded", ts);
        taints.add(t);
      }
    }
    if (wantKey != null) {
      for (String effect : List.of("NoSchedule", "NoExecute")) {
        boolean present = false;
        for (Object o : taints) {
          JsonObject t = (JsonObject) o;
          if (wantKey.equals(t.getString("key")) && effect.equals(t.getString("effect"))) present = true;
        }
        if (!present) {
          JsonObject t = new JsonObject().put("key", wantKey).put("effect", effect);
          if (effect.equals("NoExecute")) t.put("timeAdded", ts);
          taints.add(t);
        }
      }
    }
    // A cordoned node (spec.unschedulable) carries the unschedulable taint, as kube's TaintNodeByCondition adds it.
    boolean cordoned = node.getJsonObject("spec", new JsonObject()).getBoolean("unschedulable", false);
    boolean tainted = taints.stream().anyMatch(t -> Taints.UNSCHEDULABLE.equals(((JsonObject) t).getString("key")));
    if (cordoned && !tainted) {
      taints.add(new JsonObject().put("key", Taints.UNSCHEDULABLE).put("effect", "NoSchedule").put("timeAdded", ts));
    } else if (!cordoned && tainted) {
      JsonArray kept = new JsonArray();
      for (Object t : taints) {
        if (!Taints.UNSCHEDULABLE.equals(((JsonObject) t).getString("key"))) kept.add(t);
      }
      taints = kept;
    }
    boolean taintsChanged = !new JsonArray(new ArrayList<>(oldTaints)).equals(taints);

    List<JsonObject> evict = new ArrayList<>();
    // A silent node changes only by an event (its lease renewed); a live one must be looked at when it would expire.
    long requeue = stale ? Long.MAX_VALUE : Math.max(1000, heard.toEpochMilli() + graceMs - now.toEpochMilli() + 500);
    for (Object o : taints) {
      JsonObject taint = (JsonObject) o;
      if (!"NoExecute".equals(taint.getString("effect"))) continue;
      Instant added = parse(taint.getString("timeAdded"));
      if (added == null) added = now;
      if (added.isBefore(watchingSince)) added = watchingSince;
      for (JsonObject pod : pods) {
        if (Workloads.isDeleting(pod) || evict.contains(pod)) continue;
        String phase = Workloads.phase(pod);
        if (phase.equals("Succeeded") || phase.equals("Failed")) continue;
        JsonObject toleration = Taints.toleratedBy(Taints.tolerations(pod.getJsonObject("spec")), taint);
        if (toleration == null) {
          evict.add(pod);
          continue;
        }
        // Tolerated without tolerationSeconds: the pod stays for as long as the taint does.
        if (!(toleration.getValue("tolerationSeconds") instanceof Number n)) continue;
        long seconds = Math.max(0, n.longValue());
        if (settings.maxTolerationSeconds() >= 0) seconds = Math.min(seconds, settings.maxTolerationSeconds());
        long left = added.plusSeconds(seconds).toEpochMilli() - now.toEpochMilli();
        if (left <= 0) evict.add(pod);
        else requeue = Math.min(requeue, left + 100);
      }
    }
    List<PodReady> notReady = new ArrayList<>();
    if (stale) {
      // Nobody reports on these pods any more: they must leave service endpoints now, not at eviction.
      for (JsonObject pod : pods) {
        if (evict.contains(pod) || Workloads.isDeleting(pod) || !Workloads.isReady(pod)) continue;
        JsonArray podConditions = new JsonArray();
        for (Object o : pod.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray())) {
          JsonObject c = ((JsonObject) o).copy();
          if (("Ready".equals(c.getString("type")) || "ContainersReady".equals(c.getString("type")))
              && "True".equals(c.getString("status"))) {
            c.put("status", "False").put("reason", "NodeNotReady").put("lastTransitionTime", ts);
          }
          podConditions.add(c);
        }
        notReady.add(new PodReady(pod, podConditions));
      }
    }
    return new Decision(conditions, taintsChanged ? taints : null, evict, notReady,
        requeue == Long.MAX_VALUE ? 0 : requeue);
  }
}
