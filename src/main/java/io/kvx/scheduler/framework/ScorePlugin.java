package io.kvx.scheduler.framework;

import io.vertx.core.json.JsonObject;

/** A Score extension point: 0..100 for a node that passed every filter. */
public interface ScorePlugin {

  String name();

  long score(JsonObject pod, NodeInfo node);
}
