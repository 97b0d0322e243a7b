package io.kvx.store.hazelcast;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.kvx.api.ApiError;
import io.kvx.bus.Addresses;
import io.kvx.store.ListResult;
import io.kvx.store.Store;
import io.kvx.store.StoreKeys;
import io.kvx.store.Watch;
import io.kvx.store.WatchEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.function.Predicate;

/**
 * The {@link Store} on Hazelcast: writes go to the elected sequencer over the event bus; get, list
 * and watch are served by this JVM's {@link WatchCache}, after a sync with the sequencer so that a
 * read is never older than any write acknowledged before it started.
 */
public final class HazelcastStore implements Store {

  private static final long WRITE_TIMEOUT_MS = 10_000;
  /** How long a write waits for a sequencer to be elected before failing with 503. */
  private static final long ELECTION_WAIT_MS = 15_000;

  private final Vertx vertx;
  private final WatchCache cache;

  public HazelcastStore(Vertx vertx, HazelcastInstance hz, int historySize) {
    this.vertx = vertx;
    IMap<String, String> objects = hz.getMap(Addresses.OBJECTS_MAP);
    this.cache = new WatchCache(vertx, objects, hz.getRingbuffer(Addresses.CHANGE_LOG), historySize);
    hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
        // nothing to do: reads are not parked on a new member
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        cache.memberLeft();
      }
    });
  }

  /** Waits for a sequencer to lead, then starts following the change log. */
  public Future<Void> start() {
    return send(new JsonObject().put("op", "sync")).compose(v -> cache.start());
  }

  public void stop() {
    cache.stop();
  }

  /**
   * Served from the watch cache after a sync, like list: a get never contradicts what watchers saw
   * (the change log is written before the objects map, so the map can briefly lag a watch event).
   */
  @Override
  public Future<JsonObject> get(String key) {
    Context caller = vertx.getOrCreateContext();
    return onCaller(caller, sync().compose(v -> cache.get(key)).map(v -> {
      if (v == null) throw ApiError.notFound(StoreKeys.group(key), StoreKeys.resource(key), StoreKeys.name(key));
      return v;
    }));
  }

  @Override
  public Future<ListResult> list(String prefix, Predicate<JsonObject> filter, int limit, String continueAfter) {
    Context caller = vertx.getOrCreateContext();
    return onCaller(caller, sync().compose(v -> cache.list(prefix, filter, limit, continueAfter)));
  }

  @Override
  public Future<JsonObject> create(String key, JsonObject object) {
    return write(new JsonObject().put("op", "create").put("key", key).put("object", object));
  }

  @Override
  public Future<JsonObject> update(String key, JsonObject object, long expectedRevision) {
    return write(new JsonObject().put("op", "update").put("key", key).put("object", object)
        .put("expect", expectedRevision));
  }

  @Override
  public Future<JsonObject> delete(String key, long expectedRevision, String expectedUid) {
    return write(new JsonObject().put("op", "delete").put("key", key).put("expect", expectedRevision)
        .put("uid", expectedUid));
  }

  @Override
  public Future<Watch> watch(String prefix, long fromRevision, boolean initialEvents, Predicate<JsonObject> filter,
                             Handler<WatchEvent> handler) {
    Context caller = vertx.getOrCreateContext();
    Future<Void> ready = initialEvents ? sync() : Future.succeededFuture();
    return onCaller(caller, ready.compose(v -> cache.watch(prefix, fromRevision, initialEvents, filter, handler,
        caller)));
  }

  /**
   * The cache answers on its own event loop; callers (verticles, HTTP handlers) keep their
   * single-threaded model only if results come back on their own context.
   */
  private static <T> Future<T> onCaller(Context caller, Future<T> result) {
    Promise<T> p = Promise.promise();
    result.onComplete(ar -> caller.runOnContext(v -> p.handle(ar)));
    return p.future();
  }

  @Override
  public long revision() {
    return cache.revision();
  }

  /** Brings this JVM's cache up to everything the sequencer has acknowledged so far. */
  private Future<Void> sync() {
    return send(new JsonObject().put("op", "sync")).compose(r -> cache.awaitSequence(r.getLong("seq")));
  }

  private Future<JsonObject> write(JsonObject request) {
    return send(request).map(r -> r.getJsonObject("object"));
  }

  private Future<JsonObject> send(JsonObject request) {
    Promise<JsonObject> p = Promise.promise();
    attempt(request, System.currentTimeMillis() + ELECTION_WAIT_MS, p);
    return p.future();
  }

  private void attempt(JsonObject request, long deadline, Promise<JsonObject> p) {
    vertx.eventBus().<JsonObject>request(Addresses.STORE_WRITE, request,
        new DeliveryOptions().setSendTimeout(WRITE_TIMEOUT_MS)).onComplete(ar -> {
          if (ar.succeeded()) {
            p.complete(ar.result().body());
            return;
          }
          ApiError carried = ApiError.fromReplyFailure(ar.cause());
          if (carried != null) {
            p.fail(carried);
            return;
          }
          if (ar.cause() instanceof ReplyException re) {
            // No sequencer registered yet (election in progress): the write was not delivered, retry.
            if (re.failureType() == ReplyFailure.NO_HANDLERS && System.currentTimeMillis() < deadline) {
              vertx.setTimer(100, t -> attempt(request, deadline, p));
              return;
            }
            if (re.failureType() == ReplyFailure.TIMEOUT) {
              p.fail(new ApiError(ApiError.Reason.Timeout, "the store did not answer in time; the write may "
                  + "or may not have been applied"));
              return;
            }
          }
          p.fail(new ApiError(ApiError.Reason.ServiceUnavailable, "the store has no elected sequencer: "
              + ar.cause().getMessage()));
        });
  }
}
