package io.kvx.scheduler.framework;

/** Runs once per attempt before any Filter: precomputes into the CycleState, or rejects the pod outright. */
public interface PreFilterPlugin extends Plugin {

  Status preFilter(CycleState state, PodInfo pod, Snapshot snapshot);
}
