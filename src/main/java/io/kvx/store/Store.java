package io.kvx.store;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;

import java.util.function.Predicate;

/**
 * The watched store (DESIGN §2): every write gets a cluster-wide, strictly increasing revision; list
 * is a consistent snapshot; watch from a revision never misses or repeats an event. Only the API
 * server writes through it. Keys are {@code group/plural/namespace/name} (see ResourceType#key).
 * Failures are {@link io.kvx.api.ApiError}s: NotFound, AlreadyExists, Conflict, Expired (410),
 * ServiceUnavailable while no sequencer is elected.
 *
 * <p>Objects handed out (by reads, writes' answers and watch events) are shared, not copied: within a JVM the
 * same instance may be the sequencer's, the watch cache's and other readers'. They are read-only; a caller that
 * wants to change one changes a copy. An object passed in to create or update is not changed by the store (the
 * sequencer gives what it keeps a top level and metadata of its own, the parts it writes, and shares the rest;
 * create fills in a missing metadata.uid there) and the caller does not change it after.
 */
public interface Store {

  Future<JsonObject> get(String key);

  /** Objects under a key prefix, in key order, at the newest revision; {@code limit <= 0} means all. */
  default Future<ListResult> list(String prefix, Predicate<JsonObject> filter, int limit, String continueAfter) {
    return list(prefix, filter, limit, continueAfter, 0);
  }

  /**
   * As {@link #list}, as the objects were at {@code revision} (0: the newest), which is what the result's
   * revision then says: a client pages through one snapshot however the objects change meanwhile. Fails with
   * 410 Expired when the history no longer reaches back to it (compacted), and, after waiting a few seconds,
   * with 504 when the store has not reached it.
   */
  Future<ListResult> list(String prefix, Predicate<JsonObject> filter, int limit, String continueAfter, long revision);

  /**
   * Completes once this store has reached {@code revision} (at once if it has); fails with 504 when it has not
   * after a few seconds. For reads that must be "not older than" a resourceVersion the client saw.
   */
  Future<Void> awaitRevision(long revision);

  /** Whether a writer can take writes now (a readiness check: without one, reads work and writes wait). */
  default boolean hasWriter() {
    return true;
  }

  /**
   * As {@link #get}, from this JVM's cache without the read barrier: it may lag a write acknowledged elsewhere, as
   * an informer's lister does. For admission lookups, which kube-apiserver also answers from listers.
   */
  default Future<JsonObject> getCached(String key) {
    return get(key);
  }

  /** As {@link #list} without the read barrier (see {@link #getCached}). */
  default Future<ListResult> listCached(String prefix, Predicate<JsonObject> filter) {
    return list(prefix, filter, 0, null);
  }

  Future<JsonObject> create(String key, JsonObject object);

  /** Replaces the object if its revision is {@code expectedRevision} (0: any revision). */
  Future<JsonObject> update(String key, JsonObject object, long expectedRevision);

  /** Deletes if revision and uid match (0 / null: any); yields the object as last stored. */
  Future<JsonObject> delete(String key, long expectedRevision, String expectedUid);

  /**
   * Watches a key prefix. With {@code initialEvents} the current matching objects arrive first as
   * ADDED; otherwise every change after {@code fromRevision} (0: from now) arrives in order. Fails
   * with 410 Expired when {@code fromRevision} is older than the retained history.
   */
  Future<Watch> watch(String prefix, long fromRevision, boolean initialEvents, Predicate<JsonObject> filter,
                      Handler<WatchEvent> handler);

  /** The newest revision this JVM has seen applied. */
  long revision();
}
