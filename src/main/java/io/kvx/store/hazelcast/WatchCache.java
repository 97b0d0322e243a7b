package io.kvx.store.hazelcast;

import com.hazelcast.map.IMap;
import com.hazelcast.ringbuffer.ReadResultSet;
import com.hazelcast.ringbuffer.Ringbuffer;
import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.store.IndexedFilter;
import io.kvx.store.ListResult;
import io.kvx.store.Watch;
import io.kvx.store.WatchEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * One per JVM: follows the store's change log (a Hazelcast Ringbuffer, which is ordered and gapless)
 * and keeps the current objects plus a bounded history of events. Lists and watches are served from
 * it, so list + watch from the list's revision is consistent. All state is touched only on the
 * cache's own context.
 */
public final class WatchCache {

  private static final Logger LOG = Logger.getLogger(WatchCache.class.getName());

  /** One retained event; {@code time} is when the sequencer committed it (ms since the epoch). */
  private record HistoryEntry(String key, WatchEvent event, JsonObject previous, long time) {}

  private final class Watcher implements Watch {
    final String prefix;
    final Predicate<JsonObject> filter;
    final Handler<WatchEvent> handler;
    final Context context;
    final long startRevision;
    volatile boolean closed;

    Watcher(String prefix, Predicate<JsonObject> filter, Handler<WatchEvent> handler, Context context, long start) {
      this.prefix = prefix;
      this.filter = filter;
      this.handler = handler;
      this.context = context;
      this.startRevision = start;
    }

    @Override
    public long startRevision() {
      return startRevision;
    }

    @Override
    public void close() {
      closed = true;
      cacheContext.runOnContext(v -> remove(this));
    }

    void offer(String key, WatchEvent ev, JsonObject previous) {
      // A watch may start from a version this cache has not applied yet (read on another JVM).
      if (closed || ev.revision() <= startRevision || !key.startsWith(prefix)) return;
      boolean was;
      boolean is;
      try {
        was = previous != null && filter.test(previous);
        is = !ev.type().equals(WatchEvent.DELETED) && filter.test(ev.object());
      } catch (RuntimeException e) {
        // One watcher's filter must not stop the cache: that watcher ends (its client re-lists).
        LOG.warning("watch cache: a watch filter failed on " + key + ": " + e);
        expire();
        return;
      }
      String type;
      if (is) type = was ? WatchEvent.MODIFIED : WatchEvent.ADDED;
      else if (was) type = WatchEvent.DELETED;
      else return;
      WatchEvent out = new WatchEvent(type, ev.object(), ev.revision());
      deliver(context, () -> {
        if (!closed) handler.handle(out);
      });
    }

    /** The store lost events for this watcher: end it so the client re-lists (410). */
    void expire() {
      closed = true;
      JsonObject status = ApiError.gone("the watch cache was re-listed; please re-list").toStatus();
      deliver(context, () -> handler.handle(new WatchEvent("ERROR", status, 0)));
    }
  }

  /**
   * While a batch read from the change log is applied: what each watcher context is to run, sent as one task
   * per context after the batch (a change watched 1,000 times on one event loop is one hand-over, not 1,000).
   * Order per context is kept: tasks run in the order they were added, and batches in the order sent.
   */
  private Map<Context, List<Runnable>> deliveries;

  private void deliver(Context context, Runnable r) {
    if (deliveries == null) context.runOnContext(v -> r.run());
    // Keyed by the event loop's context: every HTTP request runs on a context of its own (a duplicate of its
    // event loop's), and the watchers of one event loop are to share one hand-over.
    else deliveries.computeIfAbsent(((io.vertx.core.internal.ContextInternal) context).unwrap(),
        k -> new ArrayList<>()).add(r);
  }

