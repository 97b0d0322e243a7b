package io.kvx.controller.statefulset;

import io.kvx.api.Meta;
import io.kvx.controller.Revisions;
import io.kvx.controller.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A StatefulSet's decisions: pods {@code <name>-<ordinal>} created in order and removed from the top
 * (OrderedReady: one at a time, each waiting for the ones below it to be Running and Ready; Parallel:
 * all at once), the rolling update from the highest ordinal down to the partition, and the status.
 * Pure: the set, its pods and its two revisions in, a plan out.
 */
public final class StatefulSetPlan {

  public static final String POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
  public static final String POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

  /**
   * {@code create}: ordinals to create now; {@code deleteClaims}: claims of members removed by a scale
   * down under {@code whenScaled: Delete}; {@code requeueAfterMs}: when a ready member becomes available.
   */
  public record Plan(List<Integer> create, List<JsonObject> delete, List<String> deleteClaims, JsonObject status,
                     long requeueAfterMs) {
  }

  private StatefulSetPlan() {
  }

  /** The ordinal in a pod named {@code <set>-<n>}, or -1. */
  public static int ordinal(JsonObject set, JsonObject pod) {
    String prefix = Meta.name(set) + "-";
    String name = Meta.name(pod);
    if (!name.startsWith(prefix)) return -1;
    try {
      int n = Integer.parseInt(name.substring(prefix.length()));
      return n >= 0 && String.valueOf(n).equals(name.substring(prefix.length())) ? n : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static JsonObject spec(JsonObject set) {
    return set.getJsonObject("spec", new JsonObject());
  }

  static int start(JsonObject set) {
    return spec(set).getJsonObject("ordinals", new JsonObject()).getInteger("start", 0);
  }

  static boolean parallel(JsonObject set) {
    return "Parallel".equals(spec(set).getString("podManagementPolicy"));
  }

  static boolean rollingUpdate(JsonObject set) {
    return !"OnDelete".equals(spec(set).getJsonObject("updateStrategy", new JsonObject()).getString("type"));
  }

  static int partition(JsonObject set) {
    return spec(set).getJsonObject("updateStrategy", new JsonObject()).getJsonObject("rollingUpdate", new JsonObject())
        .getInteger("partition", 0);
  }

  static String revisionOf(JsonObject pod) {
    return Meta.labels(pod).get(Revisions.POD_LABEL);
  }

  static boolean runningAndReady(JsonObject pod) {
    return "Running".equals(Workloads.phase(pod)) && Workloads.isReady(pod) && !Workloads.isDeleting(pod);
  }

  static boolean terminal(JsonObject pod) {
    String phase = Workloads.phase(pod);
    return phase.equals("Failed") || phase.equals("Succeeded");
  }

  /** The revision a new pod at this ordinal gets: below the partition, the current one. */
  public static String revisionFor(JsonObject set, int ordinal, String currentRevision, String updateRevision) {
    return rollingUpdate(set) && ordinal - start(set) < partition(set) ? currentRevision : updateRevision;
  }

  public static Plan plan(JsonObject set, List<JsonObject> pods, String currentRevision, String updateRevision,
                          Instant now) {
    int replicas = spec(set).getInteger("replicas", 1);
    int first = start(set);
    boolean ordered = !parallel(set);
    TreeMap<Integer, JsonObject> valid = new TreeMap<>();
    TreeMap<Integer, JsonObject> condemned = new TreeMap<>(Comparator.reverseOrder());
    for (JsonObject pod : pods) {
      int n = ordinal(set, pod);
      if (n < 0) continue;
      if (n >= first && n < first + replicas) valid.put(n, pod);
      else condemned.put(n, pod);
    }
    List<Integer> create = new ArrayList<>();
    List<JsonObject> delete = new ArrayList<>();
    boolean blocked = false;
    boolean allHealthy = true;
    for (int n = first; n < first + replicas; n++) {
      JsonObject pod = valid.get(n);
      if (pod == null) {
        allHealthy = false;
        if (!blocked) create.add(n);
        if (ordered) blocked = true;
      } else if (terminal(pod) && !Workloads.isDeleting(pod)) {
        // A failed (or finished) member is replaced under the same name: delete, recreate once gone.
        allHealthy = false;
        if (!blocked) delete.add(pod);
        if (ordered) blocked = true;
      } else if (!runningAndReady(pod)) {
        allHealthy = false;
        if (ordered) blocked = true;
      }
    }
    for (Map.Entry<Integer, JsonObject> e : condemned.entrySet()) {
      JsonObject pod = e.getValue();
      if (blocked) break;
      if (Workloads.isDeleting(pod)) {
        if (ordered) blocked = true;
        continue;
      }
      if (ordered && !allHealthy) {
        blocked = true;
        break;
      }
      delete.add(pod);
      if (ordered) blocked = true;
    }
    boolean condemnedLeft = !condemned.isEmpty();
    if (rollingUpdate(set) && allHealthy && !condemnedLeft && create.isEmpty() && delete.isEmpty()) {
      int partition = partition(set);
      for (int n = first + replicas - 1; n >= first + partition; n--) {
        JsonObject pod = valid.get(n);
        if (pod != null && !updateRevision.equals(revisionOf(pod))) {
          delete.add(pod);
          break;
        }
      }
    }
    List<String> deleteClaims = new ArrayList<>();
    JsonObject retention = spec(set).getJsonObject("persistentVolumeClaimRetentionPolicy", new JsonObject());
    if ("Delete".equals(retention.getString("whenScaled"))) {
      for (JsonObject pod : delete) {
        if (!condemned.containsValue(pod)) continue;
        for (JsonObject claim : claimTemplates(set)) deleteClaims.add(claimName(claim, Meta.name(pod)));
      }
    }
    int minReady = spec(set).getInteger("minReadySeconds", 0);
    long requeue = 0;
    for (JsonObject pod : pods) {
      long wait = Workloads.secondsUntilAvailable(pod, minReady, now);
      if (wait > 0 && (requeue == 0 || wait * 1000 + 100 < requeue)) requeue = wait * 1000 + 100;
    }
    return new Plan(create, delete, deleteClaims, status(set, pods, currentRevision, updateRevision, now), requeue);
  }

  static JsonObject status(JsonObject set, List<JsonObject> pods, String currentRevision, String updateRevision,
                           Instant now) {
    int minReady = spec(set).getInteger("minReadySeconds", 0);
    int replicas = 0;
    int ready = 0;
    int available = 0;
    int current = 0;
    int updated = 0;
    for (JsonObject pod : pods) {
      if (ordinal(set, pod) < 0 || Workloads.isDeleting(pod)) continue;
      replicas++;
      if (Workloads.isReady(pod)) ready++;
      if (Workloads.isAvailable(pod, minReady, now)) available++;
      if (currentRevision.equals(revisionOf(pod))) current++;
      if (updateRevision.equals(revisionOf(pod))) updated++;
    }
    int wanted = spec(set).getInteger("replicas", 1);
    String currentRev = currentRevision;
    // Every pod is at the update revision and the set is at its size: the update is done.
    if (updated == wanted && replicas == wanted && ready == wanted) {
      currentRev = updateRevision;
      current = updated;
    }
    JsonObject old = set.getJsonObject("status", new JsonObject());
    JsonObject status = new JsonObject().put("observedGeneration", Meta.meta(set).getLong("generation", 1L))
        .put("replicas", replicas).put("readyReplicas", ready).put("currentReplicas", current)
        .put("updatedReplicas", updated).put("availableReplicas", available).put("currentRevision", currentRev)
        .put("updateRevision", updateRevision).put("collisionCount", old.getInteger("collisionCount", 0));
    if (old.getJsonArray("conditions") != null) status.put("conditions", old.getJsonArray("conditions"));
    return status;
  }

  /** The member at an ordinal: stable name, hostname and subdomain, its claims mounted. */
  public static JsonObject pod(JsonObject set, JsonObject template, String revision, int ordinal) {
    String name = Meta.name(set) + "-" + ordinal;
    JsonObject pod = Workloads.podFromTemplate(template, set, null);
    JsonObject meta = Meta.meta(pod);
    meta.remove("generateName");
    meta.put("name", name);
    JsonObject labels = meta.getJsonObject("labels", new JsonObject());
    labels.put(Revisions.POD_LABEL, revision).put(POD_NAME_LABEL, name).put(POD_INDEX_LABEL, String.valueOf(ordinal));
    meta.put("labels", labels);
    JsonObject spec = pod.getJsonObject("spec");
    spec.put("hostname", name);
    String service = spec(set).getString("serviceName");
    if (service != null && !service.isEmpty()) spec.put("subdomain", service);
    JsonArray volumes = spec.getJsonArray("volumes", new JsonArray());
    for (JsonObject claim : claimTemplates(set)) {
      String volume = Meta.name(claim);
      JsonArray kept = new JsonArray();
      for (Object v : volumes) {
        if (!(v instanceof JsonObject vo) || !volume.equals(vo.getString("name"))) kept.add(v);
      }
      volumes = kept.add(new JsonObject().put("name", volume).put("persistentVolumeClaim",
          new JsonObject().put("claimName", claimName(claim, name))));
    }
    if (!volumes.isEmpty()) spec.put("volumes", volumes);
    return pod;
  }

  static List<JsonObject> claimTemplates(JsonObject set) {
    List<JsonObject> out = new ArrayList<>();
    for (Object o : spec(set).getJsonArray("volumeClaimTemplates", new JsonArray())) {
      if (o instanceof JsonObject c && Meta.name(c) != null) out.add(c);
    }
    return out;
  }

  public static String claimName(JsonObject claimTemplate, String podName) {
    return Meta.name(claimTemplate) + "-" + podName;
  }

  /**
   * The claims a member needs, named {@code <template>-<pod>}. With the default retention policy
   * (Retain) they outlive the set; whenDeleted: Delete makes the set their owner.
   */
  public static List<JsonObject> claims(JsonObject set, String podName) {
    JsonObject policy = spec(set).getJsonObject("persistentVolumeClaimRetentionPolicy", new JsonObject());
    boolean owned = "Delete".equals(policy.getString("whenDeleted"));
    JsonObject selectorLabels = spec(set).getJsonObject("selector", new JsonObject())
        .getJsonObject("matchLabels", new JsonObject());
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject template : claimTemplates(set)) {
      JsonObject tmeta = Meta.meta(template);
      JsonObject labels = tmeta.getJsonObject("labels", new JsonObject()).copy();
      selectorLabels.forEach(e -> labels.put(e.getKey(), e.getValue()));
      JsonObject meta = new JsonObject().put("name", claimName(template, podName)).put("namespace", Meta.namespace(set))
          .put("labels", labels);
      if (tmeta.getJsonObject("annotations") != null) meta.put("annotations", tmeta.getJsonObject("annotations").copy());
      if (owned) {
        meta.put("ownerReferences", new JsonArray().add(Workloads.ownerRef(set).put("controller", true)));
      }
      JsonObject spec = template.getJsonObject("spec", new JsonObject()).copy();
      out.add(new JsonObject().put("apiVersion", "v1").put("kind", "PersistentVolumeClaim").put("metadata", meta)
          .put("spec", spec));
    }
    return out;
  }
}
