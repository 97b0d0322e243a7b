package io.kvx.scheduler.plugins.equalpriority;

import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.ScorePlugin;

/** EqualPriority: every node scores the same (the legacy policy's neutral priority). */
public final class EqualPriority implements ScorePlugin {

  public static final String NAME = "EqualPriority";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    return 1;
  }
}
