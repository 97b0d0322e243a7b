package io.kvx.scheduler.framework;

/** Reserve: the pod is assumed on the node; Unreserve undoes it when a later step fails. */
public interface ReservePlugin extends Plugin {

  Status reserve(CycleState state, PodInfo pod, String node);

  void unreserve(CycleState state, PodInfo pod, String node);
}
