package io.kvx.scheduler.framework;

import io.fabric8.kubernetes.api.model.Taint;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A node's effective taints, split once per node change into the ones that filter (NoSchedule, NoExecute) and
 * the ones that score (PreferNoSchedule). Immutable; the scheduler's cache shares one instance among the nodes
 * whose taints are equal, so a pod's verdict on one set is worked out once per pod, not once per node
 * ({@link PodInfo#toleratesAll}).
 */
public final class Taints {

  public static final Taints NONE = new Taints(List.of());

  private final List<Taint> all;
  private final Taint[] hard;
  private final Taint[] prefer;

  public Taints(List<Taint> all) {
    this.all = List.copyOf(all);
    List<Taint> h = new ArrayList<>();
    List<Taint> p = new ArrayList<>();
    for (Taint t : this.all) {
      if ("NoSchedule".equals(t.getEffect()) || "NoExecute".equals(t.getEffect())) h.add(t);
      else if ("PreferNoSchedule".equals(t.getEffect())) p.add(t);
    }
    this.hard = h.toArray(Taint[]::new);
    this.prefer = p.toArray(Taint[]::new);
  }

  /** The shared instance equal to this one, added to {@code pool} if it is the first. */
  public Taints intern(Map<List<Taint>, Taints> pool) {
    if (all.isEmpty()) return NONE;
    Taints shared = pool.putIfAbsent(all, this);
    return shared == null ? this : shared;
  }

  public List<Taint> all() {
    return all;
  }

  /** NoSchedule and NoExecute: a pod that does not tolerate one of these does not fit. */
  public Taint[] hard() {
    return hard;
  }

  /** PreferNoSchedule: each one the pod does not tolerate lowers the node's score. */
  public Taint[] prefer() {
    return prefer;
  }
}