  private void flushDeliveries() {
    Map<Context, List<Runnable>> d = deliveries;
    deliveries = null;
    if (d == null) return;
    d.forEach((context, tasks) -> context.runOnContext(v -> {
      for (Runnable r : tasks) {
        try {
          r.run();
        } catch (RuntimeException e) {
          LOG.warning("watch cache: a watch handler failed: " + e);
        }
      }
    }));
  }

  private final Vertx vertx;
  private final Context cacheContext;
  private final IMap<String, String> objectsMap;
  private final Ringbuffer<String> changeLog;
  private final int historyCount;
  private final long historyAgeMillis;
  private long compactionTimer = -1;
  private final NavigableMap<String, JsonObject> objects = new TreeMap<>();
  private final ArrayDeque<HistoryEntry> history = new ArrayDeque<>();
  /** Watchers without an {@link IndexedFilter}: each is offered every change. */
  private final List<Watcher> watchers = new ArrayList<>();
  /** Watchers with an {@link IndexedFilter}: field -> value -> watchers, offered only their values' changes. */
  private final Map<String, Map<String, List<Watcher>>> indexed = new HashMap<>();
  private final List<Follower> followers = new ArrayList<>();
  private final TreeMap<Long, List<Promise<Void>>> sequenceWaiters = new TreeMap<>();
  private volatile long revision;
  private long oldestServable;
  private long nextSequence;
  private long appliedSequence = -1;
  private boolean stopped;
  /** False while (re)loading the snapshot; lists and new watches wait for it. */
  private boolean started;
  private final List<Runnable> waitingForStart = new ArrayList<>();
  /** Bumped to abandon an outstanding read (its member died); a stale read's result is ignored. */
  private long readGeneration;
  /** The sequencer term of the last record applied; a new term means records may have diverged. */
  private String epoch;
  /** Records up to this sequence were logged before this cache's snapshot and may span terms. */
  private long replayUntil;
  private boolean reading;
  /** While starting: the sequence up to which the log must be applied before the state is consistent. */
  private long consistentAt;
  private Promise<Void> onConsistent;

  /**
   * Keeps at most {@code historyCount} events and none older than {@code historyAgeMillis}; a watch
   * from before the oldest retained event gets 410.
   */
  private final LocalRecords localRecords;

  public WatchCache(Vertx vertx, IMap<String, String> objectsMap, Ringbuffer<String> changeLog, int historyCount,
                    long historyAgeMillis) {
    this(vertx, objectsMap, changeLog, historyCount, historyAgeMillis, null);
  }

  /** {@code localRecords}: what this JVM's sequencer wrote, taken instead of parsed (null: parse everything). */
  WatchCache(Vertx vertx, IMap<String, String> objectsMap, Ringbuffer<String> changeLog, int historyCount,
             long historyAgeMillis, LocalRecords localRecords) {
    this.localRecords = localRecords;
    this.vertx = vertx;
    this.cacheContext = vertx.getOrCreateContext();
    this.objectsMap = objectsMap;
    this.changeLog = changeLog;
    this.historyCount = historyCount;
    this.historyAgeMillis = historyAgeMillis;
    cacheContext.runOnContext(v -> {
      if (!stopped) compactionTimer = vertx.setPeriodic(1000, t -> compact(System.currentTimeMillis()));
    });
  }

  public long revision() {
    return revision;
  }

  /** Gets this cache's state whenever it is (re)loaded, then every change it applies, in order. */
  public interface Follower {
    void reset(Map<String, JsonObject> objects, long revision);

    void applied(List<Sequencer.Change> changes);
  }

  /** Adds a follower; it hears of the state at the next (re)load or, if loaded, at once. */
  public void follow(Follower f) {
    cacheContext.runOnContext(v -> {
      followers.add(f);
      if (started) f.reset(Map.copyOf(objects), revision);
    });
  }

