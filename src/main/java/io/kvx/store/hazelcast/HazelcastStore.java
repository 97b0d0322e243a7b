package io.kvx.store.hazelcast;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.kvx.api.ApiError;
import io.kvx.api.Meta;
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

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * The {@link Store} on Hazelcast: writes go to the elected sequencer over the event bus; get, list
 * and watch are served by this JVM's {@link WatchCache}, after a sync with the sequencer so that a
 * read is never older than any write acknowledged before it started.
 */
public final class HazelcastStore implements Store {

  private static final long WRITE_TIMEOUT_MS = 10_000;
  /** A sync sent to whichever member leads; short, since it is safe to repeat. */
  private static final long FIND_LEADER_TIMEOUT_MS = 2_000;
  /** How long a write waits for a sequencer to be elected before failing with 503. */
  private static final long ELECTION_WAIT_MS = 15_000;
  /** How long a committed write's answer waits for this JVM's cache to apply it. */
  private static final long LOCAL_APPLY_WAIT_MS = 5_000;

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final WatchCache cache;
  /** The Hazelcast member UUID of the sequencer that answered last. */
  private final AtomicReference<String> leader = new AtomicReference<>();
  /** Requests sent and not yet answered; when the leader dies they are settled at once, not at timeout. */
  private final Set<Pending> pending = ConcurrentHashMap.newKeySet();

  /** Identity equality on purpose: a record would hash the whole request for every set operation. */
  private static final class Pending {
    final JsonObject request;
    final long deadline;
    final Promise<JsonObject> promise;
    final Context context;
    final String target;
    /** This JVM's revision when the request was sent: history after it tells whether a lost create landed. */
    final long since;

    Pending(JsonObject request, long deadline, Promise<JsonObject> promise, Context context, String target,
            long since) {
      this.since = since;
      this.request = request;
      this.deadline = deadline;
      this.promise = promise;
      this.context = context;
      this.target = target;
    }

    JsonObject request() {
      return request;
    }

    long deadline() {
      return deadline;
    }

    Promise<JsonObject> promise() {
      return promise;
    }

    Context context() {
      return context;
    }

    String target() {
      return target;
    }
  }

