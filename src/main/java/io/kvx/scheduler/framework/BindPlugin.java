package io.kvx.scheduler.framework;

import java.util.concurrent.CompletionStage;

/** Bind: writes the pod's node; SKIP hands the pod to the next Bind plugin. */
public interface BindPlugin extends Plugin {

  CompletionStage<Status> bind(CycleState state, PodInfo pod, String node, Cluster cluster);
}
