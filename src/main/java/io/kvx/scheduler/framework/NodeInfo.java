package io.kvx.scheduler.framework;

import io.vertx.core.json.JsonObject;

/** One node as the scheduler sees it: the Node object and what its pods already request. */
public record NodeInfo(String name, JsonObject node, Resources allocatable, Resources requested) {

  public NodeInfo withPod(Resources pod) {
    return new NodeInfo(name, node, allocatable, requested.plus(pod));
  }
}
