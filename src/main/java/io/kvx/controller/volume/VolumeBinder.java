package io.kvx.controller.volume;

import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.kvx.api.Quantities;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The persistent-volume binder's decisions, as Kubernetes makes them: which PersistentVolume may satisfy a
 * claim (storage class, access modes, size, volume mode, selector, pre-binding in either direction, and,
 * once a node is chosen, the volume's node affinity), and which one to take (the smallest that fits).
 * Also the node-affinity test the scheduler's VolumeBinding plugin shares. Pure: objects in, answers out.
 */
public final class VolumeBinder {

  /** The annotation the scheduler puts on a WaitForFirstConsumer claim once it picked a node for its pod. */
  public static final String SELECTED_NODE = "volume.kubernetes.io/selected-node";
  /** kvx's built-in provisioner (directories on the chosen node), like k3s' local-path. */
  public static final String LOCAL_PATH_PROVISIONER = "kvx.io/local-path";
  /** Node annotation: where that provisioner creates directories on the node. */
  public static final String LOCAL_PATH_DIR = "kvx.io/local-path-dir";
  public static final String NO_PROVISIONER = "kubernetes.io/no-provisioner";

  private VolumeBinder() {
  }

  static JsonObject spec(JsonObject o) {
    return o.getJsonObject("spec", new JsonObject());
  }

  /** The claim's storage class: "" when it names none (after admission gave it the default, if any). */
  public static String className(JsonObject pvc) {
    String c = spec(pvc).getString("storageClassName");
    return c == null ? "" : c;
  }

  /** Whether the volume can satisfy the claim, node aside. */
  public static boolean fits(JsonObject pvc, JsonObject pv) {
    JsonObject ps = spec(pv);
    JsonObject cs = spec(pvc);
    if (Meta.meta(pv).containsKey("deletionTimestamp")) return false;
    JsonObject ref = ps.getJsonObject("claimRef");
    if (ref != null) {
      if (!Meta.namespace(pvc).equals(ref.getString("namespace")) || !Meta.name(pvc).equals(ref.getString("name"))) {
        return false;
      }
      String uid = ref.getString("uid");
      if (uid != null && !uid.isEmpty() && !uid.equals(Meta.meta(pvc).getString("uid"))) return false;
    } else {
      String phase = pv.getJsonObject("status", new JsonObject()).getString("phase", "Available");
      if (!phase.equals("Available") && !phase.equals("Pending")) return false;
    }
    String wanted = cs.getString("volumeName");
    if (wanted != null && !wanted.isEmpty() && !wanted.equals(Meta.name(pv))) return false;
    String pvClass = ps.getString("storageClassName", "");
    if (!className(pvc).equals(pvClass)) return false;
    if (!cs.getString("volumeMode", "Filesystem").equals(ps.getString("volumeMode", "Filesystem"))) return false;
    Set<Object> modes = new HashSet<>(ps.getJsonArray("accessModes", new JsonArray()).getList());
    if (!modes.containsAll(cs.getJsonArray("accessModes", new JsonArray()).getList())) return false;
    if (size(pv) < requested(pvc)) return false;
    JsonObject selector = cs.getJsonObject("selector");
    return selector == null || LabelSelector.fromJson(selector).matches(Meta.labels(pv));
  }

  public static long requested(JsonObject pvc) {
    Object v = spec(pvc).getJsonObject("resources", new JsonObject()).getJsonObject("requests", new JsonObject())
        .getValue("storage");
    return v == null ? 0 : Quantities.bytes(String.valueOf(v));
  }

  static long size(JsonObject pv) {
    Object v = spec(pv).getJsonObject("capacity", new JsonObject()).getValue("storage");
    return v == null ? 0 : Quantities.bytes(String.valueOf(v));
  }

  /**
   * The volume's required node affinity against a node (its labels and name); true when it has none.
   * Terms are ORed, expressions within a term ANDed, as for pods.
   */
  public static boolean nodeMatches(JsonObject pv, String nodeName, Map<String, String> nodeLabels) {
    JsonObject required = spec(pv).getJsonObject("nodeAffinity", new JsonObject()).getJsonObject("required");
    if (required == null) return true;
    JsonArray terms = required.getJsonArray("nodeSelectorTerms", new JsonArray());
    if (terms.isEmpty()) return true;
    for (Object o : terms) {
      if (termMatches((JsonObject) o, nodeName, nodeLabels)) return true;
    }
    return false;
  }

  private static boolean termMatches(JsonObject term, String nodeName, Map<String, String> labels) {
    JsonArray exprs = term.getJsonArray("matchExpressions", new JsonArray());
    JsonArray fields = term.getJsonArray("matchFields", new JsonArray());
    if (exprs.isEmpty() && fields.isEmpty()) return false;
    for (Object o : exprs) {
      JsonObject e = (JsonObject) o;
      String op = e.getString("operator", "");
      String have = labels.get(e.getString("key"));
      JsonArray values = e.getJsonArray("values", new JsonArray());
      boolean ok = switch (op) {
        case "In" -> have != null && values.contains(have);
        case "NotIn" -> have == null || !values.contains(have);
        case "Exists" -> have != null;
        case "DoesNotExist" -> have == null;
        case "Gt", "Lt" -> have != null && !values.isEmpty() && compare(have, values.getString(0), op);
        default -> false;
      };
      if (!ok) return false;
    }
    for (Object o : fields) {
      JsonObject e = (JsonObject) o;
      if (!"metadata.name".equals(e.getString("key"))) return false;
      boolean in = e.getJsonArray("values", new JsonArray()).contains(nodeName);
      if (e.getString("operator", "").equals("In") != in) return false;
    }
    return true;
  }

  private static boolean compare(String have, String bound, String op) {
    try {
      long h = Long.parseLong(have);
      long b = Long.parseLong(bound);
      return op.equals("Gt") ? h > b : h < b;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /**
   * The volume to bind the claim to: one already pre-bound to it if any, else the smallest that fits (and,
   * with a node given, whose affinity allows that node). Null when none.
   */
  public static JsonObject pick(JsonObject pvc, Collection<JsonObject> pvs, String nodeName,
                                Map<String, String> nodeLabels) {
    return pvs.stream().filter(pv -> fits(pvc, pv))
        .filter(pv -> nodeName == null || nodeMatches(pv, nodeName, nodeLabels))
        .min(Comparator.<JsonObject, Boolean>comparing(pv -> spec(pv).getJsonObject("claimRef") == null)
            .thenComparingLong(VolumeBinder::size).thenComparing(Meta::name))
        .orElse(null);
  }

  /** The volume kvx's local-path provisioner makes for a claim on a node. */
  public static JsonObject provision(JsonObject pvc, JsonObject storageClass, String nodeName, String nodeDir) {
    String name = "pvc-" + Meta.meta(pvc).getString("uid");
    String storage = String.valueOf(spec(pvc).getJsonObject("resources", new JsonObject())
        .getJsonObject("requests", new JsonObject()).getValue("storage", "1Gi"));
    JsonObject term = new JsonObject().put("matchExpressions", new JsonArray().add(new JsonObject()
        .put("key", "kubernetes.io/hostname").put("operator", "In").put("values", new JsonArray().add(nodeName))));
    return new JsonObject().put("apiVersion", "v1").put("kind", "PersistentVolume")
        .put("metadata", new JsonObject().put("name", name)
            .put("annotations", new JsonObject().put("pv.kubernetes.io/provisioned-by", LOCAL_PATH_PROVISIONER)))
        .put("spec", new JsonObject()
            .put("capacity", new JsonObject().put("storage", storage))
            .put("accessModes", spec(pvc).getJsonArray("accessModes", new JsonArray().add("ReadWriteOnce")).copy())
            .put("persistentVolumeReclaimPolicy", storageClass.getString("reclaimPolicy", "Delete"))
            .put("storageClassName", Meta.name(storageClass))
            .put("volumeMode", spec(pvc).getString("volumeMode", "Filesystem"))
            .put("hostPath", new JsonObject().put("path", nodeDir + "/" + name + "_" + Meta.namespace(pvc) + "_"
                + Meta.name(pvc)).put("type", "DirectoryOrCreate"))
            .put("claimRef", claimRef(pvc))
            .put("nodeAffinity", new JsonObject().put("required", new JsonObject()
                .put("nodeSelectorTerms", new JsonArray().add(term)))));
  }

  static JsonObject claimRef(JsonObject pvc) {
    return new JsonObject().put("kind", "PersistentVolumeClaim").put("apiVersion", "v1")
        .put("namespace", Meta.namespace(pvc)).put("name", Meta.name(pvc))
        .put("uid", Meta.meta(pvc).getString("uid"));
  }
}
