package io.kvx.controller.daemonset;

import io.kvx.api.Meta;
import io.kvx.controller.Revisions;
import io.kvx.controller.Taints;
import io.kvx.controller.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A DaemonSet's decisions: which nodes should run its pod, where to create one, which pods to delete
 * (extra, misscheduled, failed, or old ones a rolling update may take down now), and the status.
 * Pure: the set, the nodes, its pods and the current template hash in, a plan out.
 */
public final class DaemonSetPlan {

  public static final String GENERATION_LABEL = "pod-template-generation";

  /** The DaemonSet's template generation (the API server's annotation; its generation before it had one). */
  static String templateGeneration(JsonObject ds) {
    String kept = Meta.meta(ds).getJsonObject("annotations", new JsonObject())
        .getString(io.kvx.api.Defaults.DAEMONSET_TEMPLATE_GENERATION);
    return kept != null ? kept : String.valueOf(Meta.meta(ds).getLong("generation", 1L));
  }

  /** Tolerations every daemon pod gets, so that node trouble does not evict the node's own daemons. */
  static final JsonArray DAEMON_TOLERATIONS = new JsonArray()
      .add(tol(Taints.NOT_READY, "NoExecute"))
      .add(tol(Taints.UNREACHABLE, "NoExecute"))
      .add(tol("node.kubernetes.io/disk-pressure", "NoSchedule"))
      .add(tol("node.kubernetes.io/memory-pressure", "NoSchedule"))
      .add(tol("node.kubernetes.io/pid-pressure", "NoSchedule"))
      .add(tol("node.kubernetes.io/unschedulable", "NoSchedule"));

  public record Plan(List<String> createOn, List<JsonObject> delete, JsonObject status, long requeueAfterMs) {
  }

  private DaemonSetPlan() {
  }

  private static JsonObject tol(String key, String effect) {
    return new JsonObject().put("key", key).put("operator", "Exists").put("effect", effect);
  }

  static JsonObject podSpec(JsonObject ds) {
    return ds.getJsonObject("spec", new JsonObject()).getJsonObject("template", new JsonObject())
        .getJsonObject("spec", new JsonObject());
  }

  /**
   * The template's tolerations with the daemon ones added, each replacing a toleration of the same
   * key, operator and effect (such as the 300-second defaults): a daemon stays as long as its node.
   */
  static JsonArray tolerations(JsonObject podSpec) {
    JsonArray out = new JsonArray();
    for (Object o : Taints.tolerations(podSpec)) {
      if (!(o instanceof JsonObject t)) continue;
      boolean replaced = false;
      for (Object d : DAEMON_TOLERATIONS) {
        JsonObject dt = (JsonObject) d;
        if (dt.getString("key").equals(t.getString("key")) && dt.getString("effect").equals(t.getString("effect"))
            && dt.getString("operator").equals(t.getString("operator", "Equal"))) {
          replaced = true;
        }
      }
      if (!replaced) out.add(t.copy());
    }
    for (Object t : DAEMON_TOLERATIONS) out.add(((JsonObject) t).copy());
    return out;
  }

  /** Whether the set's pod belongs on the node: selector, required node affinity, taints. */
  public static boolean shouldRun(JsonObject ds, JsonObject node) {
    return selects(ds, node) && Taints.schedulable(tolerations(podSpec(ds)), node);
  }

  /** Whether a pod already on the node may stay: NoSchedule taints added later do not remove it. */
  public static boolean mayStay(JsonObject ds, JsonObject node) {
    return selects(ds, node) && Taints.mayStay(tolerations(podSpec(ds)), node);
  }

