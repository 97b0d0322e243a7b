package io.kvx.scheduler.framework;

import java.util.List;
import java.util.Map;

/** Runs when no node passed the filters (preemption). Returns a plan; the caller carries it out. */
public interface PostFilterPlugin extends Plugin {

  /** A nominated node and the pods to evict there, or a failure status with the reason. */
  record Result(Status status, String nominatedNode, List<PodInfo> victims) {

    public static Result failed(Status status) {
      return new Result(status, null, List.of());
    }
  }

  Result postFilter(CycleState state, PodInfo pod, Snapshot snapshot, Map<String, Status> filtered);
}
