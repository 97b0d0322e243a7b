package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DESIGN §2 under a killed JVM, continuously: three JVMs each run a sequencer and an API server.
 * Two of them take configmap creates and updates (many in flight, every acknowledged write recorded
 * with its resourceVersion) while a watcher on the third follows the namespace from a version read
 * on another JVM. Mid-run one writer JVM is SIGKILLed. Then: acknowledged revisions are unique; the
 * watch saw every acknowledged write exactly once, in strictly increasing order, or was told 410 and
 * re-listed (and the list covers what it missed); nothing unacknowledged appears except writes whose
 * outcome the client never learnt; a final list on each survivor has every acknowledged object at its
 * acknowledged resourceVersion; stale versions get 409; a compacted version gets 410.
 */
class StoreChaosIT {

  private static final String SECRET = "it-store-chaos";
  private static final String NS = "chaos";
  private static final String CMS = "/api/v1/namespaces/" + NS + "/configmaps";
  private static final int IN_FLIGHT = 32;
  private static final int HISTORY_COUNT = 500;

  private final List<KvxProcess> processes = new ArrayList<>();

  record Ack(String name, long rv, String writer) {}

  record Event(String type, String name, long rv) {}

  /** What the watcher knows between two re-lists: the list (or start version) and the events after it. */
  static final class Segment {
    final long start;
    final Map<String, Long> listed;
    final List<Event> events = new ArrayList<>();
    String end = "open";

    Segment(long start, Map<String, Long> listed) {
      this.start = start;
      this.listed = listed;
    }

    long last() {
      return events.isEmpty() ? start : events.getLast().rv();
    }
  }

  @AfterEach
  void down() throws Exception {
    for (KvxProcess p : processes.reversed()) p.close();
  }

  @Test
  void killingTheStoreLeaderLosesNoAcknowledgedWriteAndNoWatchEvent() throws Exception {
    run(true);
  }

  @Test
  void killingAFollowerWriterLosesNoAcknowledgedWriteAndNoWatchEvent() throws Exception {
    run(false);
  }

