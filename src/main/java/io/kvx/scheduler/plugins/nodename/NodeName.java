package io.kvx.scheduler.plugins.nodename;

import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.vertx.core.json.JsonObject;

/** PodFitsHost: a pod that names a node (spec.nodeName) fits only there. */
public final class NodeName implements FilterPlugin {

  public static final String NAME = "NodeName";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String filter(JsonObject pod, NodeInfo node) {
    String want = pod.getJsonObject("spec", new JsonObject()).getString("nodeName");
    return want == null || want.equals(node.name()) ? null : "node(s) didn't match the requested node name";
  }
}
