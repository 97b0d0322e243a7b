package io.kvx.controller;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** Node taints against pod tolerations, as the DaemonSet and node lifecycle controllers weigh them. Pure. */
public final class Taints {

  public static final String UNREACHABLE = "node.kubernetes.io/unreachable";
  public static final String NOT_READY = "node.kubernetes.io/not-ready";
  public static final String UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

  private Taints() {
  }

  public static List<JsonObject> of(JsonObject node) {
    List<JsonObject> out = new ArrayList<>();
    for (Object o : node.getJsonObject("spec", new JsonObject()).getJsonArray("taints", new JsonArray())) {
      if (o instanceof JsonObject t) out.add(t);
    }
    return out;
  }

  public static JsonArray tolerations(JsonObject podSpec) {
    return podSpec == null ? new JsonArray() : podSpec.getJsonArray("tolerations", new JsonArray());
  }

  public static boolean tolerates(JsonObject toleration, JsonObject taint) {
    String effect = toleration.getString("effect", "");
    if (!effect.isEmpty() && !effect.equals(taint.getString("effect"))) return false;
    String key = toleration.getString("key", "");
    if ("Exists".equals(toleration.getString("operator"))) return key.isEmpty() || key.equals(taint.getString("key"));
    return key.equals(taint.getString("key")) && toleration.getString("value", "").equals(taint.getString("value", ""));
  }

  /** The first toleration in the list that tolerates the taint, or null. */
  public static JsonObject toleratedBy(JsonArray tolerations, JsonObject taint) {
    for (Object o : tolerations) {
      if (o instanceof JsonObject t && tolerates(t, taint)) return t;
    }
    return null;
  }

  /** Whether every NoSchedule and NoExecute taint of the node is tolerated (PreferNoSchedule never blocks). */
  public static boolean schedulable(JsonArray tolerations, JsonObject node) {
    for (JsonObject taint : of(node)) {
      String effect = taint.getString("effect");
      if (("NoSchedule".equals(effect) || "NoExecute".equals(effect)) && toleratedBy(tolerations, taint) == null) {
        return false;
      }
    }
    return true;
  }

  /** Whether a pod already on the node may stay: every NoExecute taint tolerated (NoSchedule only keeps new pods off). */
  public static boolean mayStay(JsonArray tolerations, JsonObject node) {
    for (JsonObject taint : of(node)) {
      if ("NoExecute".equals(taint.getString("effect")) && toleratedBy(tolerations, taint) == null) return false;
    }
    return true;
  }
}