  private void run(boolean killLeader) throws Exception {
    int base = killLeader ? 0 : 3;
    KvxProcess a = start("chaos-a" + base, 17801 + base, 5801 + base, null);
    a.awaitReady(Duration.ofSeconds(60));
    KvxProcess b = start("chaos-b" + base, 17802 + base, 5802 + base, "127.0.0.1:" + (5801 + base));
    KvxProcess c = start("chaos-c" + base, 17803 + base, 5803 + base, "127.0.0.1:" + (5801 + base));
    b.awaitReady(Duration.ofSeconds(60));
    c.awaitReady(Duration.ofSeconds(60));
    ApiHttp viaA = new ApiHttp(a);
    ApiHttp viaB = new ApiHttp(b);
    ApiHttp viaC = new ApiHttp(c);
    ApiHttp.Reply ns = viaA.send("POST", "/api/v1/namespaces", new JsonObject().put("apiVersion", "v1")
        .put("kind", "Namespace").put("metadata", new JsonObject().put("name", NS)));
    assertEquals(201, ns.code(), ns.body().encode());

    ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    Writer wa = new Writer("a", viaA, acks);
    Writer wb = new Writer("b", viaB, acks);
    // A is the oldest member, so the store's leader; B is a follower that also writes.
    Writer victimWriter = killLeader ? wa : wb;
    KvxProcess victim = killLeader ? a : b;
    Writer survivorWriter = killLeader ? wb : wa;
    List<ApiHttp> survivors = killLeader ? List.of(viaB, viaC) : List.of(viaA, viaC);
    wa.start();
    wb.start();
    Thread.sleep(2_000);
    ApiHttp.Reply list0 = viaA.get(CMS);
    long from = Long.parseLong(list0.body().getJsonObject("metadata").getString("resourceVersion"));
    Watcher watcher = new Watcher(viaC, from);
    watcher.start();
    Thread.sleep(10_000);

    // Compaction: with a history of HISTORY_COUNT events, a version many writes old is gone.
    long newest = acks.stream().mapToLong(Ack::rv).max().orElseThrow();
    System.out.printf("chaos: %d writes acknowledged before the kill, newest revision %d, watch from %d%n",
        acks.size(), newest, from);
    assertTrue(newest - from > 4 * HISTORY_COUNT, "enough writes to compact the history: " + (newest - from));
    assertEquals(410, watchCode(survivors.get(0), from), "a compacted resourceVersion is 410 Gone");

    long killedAt = System.nanoTime();
    victim.kill();
    victimWriter.stop();
    Thread.sleep(12_000);
    survivorWriter.stop();
    assertTrue(victimWriter.drain(Duration.ofSeconds(40)) && survivorWriter.drain(Duration.ofSeconds(40)),
        "writes in flight finished");
    long maxAck = acks.stream().mapToLong(Ack::rv).max().orElseThrow();
    long deadline = System.currentTimeMillis() + 30_000;
    while (watcher.seen < maxAck && System.currentTimeMillis() < deadline) Thread.sleep(100);
    watcher.stop();
    System.out.printf("chaos: killed %s; %d acks in all (a %d, b %d), unknown outcomes a %d b %d, "
            + "watch segments %d, events %d, newest ack %d, watch reached %d; the surviving writer's "
            + "longest pause without an ack: %d ms%n", victim.name, acks.size(), wa.acked.get(), wb.acked.get(),
        wa.uncertain.size(), wb.uncertain.size(), watcher.segments.size(),
        watcher.segments.stream().mapToInt(s -> s.events.size()).sum(), maxAck, watcher.seen,
        survivorWriter.longestPauseAfter(killedAt));
    watcher.segments.forEach(s -> System.out.printf("chaos:   segment from %d: %d events, %s%n", s.start,
        s.events.size(), s.end));

    List<String> problems = new ArrayList<>();
    problems.addAll(wa.violations);
    problems.addAll(wb.violations);
    problems.addAll(watcher.violations);
    assertTrue(watcher.seen >= maxAck, "the watch reached the newest acknowledged revision " + maxAck
        + " (saw " + watcher.seen + ")");

    // 1. Every acknowledged write has its own revision.
    Map<Long, Ack> byRv = new HashMap<>();
    for (Ack ack : acks) {
      Ack other = byRv.put(ack.rv(), ack);
      if (other != null) problems.add("revision " + ack.rv() + " acknowledged twice: " + other + " and " + ack);
    }
    // 2. The watch has every acknowledged write exactly once, or a re-list covers it.
    Set<String> uncertain = new HashSet<>(wa.uncertain);
    uncertain.addAll(wb.uncertain);
    List<Segment> segs = watcher.segments;
    for (Ack ack : acks) {
      if (ack.rv() <= from) continue;
      boolean covered = false;
      for (int i = 0; i < segs.size() && !covered; i++) {
        Segment s = segs.get(i);
        if (ack.rv() > s.start && ack.rv() <= s.last()) {
          long n = s.events.stream().filter(e -> e.rv() == ack.rv() && e.name().equals(ack.name())).count();
          if (n != 1) problems.add("watch segment from " + s.start + " has " + n + " events for " + ack);
          covered = true;
        } else if (ack.rv() <= s.start && i > 0 && ack.rv() > segs.get(i - 1).last()) {
          Long listed = s.listed.get(ack.name());
          if (listed == null || listed < ack.rv()) {
            problems.add("re-list at " + s.start + " misses " + ack + " (has " + listed + ")");
          }
          covered = true;
        }
      }
      if (!covered) problems.add("no watch segment covers " + ack);
    }
    // 3. Nothing appears that no one wrote.
    for (Segment s : segs) {
      for (Event e : s.events) {
        Ack ack = byRv.get(e.rv());
        if (ack == null ? !uncertain.contains(e.name()) : !ack.name().equals(e.name())) {
          problems.add("watch event " + e + " matches no acknowledged write");
        }
      }
    }
    // 4. Every survivor lists every acknowledged object at its acknowledged version.
    Map<String, Long> lastAck = new HashMap<>();
    acks.forEach(k -> lastAck.merge(k.name(), k.rv(), Math::max));
    for (ApiHttp api : survivors) {
      Map<String, Long> listed = listVersions(api);
      lastAck.forEach((name, rv) -> {
        Long got = listed.get(name);
        boolean ok = uncertain.contains(name) ? got != null && got >= rv : Long.valueOf(rv).equals(got);
        if (!ok) problems.add(api.base + " lists " + name + " at " + got + ", acknowledged at " + rv);
      });
      long expected = lastAck.size();
      if (listed.size() < expected) problems.add(api.base + " lists " + listed.size() + " < " + expected);
    }
    // 5. Stale versions are 409 Conflict, on update and on delete.
    Ack older = null;
    Ack newer = null;
    for (Ack x : acks) {
      for (Ack y : acks) {
        if (x.name().equals(y.name()) && x.rv() < y.rv()) {
          older = x;
          newer = y;
          break;
        }
      }
      if (older != null) break;
    }
    assertTrue(older != null, "some object was updated");
    JsonObject stale = configMap(older.name(), older.rv(), -1);
    ApiHttp.Reply put = survivors.get(0).send("PUT", CMS + "/" + older.name(), stale);
    assertEquals(409, put.code(), "update with a stale resourceVersion: " + put.body().encode());
    assertEquals("Conflict", put.body().getString("reason"));
    ApiHttp.Reply del = survivors.get(1).send("DELETE", CMS + "/" + older.name(), new JsonObject()
        .put("kind", "DeleteOptions").put("apiVersion", "v1")
        .put("preconditions", new JsonObject().put("resourceVersion", String.valueOf(older.rv()))));
    assertEquals(409, del.code(), "delete with a stale resourceVersion: " + del.body().encode());
    // 6. Still compacted after the failover.
    assertEquals(410, watchCode(survivors.get(1), from), "a compacted resourceVersion is 410 Gone");

    if (!problems.isEmpty()) {
      problems.stream().limit(40).forEach(p -> System.out.println("chaos: PROBLEM " + p));
    }
    assertTrue(problems.isEmpty(), problems.size() + " problems, first: " + problems.stream().limit(5).toList());
    assertTrue(newer.rv() > older.rv());
  }

