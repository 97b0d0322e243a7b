package io.kvx.scheduler.framework;

import java.util.concurrent.CompletionStage;

/** PreBind: work that must be done before the binding is written (attach volumes, ...). */
public interface PreBindPlugin extends Plugin {

  CompletionStage<Status> preBind(CycleState state, PodInfo pod, String node, Cluster cluster);
}
