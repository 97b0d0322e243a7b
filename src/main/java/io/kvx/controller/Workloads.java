package io.kvx.controller;

import io.kvx.api.Meta;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What the workload controllers share about pods and owners. Pure. */
public final class Workloads {

  private static final String SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

  private Workloads() {
  }

  /** The ownerReference with controller=true, or null. */
  public static JsonObject controllerRef(JsonObject obj) {
    JsonArray refs = Meta.meta(obj).getJsonArray("ownerReferences");
    if (refs == null) return null;
    for (int i = 0; i < refs.size(); i++) {
      JsonObject r = refs.getJsonObject(i);
      if (r.getBoolean("controller", false)) return r;
    }
    return null;
  }

  public static boolean isControlledBy(JsonObject obj, JsonObject owner) {
    JsonObject ref = controllerRef(obj);
    return ref != null && Meta.uid(owner).equals(ref.getString("uid"));
  }

  public static JsonObject ownerRef(JsonObject owner) {
    return new JsonObject().put("apiVersion", owner.getString("apiVersion")).put("kind", owner.getString("kind"))
        .put("name", Meta.name(owner)).put("uid", Meta.uid(owner)).put("controller", true)
        .put("blockOwnerDeletion", true);
  }

  public static boolean isDeleting(JsonObject obj) {
    return Meta.meta(obj).containsKey("deletionTimestamp");
  }

  public static String phase(JsonObject pod) {
    return pod.getJsonObject("status", new JsonObject()).getString("phase", "Pending");
  }

  /** Not finished and not being deleted: counts toward replicas. */
  public static boolean isActive(JsonObject pod) {
    String phase = phase(pod);
    return !phase.equals("Succeeded") && !phase.equals("Failed") && !isDeleting(pod);
  }

  public static JsonObject condition(JsonObject obj, String type) {
    JsonArray cs = obj.getJsonObject("status", new JsonObject()).getJsonArray("conditions");
    if (cs == null) return null;
    for (int i = 0; i < cs.size(); i++) {
      if (type.equals(cs.getJsonObject(i).getString("type"))) return cs.getJsonObject(i);
    }
    return null;
  }

  public static boolean isReady(JsonObject pod) {
    JsonObject c = condition(pod, "Ready");
    return c != null && "True".equals(c.getString("status"));
  }

  /** Ready for at least minReadySeconds. */
  public static boolean isAvailable(JsonObject pod, int minReadySeconds, Instant now) {
    if (!isReady(pod)) return false;
    if (minReadySeconds <= 0) return true;
    String since = condition(pod, "Ready").getString("lastTransitionTime");
    return since == null || !Instant.parse(since).plusSeconds(minReadySeconds).isAfter(now);
  }

  /** Seconds until a ready pod becomes available, or 0. */
  public static long secondsUntilAvailable(JsonObject pod, int minReadySeconds, Instant now) {
    if (!isReady(pod) || minReadySeconds <= 0) return 0;
    String since = condition(pod, "Ready").getString("lastTransitionTime");
    if (since == null) return 0;
    return Math.max(0, Instant.parse(since).plusSeconds(minReadySeconds).getEpochSecond() - now.getEpochSecond());
  }

  public static int restarts(JsonObject pod) {
    int n = 0;
    for (Object o : pod.getJsonObject("status", new JsonObject()).getJsonArray("containerStatuses", new JsonArray())) {
      if (o instanceof JsonObject cs) n += cs.getInteger("restartCount", 0);
    }
    return n;
  }

  /**
   * The order in which a controller gives pods up when scaling down, most expendable first: not yet
   * scheduled, then pending before running, not ready before ready, more restarts, and newer pods.
   */
  public static final Comparator<JsonObject> DELETE_FIRST = Comparator
      .<JsonObject>comparingInt(p -> p.getJsonObject("spec", new JsonObject()).getString("nodeName") == null ? 0 : 1)
      .thenComparingInt(p -> switch (phase(p)) {
        case "Pending" -> 0;
        case "Unknown" -> 1;
        default -> 2;
      })
      .thenComparingInt(p -> isReady(p) ? 1 : 0)
      .thenComparing(Comparator.<JsonObject>comparingInt(Workloads::restarts).reversed())
      .thenComparing(Comparator.<JsonObject, String>comparing(p -> Meta.meta(p).getString("creationTimestamp", ""))
          .reversed());

