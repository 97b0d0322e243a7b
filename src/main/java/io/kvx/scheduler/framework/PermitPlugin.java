package io.kvx.scheduler.framework;

/** Permit: the last word before binding: SUCCESS, a rejection, or WAIT (the pod is held and retried). */
public interface PermitPlugin extends Plugin {

  Status permit(CycleState state, PodInfo pod, String node);
}