  /**
   * Loads a snapshot, then follows the log. Records from just before the snapshot are replayed too
   * (the sequencer logs before it updates the map); a record only applies if newer than what is held.
   */
  public Future<Void> start() {
    Promise<Void> started = Promise.promise();
    cacheContext.runOnContext(v -> vertx.executeBlocking(() -> {
      long tail = changeLog.tailSequence();
      long head = changeLog.headSequence();
      Map<String, JsonObject> snapshot = new HashMap<>();
      objectsMap.forEach((k, val) -> snapshot.put(k, new JsonObject(val)));
      // Every object in the snapshot was logged at or before this sequence (the log is written first).
      long complete = changeLog.tailSequence();
      return new Object[] {tail, head, snapshot, complete};
    }).onComplete(ar -> {
      if (ar.failed()) {
        started.fail(ar.cause());
        return;
      }
      long tail = (Long) ar.result()[0];
      long head = (Long) ar.result()[1];
      @SuppressWarnings("unchecked")
      Map<String, JsonObject> snapshot = (Map<String, JsonObject>) ar.result()[2];
      long complete = (Long) ar.result()[3];
      objects.clear();
      history.clear();
      epoch = null;
      long rev = 0;
      for (Map.Entry<String, JsonObject> e : snapshot.entrySet()) {
        objects.put(e.getKey(), e.getValue());
        rev = Math.max(rev, Meta.resourceVersion(e.getValue()));
      }
      revision = rev;
      oldestServable = rev;
      nextSequence = Math.max(head, tail - 2048 + 1);
      replayUntil = tail;
      appliedSequence = nextSequence - 1;
      // The map is read while the sequencer writes, so the snapshot mixes revisions; it is a
      // consistent state only once the log is applied up to `complete`. Until then, reads wait.
      consistentAt = complete;
      Promise<Void> earlier = onConsistent; // a start that was cut short by a re-list
      onConsistent = started;
      if (earlier != null) started.future().onComplete(earlier);
      follow();
      checkConsistent();
    }));
    return started.future();
  }

  private void checkConsistent() {
    if (started || onConsistent == null || appliedSequence < consistentAt) return;
    started = true;
    if (!followers.isEmpty()) {
      Map<String, JsonObject> all = Map.copyOf(objects);
      followers.forEach(f -> f.reset(all, revision));
    }
    List<Runnable> waiting = List.copyOf(waitingForStart);
    waitingForStart.clear();
    waiting.forEach(Runnable::run);
    Promise<Void> p = onConsistent;
    onConsistent = null;
    p.tryComplete();
  }

  public void stop() {
    stopped = true;
    cacheContext.runOnContext(v -> vertx.cancelTimer(compactionTimer));
  }

  /** Drops events beyond the count or older than the age; a watch from before them gets 410. */
  private void compact(long now) {
    while (!history.isEmpty()
        && (history.size() > historyCount || history.peekFirst().time() < now - historyAgeMillis)) {
      oldestServable = history.removeFirst().event().revision();
    }
  }

  /**
   * A member left: a read parked on it may never answer, so read again from where this cache is.
   * Called by the owner's membership listener.
   */
  public void memberLeft() {
    cacheContext.runOnContext(v -> {
      if (reading) follow();
    });
  }

  private void follow() {
    if (stopped) return;
    long from = nextSequence;
    long generation = ++readGeneration;
    reading = true;
    Future.fromCompletionStage(changeLog.readManyAsync(from, 1, 1000, null), cacheContext).onComplete(ar -> {
      if (stopped || generation != readGeneration) return;
      reading = false;
      if (ar.failed()) {
        if (ar.cause() instanceof com.hazelcast.core.HazelcastInstanceNotActiveException) return;
        // A member left or a partition moved: read the same sequence again; only an overrun re-lists.
        LOG.info("watch cache: reading the change log failed (" + ar.cause() + "), retrying");
        vertx.setTimer(100, t -> follow());
        return;
      }
      ReadResultSet<String> rs = ar.result();
      if (rs.size() > 0 && rs.getSequence(0) != from) {
        LOG.warning("watch cache: change log overran this cache (wanted " + from + ", got " + rs.getSequence(0)
            + "), re-listing");
        relist();
        return;
      }
      // Changes read before the snapshot is consistent reach followers through reset() instead.
      boolean wasStarted = started;
      List<Sequencer.Change> applied = new ArrayList<>();
      deliveries = new java.util.LinkedHashMap<>();
      try {
        if (!applyBatch(rs, wasStarted, applied)) return;
      } finally {
        flushDeliveries();
      }
      if (!applied.isEmpty()) {
        List<Sequencer.Change> batch = List.copyOf(applied);
        followers.forEach(f -> f.applied(batch));
      }
      nextSequence = rs.getNextSequenceToReadFrom();
      appliedSequence = nextSequence - 1;
      releaseWaiters();
      checkConsistent();
      follow();
    });
  }

