package io.kvx.scheduler.framework;

/** Changes in the cluster that may make an unschedulable pod schedulable. */
public enum ClusterEvent {
  NODE_ADD,
  /** A node's scheduling-relevant fields changed (labels, taints, allocatable, conditions, images). */
  NODE_UPDATE,
  /** A pod left a node (deleted or finished): its resources, ports and affinity are free. */
  ASSIGNED_POD_DELETE,
  /** A pod was bound or its labels changed: affinity and spreading may now be satisfied. */
  ASSIGNED_POD_ADD,
  /** Volumes (PVCs, PVs) changed. */
  VOLUME_CHANGE,
  /** Services or controllers changed (spreading). */
  SELECTOR_CHANGE
}
