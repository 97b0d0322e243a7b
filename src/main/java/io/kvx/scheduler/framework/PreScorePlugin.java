package io.kvx.scheduler.framework;

import java.util.List;

/** Runs once before Score with the feasible nodes; SKIP means the plugin's Score is skipped too. */
public interface PreScorePlugin extends Plugin {

  Status preScore(CycleState state, PodInfo pod, List<NodeInfo> feasible, Snapshot snapshot);
}