  /** Applies one read of the change log; false when it made this cache re-list (the rest is dropped). */
  private boolean applyBatch(ReadResultSet<String> rs, boolean wasStarted, List<Sequencer.Change> applied) {
    for (int i = 0; i < rs.size(); i++) {
      long seq = rs.getSequence(i);
      String text = rs.get(i);
      // A record this JVM's sequencer just wrote: the same change, its object already built (no parse).
      LocalRecords.Entry local = localRecords == null ? null : localRecords.match(seq, text);
      JsonObject r = local != null ? null : new JsonObject(text);
      String recordEpoch = local != null ? local.change().epoch() : r.getString("epoch");
      boolean replay = seq <= replayUntil;
      if (!replay && epoch != null && !epoch.equals(recordEpoch)) {
        if (r == null) r = new JsonObject(text);
        // A new leader. Its marker names the last sequence it recovered: if that is exactly where
        // this cache is, nothing this cache saw was lost and it follows on. Otherwise the old
        // leader logged records that were lost (and their sequences are reused): start over from
        // the store; watchers get 410 and re-list.
        if (Sequencer.isMarker(r) && r.getLong("after") == seq - 1) {
          LOG.info("watch cache: the store has a new leader at revision " + r.getLong("rev")
              + "; nothing was lost, following on");
        } else {
          LOG.info("watch cache: the store has a new leader and this cache saw records it lost, re-listing");
          epoch = null;
          relist();
          return false;
        }
      }
      epoch = recordEpoch;
      if (local != null) {
        apply(local.change(), local.time());
        if (wasStarted && !followers.isEmpty()) applied.add(local.change());
      } else if (!Sequencer.isMarker(r)) {
        Sequencer.Change c = Sequencer.Change.fromRecord(r);
        apply(c, r.getLong("ts", System.currentTimeMillis()));
        if (wasStarted && !followers.isEmpty()) applied.add(c);
      }
    }
    return true;
  }

  /** Loads the snapshot again after a re-list, until it succeeds: without it nothing is followed. */
  private void restart() {
    if (stopped) return;
    start().onFailure(e -> {
      LOG.warning("watch cache: re-listing failed (" + e + "), retrying");
      vertx.setTimer(1000, t -> restart());
    });
  }

  /** Runs on the cache context once the snapshot is loaded. */
  private void whenStarted(Runnable action) {
    cacheContext.runOnContext(v -> {
      if (started) action.run();
      else waitingForStart.add(action);
    });
  }

  private void relist() {
    started = false;
    watchers.forEach(Watcher::expire);
    watchers.clear();
    indexed.values().forEach(byValue -> byValue.values().forEach(ws -> ws.forEach(Watcher::expire)));
    indexed.clear();
    vertx.setTimer(200, t -> restart());
  }

