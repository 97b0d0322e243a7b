package io.kvx.controller;

import io.vertx.core.Future;

/**
 * One controller's sync: given a key ("namespace/name", or "name" for cluster-scoped objects), read
 * the caches, compare desired with actual, act through the API, write status. Level-triggered and
 * idempotent: it may run any number of times for the same key.
 */
public interface Reconciler {

  /** Retry after this many milliseconds even without a change (0: only on the next event). */
  record Result(long requeueAfterMs) {
    public static final Result DONE = new Result(0);

    public static Result after(long ms) {
      return new Result(ms);
    }
  }

  String name();

  Future<Result> reconcile(String key);
}