  private static boolean selects(JsonObject ds, JsonObject node) {
    if (Workloads.isDeleting(node)) return false;
    JsonObject spec = podSpec(ds);
    Map<String, String> labels = Meta.labels(node);
    JsonObject selector = spec.getJsonObject("nodeSelector");
    if (selector != null) {
      for (Map.Entry<String, Object> e : selector) {
        if (!String.valueOf(e.getValue()).equals(labels.get(e.getKey()))) return false;
      }
    }
    JsonObject required = spec.getJsonObject("affinity", new JsonObject()).getJsonObject("nodeAffinity", new JsonObject())
        .getJsonObject("requiredDuringSchedulingIgnoredDuringExecution");
    if (required != null) {
      boolean any = false;
      for (Object o : required.getJsonArray("nodeSelectorTerms", new JsonArray())) {
        if (o instanceof JsonObject term && termMatches(term, labels, Meta.name(node))) any = true;
      }
      if (!any) return false;
    }
    return true;
  }

  private static boolean termMatches(JsonObject term, Map<String, String> labels, String nodeName) {
    JsonArray exprs = term.getJsonArray("matchExpressions", new JsonArray());
    JsonArray fields = term.getJsonArray("matchFields", new JsonArray());
    if (exprs.isEmpty() && fields.isEmpty()) return false;
    for (Object o : exprs) {
      if (!requirement((JsonObject) o, labels::get)) return false;
    }
    for (Object o : fields) {
      JsonObject r = (JsonObject) o;
      if (!requirement(r, k -> k.equals("metadata.name") ? nodeName : null)) return false;
    }
    return true;
  }

  private static boolean requirement(JsonObject r, java.util.function.Function<String, String> lookup) {
    String value = lookup.apply(r.getString("key", ""));
    List<String> values = new ArrayList<>();
    r.getJsonArray("values", new JsonArray()).forEach(v -> values.add(String.valueOf(v)));
    try {
      return switch (r.getString("operator", "")) {
        case "In" -> value != null && values.contains(value);
        case "NotIn" -> value == null || !values.contains(value);
        case "Exists" -> value != null;
        case "DoesNotExist" -> value == null;
        case "Gt" -> value != null && Long.parseLong(value) > Long.parseLong(values.getFirst());
        case "Lt" -> value != null && Long.parseLong(value) < Long.parseLong(values.getFirst());
        default -> false;
      };
    } catch (RuntimeException e) {
      return false;
    }
  }

  static String hashOf(JsonObject pod) {
    return Meta.labels(pod).get(Revisions.POD_LABEL);
  }

  static boolean onDelete(JsonObject ds) {
    return "OnDelete".equals(ds.getJsonObject("spec", new JsonObject()).getJsonObject("updateStrategy",
        new JsonObject()).getString("type"));
  }

