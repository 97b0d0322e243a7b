package io.kvx.bench.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntFunction;

/**
 * ops/bench/store's anchor through etcd's own Java client, jetcd (gRPC), the workload of kvx's ApiLoad:
 *
 * <pre>
 * EtcdLoad create   ENDPOINT COUNT SIZE INFLIGHT    puts/s of new keys, after an equal untimed run
 * EtcdLoad latency  ENDPOINT RATE SECONDS SIZE      p50/p99 at a fixed rate (first quarter not recorded)
 * EtcdLoad watchers ENDPOINT WATCHERS EVENTS        delivery p50/p99 of EVENTS puts to every watcher
 * </pre>
 * Output lines are "key=value", as ApiLoad's, for the script.
 */
public final class EtcdLoad {

  private static final String PREFIX = "/registry/configmaps/bench/";

  private final Client client;
  private final KV kv;
  private final String run = Long.toString(System.currentTimeMillis() % 100_000_000, 36);

  private EtcdLoad(String endpoint) {
    this.client = Client.builder().endpoints(endpoint).build();
    this.kv = client.getKVClient();
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: EtcdLoad create|latency|watchers ENDPOINT ...");
      System.exit(2);
    }
    int[] n = Arrays.stream(args, 2, args.length).mapToInt(Integer::parseInt).toArray();
    EtcdLoad load = new EtcdLoad(args[1]);
    try {
      switch (args[0]) {
        case "create" -> load.create(n[0], n[1], n[2]);
        case "latency" -> load.latency(n[0], n[1], n[2]);
        case "watchers" -> load.watchers(n[0], n[1]);
        default -> throw new IllegalArgumentException("unknown mode " + args[0]);
      }
    } finally {
      load.client.close();
    }
    System.exit(0);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private CompletableFuture<?> put(String name, ByteSequence value) {
    return kv.put(bytes(PREFIX + name), value);
  }

  /** Runs {@code total} operations, at most {@code inFlight} at once (a permit each); returns the seconds taken. */
  private static double closedLoop(int total, int inFlight, IntFunction<CompletableFuture<?>> op)
      throws InterruptedException {
    Semaphore permits = new Semaphore(inFlight);
    AtomicLong failures = new AtomicLong();
    long t0 = System.nanoTime();
    for (int i = 0; i < total; i++) {
      permits.acquire();
      op.apply(i).whenComplete((r, e) -> {
        if (e != null && failures.incrementAndGet() <= 3) System.err.println("bench: " + e.getMessage());
        permits.release();
      });
    }
    permits.acquire(inFlight);
    double secs = (System.nanoTime() - t0) / 1e9;
    if (failures.get() > 0) System.out.println("failures=" + failures.get());
    return secs;
  }

  private void create(int count, int size, int inFlight) throws Exception {
    ByteSequence value = bytes("x".repeat(size));
    closedLoop(Math.max(2000, count), inFlight, i -> put("warm-" + run + "-" + i, value));
    double secs = closedLoop(count, inFlight, i -> put("c-" + run + "-" + i, value));
    System.out.printf("creates=%d seconds=%.2f rate=%.0f client=jetcd%n", count, secs, count / secs);
  }

  private void latency(int rate, int seconds, int size) throws Exception {
    ByteSequence value = bytes("x".repeat(size));
    int total = rate * seconds;
    long[] lat = new long[total];
    AtomicInteger recorded = new AtomicInteger();
    AtomicLong failures = new AtomicLong();
    CountDownLatch done = new CountDownLatch(total);
    long periodNanos = 1_000_000_000L / rate;
    long t0 = System.nanoTime();
    int[] issued = new int[1];
    // A tick each millisecond issues what the schedule says is due: an open loop at a fixed rate.
    ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
    ticks.scheduleAtFixedRate(() -> {
      long due = Math.min(total, (System.nanoTime() - t0) / periodNanos + 1);
      while (issued[0] < due) {
        int i = issued[0]++;
        long start = System.nanoTime();
        put("l-" + run + "-" + i, value).whenComplete((r, e) -> {
          if (e != null) failures.incrementAndGet();
          else if (i >= total / 4) lat[recorded.getAndIncrement()] = System.nanoTime() - start;
          done.countDown();
        });
      }
    }, 0, 1, TimeUnit.MILLISECONDS);
    done.await();
    ticks.shutdownNow();
    double secs = (System.nanoTime() - t0) / 1e9;
    long[] sorted = Arrays.copyOf(lat, recorded.get());
    Arrays.sort(sorted);
    System.out.printf("writes=%d rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f failures=%d client=jetcd%n",
        sorted.length, total / secs, millis(sorted, 50), millis(sorted, 99), millis(sorted, 100), failures.get());
  }

  /**
   * Opens the watchers on the key prefix, writes {@code events} puts 20 ms apart as a warm-up (delivered, not
   * recorded), then {@code events} more that are recorded, each from its send time to each watcher's callback.
   */
  private void watchers(int watchers, int events) throws Exception {
    String prefix = "w-" + run + "-";
    AtomicLongArray sent = new AtomicLongArray(events * 2);
    long[] lat = new long[watchers * events];
    AtomicInteger recorded = new AtomicInteger();
    CountDownLatch received = new CountDownLatch(watchers * events * 2);
    WatchOption option = WatchOption.builder().isPrefix(true).build();
    List<Watch.Watcher> open = new ArrayList<>();
    for (int w = 0; w < watchers; w++) {
      open.add(client.getWatchClient().watch(bytes(PREFIX + prefix), option, response -> {
        long now = System.nanoTime();
        for (WatchEvent e : response.getEvents()) {
          String key = e.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
          int i = Integer.parseInt(key.substring(key.lastIndexOf('-') + 1));
          if (i < events) lat[recorded.getAndIncrement()] = now - sent.get(i);
          received.countDown();
        }
      }));
    }
    Thread.sleep(2000);
    ByteSequence value = bytes("v");
    for (int k = 0; k < events * 2; k++) {
      // Warm-up keys are numbered events..2*events-1 and go first; recorded ones are 0..events-1.
      int i = k < events ? events + k : k - events;
      sent.set(i, System.nanoTime());
      put(prefix + i, value);
      Thread.sleep(20);
    }
    boolean all = received.await(60, TimeUnit.SECONDS);
    open.forEach(Watch.Watcher::close);
    long[] sorted = Arrays.copyOf(lat, recorded.get());
    Arrays.sort(sorted);
    System.out.printf("watchers=%d events=%d deliveries=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f complete=%s client=jetcd%n",
        watchers, events, sorted.length, millis(sorted, 50), millis(sorted, 99), millis(sorted, 100), all);
  }

  private static double millis(long[] sorted, int percentile) {
    if (sorted.length == 0) return Double.NaN;
    int idx = (int) Math.min(sorted.length - 1, Math.ceil(percentile / 100.0 * sorted.length) - 1);
    return sorted[Math.max(0, idx)] / 1e6;
  }
}
