package io.kvx.scheduler.plugins.nodeaffinity;

import io.kvx.api.Meta;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/** MatchNodeSelector: every spec.nodeSelector label must be on the node. */
public final class NodeAffinity implements FilterPlugin {

  public static final String NAME = "NodeAffinity";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String filter(JsonObject pod, NodeInfo node) {
    JsonObject selector = pod.getJsonObject("spec", new JsonObject()).getJsonObject("nodeSelector");
    if (selector == null) return null;
    Map<String, String> labels = Meta.labels(node.node());
    for (Map.Entry<String, Object> e : selector) {
      if (!String.valueOf(e.getValue()).equals(labels.get(e.getKey()))) {
        return "node(s) didn't match Pod's node affinity/selector";
      }
    }
    return null;
  }
}