  public static Plan plan(JsonObject ds, List<JsonObject> nodes, List<JsonObject> pods, String hash, Instant now) {
    JsonObject spec = ds.getJsonObject("spec", new JsonObject());
    int minReady = spec.getInteger("minReadySeconds", 0);
    Map<String, List<JsonObject>> byNode = new HashMap<>();
    for (JsonObject pod : pods) {
      String node = pod.getJsonObject("spec", new JsonObject()).getString("nodeName", "");
      byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(pod);
    }
    List<String> createOn = new ArrayList<>();
    List<JsonObject> delete = new ArrayList<>();
    Map<String, JsonObject> kept = new HashMap<>();
    int desired = 0;
    int current = 0;
    int misscheduled = 0;
    List<JsonObject> sortedNodes = new ArrayList<>(nodes);
    sortedNodes.sort(Comparator.comparing(Meta::name));
    for (JsonObject node : sortedNodes) {
      String name = Meta.name(node);
      List<JsonObject> here = byNode.getOrDefault(name, List.of());
      List<JsonObject> running = new ArrayList<>();
      boolean terminating = false;
      for (JsonObject pod : here) {
        if (Workloads.isDeleting(pod)) terminating = true;
        else if ("Failed".equals(Workloads.phase(pod))) delete.add(pod);
        else if (!"Succeeded".equals(Workloads.phase(pod))) running.add(pod);
      }
      if (shouldRun(ds, node)) {
        desired++;
        if (running.isEmpty()) {
          // A pod still going away (or failed, deleted just now) is replaced on a later sync.
          if (!terminating && here.stream().noneMatch(delete::contains)) createOn.add(name);
          continue;
        }
        current++;
        // Keep one: an up-to-date pod if there is one, then the oldest.
        running.sort(Comparator.<JsonObject>comparingInt(p -> hash.equals(hashOf(p)) ? 0 : 1)
            .thenComparing(p -> Meta.meta(p).getString("creationTimestamp", "")));
        kept.put(name, running.getFirst());
        delete.addAll(running.subList(1, running.size()));
      } else if (!running.isEmpty()) {
        misscheduled++;
        if (!mayStay(ds, node)) delete.addAll(running);
      }
    }
    // Pods on nodes that no longer exist.
    for (Map.Entry<String, List<JsonObject>> e : byNode.entrySet()) {
      boolean known = nodes.stream().anyMatch(n -> Meta.name(n).equals(e.getKey()));
      if (!known) {
        for (JsonObject pod : e.getValue()) {
          if (!Workloads.isDeleting(pod) && !delete.contains(pod)) delete.add(pod);
        }
      }
    }
    int ready = 0;
    int available = 0;
    int updated = 0;
    long requeue = 0;
    for (JsonObject pod : kept.values()) {
      if (Workloads.isReady(pod)) ready++;
      if (Workloads.isAvailable(pod, minReady, now)) available++;
      else {
        long wait = Workloads.secondsUntilAvailable(pod, minReady, now);
        if (wait > 0 && (requeue == 0 || wait * 1000 + 100 < requeue)) requeue = wait * 1000 + 100;
      }
      if (hash.equals(hashOf(pod))) updated++;
    }
    if (!onDelete(ds)) {
      JsonObject ru = spec.getJsonObject("updateStrategy", new JsonObject())
          .getJsonObject("rollingUpdate", new JsonObject());
      int maxUnavailable = Math.max(1, Workloads.intOrPercent(ru.getValue("maxUnavailable", 1), desired, true));
      int unavailable = desired - available;
      List<JsonObject> old = kept.values().stream().filter(p -> !hash.equals(hashOf(p)))
          .sorted(Comparator.comparing(p -> p.getJsonObject("spec").getString("nodeName", ""))).toList();
      for (JsonObject pod : old) {
        if (!Workloads.isAvailable(pod, minReady, now)) {
          delete.add(pod);
        } else if (unavailable < maxUnavailable) {
          delete.add(pod);
          unavailable++;
        }
      }
    }
    JsonObject status = ds.getJsonObject("status", new JsonObject()).copy()
        .put("desiredNumberScheduled", desired).put("currentNumberScheduled", current)
        .put("numberMisscheduled", misscheduled).put("numberReady", ready).put("numberAvailable", available)
        .put("numberUnavailable", desired - available).put("updatedNumberScheduled", updated)
        .put("observedGeneration", Meta.meta(ds).getLong("generation", 1L));
    if (status.getInteger("numberAvailable") == 0) status.remove("numberAvailable");
    if (status.getInteger("numberUnavailable") == 0) status.remove("numberUnavailable");
    if (status.getInteger("updatedNumberScheduled") == 0) status.remove("updatedNumberScheduled");
    return new Plan(createOn, delete, status, requeue);
  }

  /** The daemon pod for a node: the template, pinned to the node, with the daemon tolerations. */
  public static JsonObject pod(JsonObject ds, JsonObject template, String hash, String nodeName) {
    JsonObject pod = Workloads.podFromTemplate(template, ds, Meta.name(ds) + "-");
    JsonObject meta = Meta.meta(pod);
    JsonObject labels = meta.getJsonObject("labels", new JsonObject());
    labels.put(Revisions.POD_LABEL, hash).put(GENERATION_LABEL, templateGeneration(ds));
    meta.put("labels", labels);
    JsonObject spec = pod.getJsonObject("spec");
    spec.put("tolerations", tolerations(spec));
    spec.put("nodeName", nodeName);
    return pod;
  }
}
