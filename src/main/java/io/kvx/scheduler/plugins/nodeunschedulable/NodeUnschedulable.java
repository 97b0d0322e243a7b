package io.kvx.scheduler.plugins.nodeunschedulable;

import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Nodes that are cordoned (spec.unschedulable) or not Ready take no new pods, unless the pod
 * tolerates the matching taint.
 */
public final class NodeUnschedulable implements FilterPlugin {

  public static final String NAME = "NodeUnschedulable";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String filter(JsonObject pod, NodeInfo node) {
    if (node.node().getJsonObject("spec", new JsonObject()).getBoolean("unschedulable", false)
        && !tolerates(pod, "node.kubernetes.io/unschedulable")) {
      return "node(s) were unschedulable";
    }
    if (!ready(node.node()) && !tolerates(pod, "node.kubernetes.io/not-ready")) {
      return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }";
    }
    return null;
  }

  static boolean ready(JsonObject node) {
    for (Object o : node.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      if ("Ready".equals(c.getString("type"))) return "True".equals(c.getString("status"));
    }
    return false;
  }

  private static boolean tolerates(JsonObject pod, String key) {
    for (Object o : pod.getJsonObject("spec", new JsonObject()).getJsonArray("tolerations", new JsonArray())) {
      JsonObject t = (JsonObject) o;
      boolean keyMatch = key.equals(t.getString("key")) || (t.getString("key") == null
          && "Exists".equals(t.getString("operator")));
      String effect = t.getString("effect");
      if (keyMatch && (effect == null || effect.equals("NoSchedule"))) return true;
    }
    return false;
  }
}
