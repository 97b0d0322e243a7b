package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;

/** Small helpers over an object's metadata, shared by every component. Pure. */
public final class Meta {

  private Meta() {
  }

  public static JsonObject meta(JsonObject obj) {
    JsonObject m = obj.getJsonObject("metadata");
    if (m == null) {
      m = new JsonObject();
      obj.put("metadata", m);
    }
    return m;
  }

  public static String name(JsonObject obj) {
    return meta(obj).getString("name");
  }

  public static String namespace(JsonObject obj) {
    return meta(obj).getString("namespace", "");
  }

  public static String uid(JsonObject obj) {
    return meta(obj).getString("uid");
  }

  /** The resourceVersion as a number; 0 when absent or not a number. */
  public static long resourceVersion(JsonObject obj) {
    return parseVersion(meta(obj).getString("resourceVersion"));
  }

  public static long parseVersion(String rv) {
    if (rv == null || rv.isEmpty()) return 0;
    try {
      return Long.parseLong(rv);
    } catch (NumberFormatException e) {
      throw ApiError.badRequest("invalid resourceVersion \"" + rv + "\": not a number");
    }
  }

  public static Map<String, String> labels(JsonObject obj) {
    return stringMap(meta(obj).getJsonObject("labels"));
  }

  public static Map<String, String> stringMap(JsonObject map) {
    Map<String, String> out = new HashMap<>();
    if (map != null) map.forEach(e -> out.put(e.getKey(), String.valueOf(e.getValue())));
    return out;
  }

  /** RFC 3339 in whole seconds, as Kubernetes' metav1.Time serializes. */
  public static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }

  public static String nowMicro() {
    return microTime(Instant.now());
  }

  /**
   * A metav1.MicroTime as the API writes it (RFC 3339 with exactly six fractional digits, UTC):
   * client-go parses it with that fixed layout, so ".380Z" (what Instant prints) is refused.
   */
  public static String microTime(Instant t) {
    return MICRO_TIME.format(t);
  }

  private static final java.time.format.DateTimeFormatter MICRO_TIME =
      java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(java.time.ZoneOffset.UTC);

  /** kubectl's HumanDuration: 5s, 3m2s, 10m, 5h3m, 3d4h, 2y. */
  public static String humanDuration(long seconds) {
    if (seconds < 0) return "<invalid>";
    if (seconds < 120) return seconds + "s";
    long minutes = seconds / 60;
    if (minutes < 10) return minutes + "m" + (seconds % 60 == 0 ? "" : (seconds % 60) + "s");
    if (minutes < 180) return minutes + "m";
    long hours = minutes / 60;
    if (hours < 8) return hours + "h" + (minutes % 60 == 0 ? "" : (minutes % 60) + "m");
    if (hours < 48) return hours + "h";
    if (hours < 24 * 8) return (hours / 24) + "d" + (hours % 24 == 0 ? "" : (hours % 24) + "h");
    if (hours < 24 * 365 * 2) return (hours / 24) + "d";
    return (hours / 24 / 365) + "y";
  }

  public static String age(JsonObject obj) {
    return since(meta(obj).getString("creationTimestamp"));
  }

  /** How long ago an RFC 3339 time was, as kubectl prints it; {@code <unknown>} when absent. */
  public static String since(String timestamp) {
    if (timestamp == null) return "<unknown>";
    return humanDuration(Instant.now().getEpochSecond() - Instant.parse(timestamp).getEpochSecond());
  }

  /** The number of the container port a pod names {@code name} (any of its containers), null when none. */
  public static Integer namedContainerPort(JsonObject pod, String name) {
    for (Object c : pod.getJsonObject("spec", new JsonObject()).getJsonArray("containers", new JsonArray())) {
      for (Object p : ((JsonObject) c).getJsonArray("ports", new JsonArray())) {
        JsonObject port = (JsonObject) p;
        if (name.equals(port.getString("name"))) return port.getInteger("containerPort");
      }
    }
    return null;
  }
}
