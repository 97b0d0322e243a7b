package io.kvx.scheduler.framework;

/** A hard rule (a predicate): SUCCESS if the pod may run on the node, else the reason Kubernetes prints. */
public interface FilterPlugin extends Plugin {

  Status filter(CycleState state, PodInfo pod, NodeInfo node);
}