  private KvxProcess start(String name, int apiPort, int clusterPort, String join) throws Exception {
    List<String> args = new ArrayList<>(List.of("server", "--roles", "sequencer,apiserver", "--cluster-port",
        String.valueOf(clusterPort), "--secret", SECRET, "--history-count", String.valueOf(HISTORY_COUNT)));
    if (join != null) args.addAll(List.of("--join", join));
    KvxProcess p = KvxProcess.start(name, Files.createTempDirectory("kvx-it-" + name), apiPort,
        args.toArray(String[]::new));
    processes.add(p);
    return p;
  }

  static JsonObject configMap(String name, long rv, int value) {
    JsonObject meta = new JsonObject().put("name", name).put("namespace", NS);
    if (rv > 0) meta.put("resourceVersion", String.valueOf(rv));
    return new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap").put("metadata", meta)
        .put("data", new JsonObject().put("value", String.valueOf(value)));
  }

  private static Map<String, Long> listVersions(ApiHttp api) throws Exception {
    ApiHttp.Reply r = api.get(CMS);
    assertEquals(200, r.code(), r.body().encode());
    Map<String, Long> out = new TreeMap<>();
    r.body().getJsonArray("items").forEach(o -> {
      JsonObject meta = ((JsonObject) o).getJsonObject("metadata");
      out.put(meta.getString("name"), Long.parseLong(meta.getString("resourceVersion")));
    });
    return out;
  }

  /** The HTTP status of a watch from {@code rv}, or the code of an ERROR event that opens it. */
  private static int watchCode(ApiHttp api, long rv) throws Exception {
    HttpResponse<Stream<String>> r = api.stream(CMS + "?watch=true&resourceVersion=" + rv + "&timeoutSeconds=2");
    try (Stream<String> lines = r.body()) {
      if (r.statusCode() != 200) return r.statusCode();
      Iterator<String> it = lines.iterator();
      if (!it.hasNext()) return 200;
      JsonObject ev = new JsonObject(it.next());
      return "ERROR".equals(ev.getString("type")) ? ev.getJsonObject("object").getInteger("code") : 200;
    }
  }

  /** Creates and updates its own configmaps through one API server, IN_FLIGHT at a time. */
  static final class Writer {
    final String id;
    final ApiHttp api;
    final ConcurrentLinkedQueue<Ack> acks;
    final Semaphore permits = new Semaphore(IN_FLIGHT);
    final ConcurrentLinkedQueue<String> idle = new ConcurrentLinkedQueue<>();
    final Map<String, Long> lastAck = new ConcurrentHashMap<>();
    final Set<String> uncertain = ConcurrentHashMap.newKeySet();
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger acked = new AtomicInteger();
    final Map<Integer, Integer> failures = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<Long> ackTimes = new ConcurrentLinkedQueue<>();
    volatile boolean running = true;
    private Thread thread;
    private int next;

    Writer(String id, ApiHttp api, ConcurrentLinkedQueue<Ack> acks) {
      this.id = id;
      this.api = api;
      this.acks = acks;
    }

    void start() {
      thread = Thread.ofPlatform().daemon().name("writer-" + id).start(this::loop);
    }

    void stop() {
      running = false;
    }

    boolean drain(Duration timeout) throws InterruptedException {
      if (!permits.tryAcquire(IN_FLIGHT, timeout.toMillis(), TimeUnit.MILLISECONDS)) return false;
      permits.release(IN_FLIGHT);
      thread.join(5_000);
      System.out.printf("chaos: writer %s: %d acknowledged, failures by status %s%n", id, acked.get(), failures);
      return true;
    }

    /** The longest time without an acknowledgement from just before {@code nanos} on, in ms. */
    long longestPauseAfter(long nanos) {
      long[] times = ackTimes.stream().mapToLong(Long::longValue).filter(t -> t > nanos - 1_000_000_000L).sorted()
          .toArray();
      long max = 0;
      for (int i = 1; i < times.length; i++) max = Math.max(max, times[i] - times[i - 1]);
      return TimeUnit.NANOSECONDS.toMillis(max);
    }

