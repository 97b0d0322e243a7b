package io.kvx.controller;

import java.util.HashMap;
import java.util.Map;

/**
 * What a controller has asked for and not yet seen in its cache (pods created or deleted), so that it
 * does not act twice on a stale view. Expectations expire after a while in case an event was missed,
 * as client-go's ControllerExpectations do. Pure.
 */
public final class Expectations {

  private static final long TTL_MS = 30_000;

  private record Pending(int adds, int deletes, long since) {
  }

  private final Map<String, Pending> pending = new HashMap<>();

  /**
   * Counts a pod change against its controller's expectations when the pod's controller is of
   * {@code kind}; returns that controller's key ("namespace/name") to sync, or null.
   */
  public String observePod(Cache.Change c, String kind) {
    io.vertx.core.json.JsonObject pod = c.object();
    io.vertx.core.json.JsonObject ref = Workloads.controllerRef(pod);
    if (ref == null || !kind.equals(ref.getString("kind"))) return null;
    String key = io.kvx.api.Meta.namespace(pod) + "/" + ref.getString("name");
    if (c.old() == null) observedAdd(key);
    if (c.current() == null || (Workloads.isDeleting(pod) && (c.old() == null || !Workloads.isDeleting(c.old())))) {
      observedDelete(key);
    }
    return key;
  }

  public void expect(String key, int adds, int deletes, long nowMs) {
    pending.put(key, new Pending(adds, deletes, nowMs));
  }

  public void observedAdd(String key) {
    pending.computeIfPresent(key, (k, p) -> new Pending(p.adds - 1, p.deletes, p.since));
  }

  public void observedDelete(String key) {
    pending.computeIfPresent(key, (k, p) -> new Pending(p.adds, p.deletes - 1, p.since));
  }

  /** A create or delete that failed will never be observed. */
  public void lower(String key, int adds, int deletes) {
    pending.computeIfPresent(key, (k, p) -> new Pending(p.adds - adds, p.deletes - deletes, p.since));
  }

  public boolean satisfied(String key, long nowMs) {
    Pending p = pending.get(key);
    return p == null || (p.adds <= 0 && p.deletes <= 0) || nowMs - p.since > TTL_MS;
  }

  public void forget(String key) {
    pending.remove(key);
  }
}
