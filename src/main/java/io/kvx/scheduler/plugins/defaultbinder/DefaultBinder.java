package io.kvx.scheduler.plugins.defaultbinder;

import io.kvx.scheduler.framework.BindPlugin;
import io.kvx.scheduler.framework.Cluster;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Status;

import java.util.concurrent.CompletionStage;

/** Writes a Binding (pods/binding) for the pod. */
public final class DefaultBinder implements BindPlugin {

  public static final String NAME = "DefaultBinder";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CompletionStage<Status> bind(CycleState state, PodInfo pod, String node, Cluster cluster) {
    return cluster.bind(pod.namespace(), pod.name(), node).thenApply(v -> Status.SUCCESS);
  }
}