    private void loop() {
      try {
        while (running) {
          if (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) continue;
          if (!running) {
            permits.release();
            break;
          }
          String name = idle.poll();
          if (name != null && ThreadLocalRandom.current().nextInt(10) < 7) {
            long rv = lastAck.get(name);
            write(name, "PUT", CMS + "/" + name, configMap(name, rv, (int) rv));
          } else {
            if (name != null) idle.add(name);
            String fresh = "w" + id + "-" + next++;
            write(fresh, "POST", CMS, configMap(fresh, 0, 0));
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void write(String name, String method, String path, JsonObject body) {
      api.sendAsync(method, path, body).whenComplete((r, e) -> {
        try {
          if (e == null && (r.code() == 200 || r.code() == 201)) {
            long rv = Long.parseLong(r.body().getJsonObject("metadata").getString("resourceVersion"));
            ackTimes.add(System.nanoTime());
            acks.add(new Ack(name, rv, id));
            acked.incrementAndGet();
            lastAck.put(name, rv);
            idle.add(name);
          } else if (e == null && r.code() == 409) {
            // This writer alone writes its names, each from its last acknowledged version.
            violations.add(method + " " + name + " got 409 from its acknowledged version: " + r.body().encode());
            uncertain.add(name);
          } else {
            failures.merge(e == null ? r.code() : -1, 1, Integer::sum);
            uncertain.add(name);
          }
        } finally {
          permits.release();
        }
      });
    }
  }

  /** Follows the namespace from a version; on 410 re-lists and watches again from the list's version. */
  static final class Watcher {
    final ApiHttp api;
    final List<Segment> segments = Collections.synchronizedList(new ArrayList<>());
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    volatile long seen;
    volatile boolean running = true;
    private volatile Stream<String> open;
    private Segment segment;

    Watcher(ApiHttp api, long from) {
      this.api = api;
      this.segment = new Segment(from, Map.of());
      this.seen = from;
      segments.add(segment);
    }

    void start() {
      Thread.ofPlatform().daemon().name("watcher").start(this::loop);
    }

    void stop() {
      running = false;
      Stream<String> s = open;
      if (s != null) s.close();
    }

    private void loop() {
      while (running) {
        try {
          HttpResponse<Stream<String>> r = api.stream(CMS + "?watch=true&resourceVersion=" + segment.last());
          if (r.statusCode() == 410) {
            r.body().close();
            relist("HTTP 410");
            continue;
          }
          if (r.statusCode() != 200) {
            r.body().close();
            Thread.sleep(200);
            continue;
          }
          open = r.body();
          boolean gone = false;
          Iterator<String> it = r.body().iterator();
          while (running && it.hasNext()) {
            JsonObject ev = new JsonObject(it.next());
            String type = ev.getString("type");
            JsonObject obj = ev.getJsonObject("object");
            if (type.equals("ERROR")) {
              if (obj.getInteger("code", 0) == 410) gone = true;
              else violations.add("watch error " + obj.encode());
              break;
            }
            if (type.equals("BOOKMARK")) continue;
            JsonObject meta = obj.getJsonObject("metadata");
            Event e = new Event(type, meta.getString("name"), Long.parseLong(meta.getString("resourceVersion")));
            if (e.rv() <= segment.last()) {
              violations.add("watch from " + segment.start + ": " + e + " after " + segment.last());
            }
            segment.events.add(e);
            seen = Math.max(seen, e.rv());
          }
          if (gone) relist("410 Gone event");
        } catch (IOException | RuntimeException e) {
          if (!running) return;
          sleepQuietly();
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private void relist(String why) throws InterruptedException {
      segment.end = why;
      while (running) {
        try {
          ApiHttp.Reply r = api.get(CMS);
          if (r.code() == 200) {
            Map<String, Long> listed = new HashMap<>();
            r.body().getJsonArray("items").forEach(o -> {
              JsonObject meta = ((JsonObject) o).getJsonObject("metadata");
              listed.put(meta.getString("name"), Long.parseLong(meta.getString("resourceVersion")));
            });
            long rv = Long.parseLong(r.body().getJsonObject("metadata").getString("resourceVersion"));
            if (rv < segment.last()) violations.add("re-list at " + rv + " is older than what was seen " + segment.last());
            segment = new Segment(rv, listed);
            segments.add(segment);
            seen = Math.max(seen, rv);
            return;
          }
        } catch (Exception e) {
          // the API server is busy with a failover; try again
        }
        Thread.sleep(200);
      }
    }

    private static void sleepQuietly() {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
