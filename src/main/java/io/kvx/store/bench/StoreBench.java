package io.kvx.store.bench;

import io.kvx.boot.KvxOptions;
import io.kvx.boot.Main;
import io.kvx.bus.Services;
import io.kvx.store.Store;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Creates through the {@link Store} API in-process (no HTTP, no API server): one kvx JVM with only
 * the sequencer role, a fresh home, the default durable SQLite file. For ops/bench/store.
 * Then the write latency at a fixed rate (the first quarter not recorded).
 * <pre>StoreBench COUNT SIZE INFLIGHT [CLUSTER_PORT [RATE SECONDS]]</pre>
 */
public final class StoreBench {

  private StoreBench() {
  }

  public static void main(String[] args) throws Exception {
    int count = Integer.parseInt(args[0]);
    int size = Integer.parseInt(args[1]);
    int inFlight = Integer.parseInt(args[2]);
    KvxOptions o = KvxOptions.parse(new String[] {"server", "--home",
        Files.createTempDirectory("kvx-storebench").toString(), "--cluster-port", args.length > 3 ? args[3] : "6012",
        "--secret", "it-store-bench"});
    o.roles = List.of("sequencer");
    Vertx vertx = Main.run(o);
    Store store = Services.of(vertx).store();
    String pad = "x".repeat(size);
    run(vertx, store, "warm", Math.max(2000, count / 4), inFlight, pad);
    double secs = run(vertx, store, "c", count, inFlight, pad);
    System.out.printf("store_creates=%d seconds=%.2f rate=%.0f%n", count, secs, count / secs);
    if (args.length > 5) latency(vertx, store, Integer.parseInt(args[4]), Integer.parseInt(args[5]), pad);
    System.out.flush();
    Runtime.getRuntime().halt(0);
  }

  private static void latency(Vertx vertx, Store store, int rate, int seconds, String pad) throws InterruptedException {
    Latencies lat = new Latencies();
    int total = rate * seconds;
    CountDownLatch done = new CountDownLatch(total);
    long periodNanos = 1_000_000_000L / rate;
    long t0 = System.nanoTime();
    long[] issued = new long[1];
    vertx.runOnContext(v -> vertx.setPeriodic(1, t -> {
      long due = Math.min(total, (System.nanoTime() - t0) / periodNanos + 1);
      while (issued[0] < due) {
        long i = issued[0]++;
        long start = System.nanoTime();
        String name = "l-" + i;
        JsonObject cm = new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
            .put("metadata", new JsonObject().put("name", name).put("namespace", "default"))
            .put("data", new JsonObject().put("v", pad));
        store.create("core/configmaps/default/" + name, cm).onComplete(ar -> {
          if (ar.succeeded() && i >= total / 4) lat.add(System.nanoTime() - start);
          done.countDown();
        });
      }
      if (issued[0] >= total) vertx.cancelTimer(t);
    }));
    done.await();
    System.out.printf("store_latency rate=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f%n", rate,
        lat.percentileMillis(50), lat.percentileMillis(99), lat.percentileMillis(100));
  }

  private static double run(Vertx vertx, Store store, String prefix, int total, int inFlight, String pad)
      throws InterruptedException {
    CountDownLatch done = new CountDownLatch(total);
    AtomicLong next = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    long t0 = System.nanoTime();
    Runnable[] step = new Runnable[1];
    step[0] = () -> {
      long i = next.getAndIncrement();
      if (i >= total) return;
      String name = prefix + "-" + i;
      JsonObject cm = new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
          .put("metadata", new JsonObject().put("name", name).put("namespace", "default"))
          .put("data", new JsonObject().put("v", pad));
      store.create("core/configmaps/default/" + name, cm).onComplete(ar -> {
        if (ar.failed() && failures.incrementAndGet() <= 3) System.err.println("bench: " + ar.cause());
        done.countDown();
        step[0].run();
      });
    };
    vertx.runOnContext(v -> {
      for (int k = 0; k < inFlight; k++) step[0].run();
    });
    done.await();
    return (System.nanoTime() - t0) / 1e9;
  }
}
