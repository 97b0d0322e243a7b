package io.kvx.scheduler.framework;

import io.vertx.core.json.JsonObject;

/** A Filter extension point: null if the pod fits the node, else the reason Kubernetes prints. */
public interface FilterPlugin {

  String name();

  String filter(JsonObject pod, NodeInfo node);
}