  /** {@code historyCount} and {@code historyAgeMillis} bound the watch history (see WatchCache). */
  public HazelcastStore(Vertx vertx, HazelcastInstance hz, int historyCount, long historyAgeMillis) {
    this.vertx = vertx;
    this.hz = hz;
    io.kvx.bus.HandedOverJson.register(vertx);
    IMap<String, String> objects = hz.getMap(Addresses.OBJECTS_MAP);
    this.cache = new WatchCache(vertx, objects, hz.getRingbuffer(Addresses.CHANGE_LOG), historyCount,
        historyAgeMillis, LocalRecords.of(hz));
    hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
        // nothing to do: reads are not parked on a new member
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        cache.memberLeft();
        memberGone(e.getMember().getUuid().toString());
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

  /** Hands every change this JVM's cache applies to {@code f} (see WatchCache.Follower). */
  public void follow(WatchCache.Follower f) {
    cache.follow(f);
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
  public Future<ListResult> list(String prefix, Predicate<JsonObject> filter, int limit, String continueAfter,
                                 long revision) {
    Context caller = vertx.getOrCreateContext();
    return onCaller(caller, sync().compose(v -> reached(revision, System.currentTimeMillis() + REVISION_WAIT_MILLIS))
        .compose(v -> cache.list(prefix, filter, limit, continueAfter, revision)));
  }

  @Override
  public Future<Void> awaitRevision(long revision) {
    Context caller = vertx.getOrCreateContext();
    return onCaller(caller, sync().compose(v -> reached(revision, System.currentTimeMillis() + REVISION_WAIT_MILLIS)));
  }

  /** How long a read at a revision ahead of the store waits for it before the 504 (kube-apiserver's 3 s). */
  private static final long REVISION_WAIT_MILLIS = 3000;

  /** After the read barrier, a revision still ahead of the cache is one no write has made yet: poll for it. */
  private Future<Void> reached(long revision, long deadline) {
    if (cache.revision() >= revision) return Future.succeededFuture();
    if (System.currentTimeMillis() >= deadline) {
      return Future.failedFuture(ApiError.tooLargeResourceVersion(revision, cache.revision()));
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(50, t -> reached(revision, deadline).onComplete(later));
    return later.future();
  }

  @Override
  public Future<JsonObject> getCached(String key) {
    Context caller = vertx.getOrCreateContext();
    return onCaller(caller, cache.get(key).map(v -> {
      if (v == null) throw ApiError.notFound(StoreKeys.group(key), StoreKeys.resource(key), StoreKeys.name(key));
      return v;
    }));
  }

  @Override
  public Future<ListResult> listCached(String prefix, Predicate<JsonObject> filter) {
    Context caller = vertx.getOrCreateContext();
    return onCaller(caller, cache.list(prefix, filter, 0, null, 0));
  }

  @Override
  public Future<JsonObject> create(String key, JsonObject object) {
    // The uid is fixed here, not by the sequencer, so that a create whose leader died can be recognised.
    JsonObject meta = object.getJsonObject("metadata");
    if (meta != null && meta.getString("uid") == null) meta.put("uid", java.util.UUID.randomUUID().toString());
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
  /**
   * The read barrier: the sequence of the last acknowledged write, then this cache caught up to it.
   * Batched as etcd batches ReadIndex requests: at most one sync is in flight; every read that arrives
   * meanwhile waits for the next round, sent when that one returns, which covers every write
   * acknowledged before those reads began.
   */
  private Future<Void> sync() {
    Future<Long> seq;
    synchronized (syncLock) {
      if (nextSync == null) nextSync = Promise.promise();
      seq = nextSync.future();
      if (!syncInFlight) startSyncRound();
    }
    return seq.compose(cache::awaitSequence);
  }

  /** Some member of the cluster runs a sequencer: the store has (or is electing) a leader to take writes. */
  @Override
  public boolean hasWriter() {
    for (com.hazelcast.cluster.Member m : hz.getCluster().getMembers()) {
      String roles = m.getAttribute(Addresses.ROLES_ATTRIBUTE);
      if (roles != null && java.util.List.of(roles.split(",")).contains("sequencer")) return true;
    }
    return false;
  }

  private final Object syncLock = new Object();
  /** The round later reads join; null until one does. Guarded by syncLock. */
  private Promise<Long> nextSync;
  private boolean syncInFlight;

  private void startSyncRound() {
    syncInFlight = true;
    Promise<Long> round = nextSync;
    nextSync = null;
    send(new JsonObject().put("op", "sync")).onComplete(ar -> {
      synchronized (syncLock) {
        syncInFlight = false;
        if (nextSync != null) startSyncRound();
      }
      if (ar.succeeded()) round.complete(ar.result().getLong("seq"));
      else round.fail(ar.cause());
    });
  }

  /**
   * A write is answered once this JVM's cache has applied it: reads without the barrier here ({@link #getCached},
   * the admission lookups) then always see the caller's own writes.
   */
  private Future<JsonObject> write(JsonObject request) {
    Context caller = vertx.getOrCreateContext();
    return onCaller(caller, send(request).compose(r -> {
      JsonObject object = r.getJsonObject("object");
      Long seq = r.getLong("seq");
      if (seq == null) return Future.succeededFuture(object);
      // Committed already: a cache that cannot catch up (re-listing) delays the answer, never withholds it.
      Promise<JsonObject> answered = Promise.promise();
      long timer = vertx.setTimer(LOCAL_APPLY_WAIT_MS, t -> answered.tryComplete(object));
      cache.awaitSequence(seq).onComplete(x -> {
        vertx.cancelTimer(timer);
        answered.tryComplete(object);
      });
      return answered.future();
    }));
  }

  private Future<JsonObject> send(JsonObject request) {
    Promise<JsonObject> p = Promise.promise();
    attempt(request, System.currentTimeMillis() + ELECTION_WAIT_MS, p);
    return p.future();
  }

  /**
   * A member left. If it led the store, the requests sent to it will never be answered: a sync is
   * asked again of the next leader; a write may or may not have been applied before the leader died
   * (the new leader recovers whatever reached the change log), so it fails at once as a timeout, as
   * etcd's clients see a lost leader, instead of holding the caller for the whole send timeout.
   */
  private void memberGone(String uuid) {
    leader.compareAndSet(uuid, null);
    for (Pending pr : List.copyOf(pending)) {
      if (pr.target() != null && !pr.target().equals(uuid)) continue;
      if (!pending.remove(pr)) continue;
      pr.context().runOnContext(v -> {
        if (isSync(pr.request())) {
          attempt(pr.request(), Math.max(pr.deadline(), System.currentTimeMillis() + ELECTION_WAIT_MS), pr.promise());
        } else {
          settleLostWrite(pr);
        }
      });
    }
  }

  /**
   * A write whose leader died before answering. Once the next leader leads and this cache has caught up with it,
   * everything the old leader logged is here and nothing more of it will be: a create whose uid is there was
   * applied; a create whose key is still free, or an update whose object is still at the expected version, was
   * not, and is sent again. Anything else may or may not have been applied: 504, as etcd's clients see it.
   */
  private void settleLostWrite(Pending pr) {
    JsonObject req = pr.request();
    String key = req.getString("key");
    Future<JsonObject> now = sync().compose(v -> cache.get(key));
    now.onComplete(ar -> pr.context().runOnContext(v -> {
      JsonObject current = ar.succeeded() ? ar.result() : null;
      String op = req.getString("op");
      JsonObject sent = req.getJsonObject("object");
      if (ar.succeeded() && "create".equals(op) && sent != null) {
        String uid = Meta.uid(sent);
        if (current == null && uid != null) {
          // Free now, but the create may have landed and been deleted since (another client saw it): the history
          // after the send says; only if it shows nothing is the create sent again.
          cache.findCreated(key, uid, pr.since).onComplete(found -> pr.context().runOnContext(x -> {
            if (found.succeeded() && found.result() != null) {
              pr.promise().tryComplete(new JsonObject().put("object", found.result()));
            } else if (found.succeeded()) {
              attempt(req, System.currentTimeMillis() + ELECTION_WAIT_MS, pr.promise());
            } else {
              pr.promise().tryFail(lostWrite());
            }
          }));
          return;
        }
        if (uid != null && uid.equals(Meta.uid(current))) {
          pr.promise().tryComplete(new JsonObject().put("object", current));
          return;
        }
      }
      if (ar.succeeded() && "update".equals(op) && current != null && req.getLong("expect", 0L) > 0
          && Meta.resourceVersion(current) == req.getLong("expect")) {
        attempt(req, System.currentTimeMillis() + ELECTION_WAIT_MS, pr.promise());
        return;
      }
      pr.promise().tryFail(lostWrite());
    }));
  }

  private static ApiError lostWrite() {
    return new ApiError(ApiError.Reason.Timeout, "the store leader was lost while writing; the write may or may "
        + "not have been applied");
  }

  private static boolean isSync(JsonObject request) {
    return "sync".equals(request.getString("op"));
  }

  /**
   * Writes go to the leader's own address, so that the loss of that member settles them at once.
   * While the leader is unknown, an idempotent sync on the shared address finds it first.
   */
  private void attempt(JsonObject request, long deadline, Promise<JsonObject> p) {
    String target = leader.get();
    if (target == null && !isSync(request)) {
      Promise<JsonObject> found = Promise.promise();
      attempt(new JsonObject().put("op", "sync"), deadline, found);
      found.future().onComplete(ar -> {
        if (ar.succeeded() && leader.get() != null) attempt(request, deadline, p);
        else if (ar.succeeded()) vertx.setTimer(100, t -> attempt(request, deadline, p));
        else p.fail(ar.cause());
      });
      return;
    }
    Pending pr = new Pending(request, deadline, p, vertx.getOrCreateContext(), target, cache.revision());
    pending.add(pr);
    if (target != null && hz.getCluster().getMembers().stream().noneMatch(m -> m.getUuid().toString().equals(target))) {
      // The leader is already gone and this request was never sent: settle the others, then find the next leader.
      pending.remove(pr);
      memberGone(target);
      attempt(request, deadline, p);
      return;
    }
    String address = target == null ? Addresses.STORE_WRITE : Addresses.storeWrite(target);
    long timeout = target == null ? FIND_LEADER_TIMEOUT_MS : WRITE_TIMEOUT_MS;
    // Handed over, not copied: nothing here changes a request once sent (a retry sends it unchanged), and the
    // sequencer copies the object it keeps.
    vertx.eventBus().<JsonObject>request(address, request, new DeliveryOptions().setSendTimeout(timeout)
            .setCodecName(io.kvx.bus.HandedOverJson.NAME))
        .onComplete(ar -> {
          if (!pending.remove(pr)) return; // settled by memberGone()
          if (ar.succeeded()) {
            String from = ar.result().body().getString("leader");
            if (from != null) leader.set(from);
            p.complete(ar.result().body());
            return;
          }
          ApiError carried = ApiError.fromReplyFailure(ar.cause());
          if (carried != null) {
            p.fail(carried);
            return;
          }
          if (ar.cause() instanceof ReplyException re) {
            // No sequencer there (an election is in progress or the leader stepped down): the
            // request was not delivered, so it is safe to send again.
            if (re.failureType() == ReplyFailure.NO_HANDLERS && System.currentTimeMillis() < deadline) {
              if (target != null) leader.compareAndSet(target, null);
              vertx.setTimer(target != null ? 1 : 100, t -> attempt(request, deadline, p));
              return;
            }
            if (re.failureType() == ReplyFailure.TIMEOUT) {
              if (target == null && System.currentTimeMillis() < deadline) {
                attempt(request, deadline, p); // a sync that reached a member that has just died
                return;
              }
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
