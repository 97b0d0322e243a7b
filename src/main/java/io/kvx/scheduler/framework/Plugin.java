package io.kvx.scheduler.framework;

import java.util.Set;

/**
 * A scheduling plugin: a name and the extension points it implements (the sub-interfaces). Like
 * kube-scheduler's EnqueueExtensions, a plugin that rejects pods names the cluster events that may
 * make them schedulable again; the queue moves a pod back only on those.
 */
public interface Plugin {

  String name();

  /** Events that may make a pod this plugin rejected schedulable. */
  default Set<ClusterEvent> events() {
    return Set.of(ClusterEvent.values());
  }
}
