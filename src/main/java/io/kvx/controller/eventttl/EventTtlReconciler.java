package io.kvx.controller.eventttl;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.client.ApiClient;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Events expire, as kube-apiserver's do: it stores each one under an etcd lease of {@code --event-ttl}
 * (1 h by default), renewed by every write, so the events of a busy cluster do not pile up. kvx keeps
 * the same rule here: an event is deleted once its last write (its newest timestamp) is older than the
 * TTL. The delete is conditional on the version it looked at, so an event updated meanwhile (a repeat
 * that bumped its count) lives on.
 */
public final class EventTtlReconciler implements Reconciler {

  private final Cache events;
  private final ApiClient client;
  private final long ttlMs;
  private final LongSupplier clock;

  public EventTtlReconciler(Cache events, ApiClient client, long ttlMs, LongSupplier clock, Consumer<String> enqueue) {
    this.events = events;
    this.client = client;
    this.ttlMs = ttlMs;
    this.clock = clock;
    events.listen(c -> {
      if (c.current() != null) enqueue.accept(Cache.key(c.current()));
    });
  }

  @Override
  public String name() {
    return "event-ttl";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject event = events.get(key);
    if (event == null) return Future.succeededFuture(Result.DONE);
    long left = expiresAt(event, ttlMs) - clock.getAsLong();
    if (left > 0) return Future.succeededFuture(Result.after(left));
    JsonObject preconditions = new JsonObject().put("preconditions", new JsonObject()
        .put("uid", Meta.uid(event)).put("resourceVersion", Meta.meta(event).getString("resourceVersion")));
    return client.delete(events.type(), Meta.namespace(event), Meta.name(event), preconditions)
        .map(d -> Result.DONE)
        .recover(e -> ApiError.is(e, ApiError.Reason.NotFound, ApiError.Reason.Conflict)
            ? Future.succeededFuture(Result.DONE) : Future.failedFuture(e));
  }

  /**
   * When an event expires: its last write plus the TTL. The last write is the newest of the times an
   * event carries (a repeat moves lastTimestamp or series.lastObservedTime), creation at the latest.
   */
  public static long expiresAt(JsonObject event, long ttlMs) {
    long last = millis(Meta.meta(event).getString("creationTimestamp"));
    for (String field : new String[] {"lastTimestamp", "eventTime"}) {
      last = Math.max(last, millis(event.getString(field)));
    }
    JsonObject series = event.getJsonObject("series");
    if (series != null) last = Math.max(last, millis(series.getString("lastObservedTime")));
    return last + ttlMs;
  }

  private static long millis(String time) {
    if (time == null || time.isEmpty()) return 0;
    try {
      return Instant.parse(time).toEpochMilli();
    } catch (RuntimeException e) {
      return 0;
    }
  }
}
