package io.kvx.scheduler.plugins.queuesort;

import io.kvx.scheduler.framework.Plugin;
import io.kvx.scheduler.framework.PodInfo;

import java.util.Comparator;

/** QueueSort: higher spec.priority first, then the pod that was queued earlier. */
public final class PrioritySort implements Plugin {

  public static final String NAME = "PrioritySort";

  /** Orders queued pods; {@code queuedAt} breaks priority ties. */
  public static int compare(PodInfo a, long aQueuedAt, PodInfo b, long bQueuedAt) {
    int c = Integer.compare(b.priority(), a.priority());
    return c != 0 ? c : Long.compare(aQueuedAt, bQueuedAt);
  }

  public static final Comparator<PodInfo> BY_PRIORITY = (a, b) -> Integer.compare(b.priority(), a.priority());

  @Override
  public String name() {
    return NAME;
  }
}