  /** A pod for a controller: the template's metadata and spec, owned by {@code owner}. */
  public static JsonObject podFromTemplate(JsonObject template, JsonObject owner, String generateName) {
    JsonObject tmeta = template.getJsonObject("metadata", new JsonObject());
    JsonObject meta = new JsonObject().put("generateName", generateName).put("namespace", Meta.namespace(owner))
        .put("ownerReferences", new JsonArray().add(ownerRef(owner)));
    if (tmeta.getJsonObject("labels") != null) meta.put("labels", tmeta.getJsonObject("labels").copy());
    if (tmeta.getJsonObject("annotations") != null) meta.put("annotations", tmeta.getJsonObject("annotations").copy());
    return new JsonObject().put("apiVersion", "v1").put("kind", "Pod").put("metadata", meta)
        .put("spec", template.getJsonObject("spec", new JsonObject()).copy());
  }

  /**
   * A template's identity for comparison: canonical JSON without the zero values (false, 0, "", {},
   * []) that Go clients leave out or put in depending on how they encoded it (protobuf writes them,
   * JSON omits them), so the same template compares equal whichever way it arrived.
   */
  public static String semantic(JsonObject template) {
    return canonical(dropZeros(template));
  }

  private static Object dropZeros(Object v) {
    if (v instanceof JsonObject o) {
      JsonObject out = new JsonObject();
      for (Map.Entry<String, Object> e : o) {
        Object inner = dropZeros(wrap(e.getValue()));
        if (inner != null) out.put(e.getKey(), inner);
      }
      return out.isEmpty() ? null : out;
    }
    if (v instanceof JsonArray a) {
      JsonArray out = new JsonArray();
      for (Object x : a) {
        Object inner = dropZeros(wrap(x));
        out.add(inner == null ? new JsonObject() : inner);
      }
      return out.isEmpty() ? null : out;
    }
    if (Boolean.FALSE.equals(v) || "".equals(v)) return null;
    if (v instanceof Number n && n.doubleValue() == 0) return null;
    return v;
  }

  /** A stable short hash of a pod template (FNV-1a over its semantic form), in Kubernetes' safe alphabet. */
  public static String templateHash(JsonObject template) {
    byte[] bytes = semantic(template).getBytes(StandardCharsets.UTF_8);
    int h = 0x811c9dc5;
    for (byte b : bytes) {
      h ^= (b & 0xff);
      h *= 0x01000193;
    }
    String digits = Long.toString(Integer.toUnsignedLong(h));
    StringBuilder sb = new StringBuilder();
    for (char c : digits.toCharArray()) sb.append(SAFE_ALPHABET.charAt(c % SAFE_ALPHABET.length()));
    return sb.toString();
  }

  /** JSON with object keys sorted, so equal objects encode equally whatever their key order. */
  public static String canonical(Object value) {
    if (value instanceof JsonObject o) {
      Map<String, Object> sorted = new TreeMap<>(o.getMap());
      StringBuilder sb = new StringBuilder("{");
      boolean first = true;
      for (Map.Entry<String, Object> e : sorted.entrySet()) {
        if (!first) sb.append(',');
        first = false;
        sb.append(io.vertx.core.json.Json.encode(e.getKey())).append(':').append(canonical(wrap(e.getValue())));
      }
      return sb.append('}').toString();
    }
    if (value instanceof JsonArray a) {
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < a.size(); i++) {
        if (i > 0) sb.append(',');
        sb.append(canonical(a.getValue(i)));
      }
      return sb.append(']').toString();
    }
    return io.vertx.core.json.Json.encode(value);
  }

  @SuppressWarnings("unchecked")
  private static Object wrap(Object v) {
    if (v instanceof Map<?, ?> m) return new JsonObject((Map<String, Object>) m);
    if (v instanceof List<?> l) return new JsonArray((List<Object>) l);
    return v;
  }

  /** An int-or-percent field (maxSurge, maxUnavailable) against a total, rounding as asked. */
  public static int intOrPercent(Object value, int total, boolean roundUp) {
    if (value == null) return 0;
    if (value instanceof Number n) return n.intValue();
    String s = value.toString().trim();
    if (s.endsWith("%")) {
      double pct = Double.parseDouble(s.substring(0, s.length() - 1));
      double v = pct * total / 100.0;
      return (int) (roundUp ? Math.ceil(v) : Math.floor(v));
    }
    return Integer.parseInt(s);
  }
}