  private void apply(Sequencer.Change c, long time) {
    JsonObject previous = objects.get(c.key());
    if (previous != null && Meta.resourceVersion(previous) >= c.revision()) return;
    if (c.revision() <= revision && previous == null && c.type().equals(WatchEvent.DELETED)) return;
    if (c.type().equals(WatchEvent.DELETED)) objects.remove(c.key());
    else objects.put(c.key(), c.object());
    if (c.revision() <= revision) return; // replayed from before the snapshot: state fixed, no event
    revision = c.revision();
    WatchEvent ev = new WatchEvent(c.type(), c.object(), c.revision());
    history.addLast(new HistoryEntry(c.key(), ev, previous, time));
    compact(System.currentTimeMillis());
    for (Watcher w : watchers) w.offer(c.key(), ev, previous);
    if (!indexed.isEmpty()) offerIndexed(c.key(), ev, previous);
  }

  private void offerIndexed(String key, WatchEvent ev, JsonObject previous) {
    for (Map.Entry<String, Map<String, List<Watcher>>> e : indexed.entrySet()) {
      String now = IndexedFilter.valueOf(e.getKey(), ev.object());
      List<Watcher> ws = e.getValue().get(now);
      if (ws != null) for (Watcher w : ws) w.offer(key, ev, previous);
      if (previous == null) continue;
      String before = IndexedFilter.valueOf(e.getKey(), previous);
      if (before.equals(now)) continue;
      ws = e.getValue().get(before);
      if (ws != null) for (Watcher w : ws) w.offer(key, ev, previous);
    }
  }

  private void add(Watcher w) {
    if (w.filter instanceof IndexedFilter f) {
      indexed.computeIfAbsent(f.field(), k -> new HashMap<>()).computeIfAbsent(f.value(), k -> new ArrayList<>()).add(w);
    } else {
      watchers.add(w);
    }
  }

  private void remove(Watcher w) {
    if (w.filter instanceof IndexedFilter f) {
      Map<String, List<Watcher>> byValue = indexed.get(f.field());
      List<Watcher> ws = byValue == null ? null : byValue.get(f.value());
      if (ws == null) return;
      ws.remove(w);
      if (ws.isEmpty()) byValue.remove(f.value());
      if (byValue.isEmpty()) indexed.remove(f.field());
    } else {
      watchers.remove(w);
    }
  }

  private void releaseWaiters() {
    while (!sequenceWaiters.isEmpty() && sequenceWaiters.firstKey() <= appliedSequence) {
      sequenceWaiters.pollFirstEntry().getValue().forEach(Promise::complete);
    }
  }

  /** Completes once this cache has applied the change log up to {@code sequence}. */
  public Future<Void> awaitSequence(long sequence) {
    Promise<Void> p = Promise.promise();
    cacheContext.runOnContext(v -> {
      if (appliedSequence >= sequence) p.complete();
      else sequenceWaiters.computeIfAbsent(sequence, s -> new ArrayList<>()).add(p);
    });
    return p.future();
  }

  /**
   * The object a create of {@code key} with {@code uid} made, if this cache saw it after revision {@code since}
   * (even if it was changed or deleted since); null if it saw no such create; failed if its history no longer
   * reaches back to {@code since} (compacted, or re-listed), so it cannot tell.
   */
  public Future<JsonObject> findCreated(String key, String uid, long since) {
    Promise<JsonObject> p = Promise.promise();
    whenStarted(() -> {
      if (since < oldestServable) {
        p.fail(new IllegalStateException("history after revision " + since + " is no longer kept"));
        return;
      }
      for (HistoryEntry h : history) {
        if (h.key().equals(key) && uid.equals(Meta.uid(h.event().object()))) {
          p.complete(h.event().object());
          return;
        }
      }
      p.complete(null);
    });
    return p.future();
  }

  /** The object at this cache's revision, or null. */
  public Future<JsonObject> get(String key) {
    Promise<JsonObject> p = Promise.promise();
    whenStarted(() -> p.complete(objects.get(key)));
    return p.future();
  }

