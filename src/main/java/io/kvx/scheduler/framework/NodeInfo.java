package io.kvx.scheduler.framework;

import io.vertx.core.json.JsonObject;

/** One node as the scheduler sees it: the Node object and what its pods already request. */
public record NodeInfo(String name, JsonObject node, Resource allocatable, Resource requested) {

  public NodeInfo withPod(Resource pod) {
    return new NodeInfo(name, node, allocatable, requested.plus(pod));
  }
}