  /**
   * The objects under {@code prefix} at {@code at} (0 or a revision not behind this cache: the newest), in key
   * order, the page after {@code continueAfter}. An earlier revision is the current objects with every later
   * change of the history undone; 410 Expired once the history no longer reaches back to it.
   */
  public Future<ListResult> list(String prefix, Predicate<JsonObject> filter, int limit, String continueAfter,
                                 long at) {
    Promise<ListResult> p = Promise.promise();
    whenStarted(() -> {
      boolean past = at > 0 && at < revision;
      if (past && at < oldestServable) {
        p.fail(ApiError.gone(LIST_TOO_OLD));
        return;
      }
      String from = continueAfter == null ? prefix : continueAfter;
      NavigableMap<String, JsonObject> view = objects.tailMap(from, continueAfter == null);
      if (past) view = asOf(view, prefix, from, continueAfter == null, at);
      List<JsonObject> items = new ArrayList<>();
      String last = null;
      long remaining = 0;
      for (Map.Entry<String, JsonObject> e : view.entrySet()) {
        if (!e.getKey().startsWith(prefix)) break;
        if (!filter.test(e.getValue())) continue;
        if (limit > 0 && items.size() >= limit) {
          remaining++;
          continue;
        }
        items.add(e.getValue());
        last = e.getKey();
      }
      p.complete(new ListResult(items, past ? at : revision, remaining > 0 ? last : null, remaining));
    });
    return p.future();
  }

  /** kube-apiserver's message for a list at a compacted resourceVersion. */
  public static final String LIST_TOO_OLD = "The resourceVersion for the provided list is too old.";

  /** {@code current} (the keys from {@code from} on) as it was at revision {@code at}, which the history covers. */
  private NavigableMap<String, JsonObject> asOf(NavigableMap<String, JsonObject> current, String prefix, String from,
                                                boolean inclusive, long at) {
    TreeMap<String, JsonObject> then = new TreeMap<>();
    for (Map.Entry<String, JsonObject> e : current.entrySet()) {
      if (!e.getKey().startsWith(prefix)) break;
      then.put(e.getKey(), e.getValue());
    }
    // The first change of a key after `at` says what it was at `at`: the object before it, or none.
    Set<String> undone = new HashSet<>();
    for (HistoryEntry h : history) {
      String key = h.key();
      if (h.event().revision() <= at || !key.startsWith(prefix) || !undone.add(key)) continue;
      int c = key.compareTo(from);
      if (c < 0 || (c == 0 && !inclusive)) continue;
      if (h.previous() == null) then.remove(key);
      else then.put(key, h.previous());
    }
    return then;
  }

  /** Events reach {@code handler} on {@code callerContext}, in revision order. */
  public Future<Watch> watch(String prefix, long fromRevision, boolean initialEvents, Predicate<JsonObject> filter,
                             Handler<WatchEvent> handler, Context callerContext) {
    Promise<Watch> p = Promise.promise();
    whenStarted(() -> {
      if (!initialEvents && fromRevision != 0 && fromRevision < oldestServable) {
        p.fail(ApiError.gone("too old resource version: " + fromRevision + " (" + oldestServable + ")"));
        return;
      }
      long start = initialEvents || fromRevision == 0 ? revision : fromRevision;
      Watcher w = new Watcher(prefix, filter, handler, callerContext, start);
      if (initialEvents) {
        for (Map.Entry<String, JsonObject> e : objects.tailMap(prefix, true).entrySet()) {
          if (!e.getKey().startsWith(prefix)) break;
          JsonObject o = e.getValue();
          if (filter.test(o)) {
            WatchEvent ev = new WatchEvent(WatchEvent.ADDED, o, Meta.resourceVersion(o));
            callerContext.runOnContext(x -> handler.handle(ev));
          }
        }
      } else {
        Iterator<HistoryEntry> it = history.iterator();
        while (it.hasNext()) {
          HistoryEntry h = it.next();
          if (h.event().revision() > start) w.offer(h.key(), h.event(), h.previous());
        }
      }
      add(w);
      p.complete(w);
    });
    return p.future();
  }
}
