package io.kvx.store.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * Load against a kvx API server (configmaps through the Kubernetes REST API) or an etcd v3 HTTP/JSON
 * gateway, for ops/soak-store and ops/bench/store.
 *
 * <pre>
 * ApiLoad create   URL TOKEN|etcd COUNT SIZE INFLIGHT      creates/s
 * ApiLoad latency  URL TOKEN|etcd RATE SECONDS SIZE        p50/p99 at a fixed rate
 * ApiLoad watchers URL TOKEN|etcd WATCHERS EVENTS          delivery p50/p99 to every watcher
 * ApiLoad churn    URL TOKEN KEYS MINUTES INFLIGHT          updates the same keys until the time is up
 * </pre>
 * TOKEN may be @FILE. Output lines are "key=value" for the scripts. Over https the client speaks HTTP/2 as
 * client-go does (streams multiplexed on one connection per 100 in flight); KVX_BENCH_HTTP=h1 makes it
 * HTTP/1.1 (one connection per request in flight); KVX_BENCH_H2_CONNECTIONS=N spreads the h2 streams over N
 * connections. "http=" says what the server answered with.
 */
public final class ApiLoad {

  private final Vertx vertx;
  private final HttpClient http;
  private final URI base;
  private final String token;
  private final boolean etcd;
  private final String run = Long.toString(System.currentTimeMillis() % 100_000_000, 36);

  private ApiLoad(Vertx vertx, String url, String token, int connections) {
    this.vertx = vertx;
    this.base = URI.create(url);
    this.etcd = token.equals("etcd");
    this.token = token;
    boolean tls = base.getScheme().equals("https");
    HttpClientOptions options = new HttpClientOptions().setSsl(tls).setTrustAll(true).setVerifyHost(false)
        .setDefaultHost(base.getHost()).setDefaultPort(base.getPort()).setKeepAlive(true).setIdleTimeout(0);
    // The load generator shares the machine with the server: BoringSSL keeps its own TLS cost low, as kvx's is.
    if (tls && io.vertx.core.net.OpenSSLEngineOptions.isAvailable()) {
      options.setSslEngineOptions(new io.vertx.core.net.OpenSSLEngineOptions());
    }
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1);
    if (tls && !"h1".equals(System.getenv("KVX_BENCH_HTTP"))) {
      // As client-go: HTTP/2 by ALPN, all requests multiplexed as streams on one connection, another only
      // once the server's stream limit (SETTINGS_MAX_CONCURRENT_STREAMS, kube's 100) is reached.
      options.setProtocolVersion(HttpVersion.HTTP_2).setUseAlpn(true).setHttp2MultiplexingLimit(-1);
      String conns = System.getenv("KVX_BENCH_H2_CONNECTIONS");
      pool.setHttp2MaxSize(conns != null ? Integer.parseInt(conns) : Math.max(1, (connections + 99) / 100));
    }
    this.http = vertx.createHttpClient(options, pool);
  }

  /** The protocol the server answered with, once known ("HTTP_2", "HTTP_1_1"). */
  private volatile String protocol = "none";

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: ApiLoad create|latency|watchers|churn URL TOKEN|@FILE|etcd ...");
      System.exit(2);
    }
    String token = args[2].startsWith("@") ? Files.readString(Path.of(args[2].substring(1))).trim() : args[2];
    Vertx vertx = Vertx.vertx();
    int[] n = new int[args.length];
    for (int i = 3; i < args.length; i++) n[i] = Integer.parseInt(args[i]);
    int connections = switch (args[0]) {
      case "create" -> n[5];
      case "watchers" -> n[3] + 16;
      case "churn" -> n[5];
      default -> 256;
    };
    ApiLoad load = new ApiLoad(vertx, args[1], token, connections);
    try {
      switch (args[0]) {
        case "create" -> load.create(n[3], n[4], n[5]);
        case "latency" -> load.latency(n[3], n[4], n[5]);
        case "watchers" -> load.watchers(n[3], n[4]);
        case "churn" -> load.churn(n[3], n[4], n[5]);
        default -> throw new IllegalArgumentException("unknown mode " + args[0]);
      }
    } finally {
      vertx.close().await();
    }
  }

  private static String pad(int size) {
    return "x".repeat(Math.max(0, size));
  }

  /** One write of {@code name}; yields the new resourceVersion (kvx) or revision (etcd). */
  private Future<Long> put(String name, String value, long rv) {
    if (etcd) {
      JsonObject body = new JsonObject().put("key", b64("/registry/configmaps/bench/" + name)).put("value", b64(value));
      return send(HttpMethod.POST, "/v3/kv/put", body).map(r -> Long.parseLong(r.getJsonObject("header")
          .getString("revision")));
    }
    JsonObject meta = new JsonObject().put("name", name);
    if (rv > 0) meta.put("resourceVersion", String.valueOf(rv));
    JsonObject cm = new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap").put("metadata", meta)
        .put("data", new JsonObject().put("v", value));
    String path = "/api/v1/namespaces/default/configmaps";
    Future<JsonObject> f = rv > 0 ? send(HttpMethod.PUT, path + "/" + name, cm) : send(HttpMethod.POST, path, cm);
    return f.map(r -> Long.parseLong(r.getJsonObject("metadata").getString("resourceVersion")));
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private Future<JsonObject> send(HttpMethod method, String path, JsonObject body) {
    RequestOptions o = new RequestOptions().setMethod(method).setURI(path)
        .putHeader("Content-Type", "application/json").putHeader("Accept", "application/json");
    if (!etcd) o.putHeader("Authorization", "Bearer " + token);
    return http.request(o).compose(req -> req.send(body.toBuffer())).compose(resp -> resp.body().compose(b -> {
      protocol = resp.version().name();
      if (resp.statusCode() >= 300) {
        return Future.failedFuture(resp.statusCode() + " " + b.toString());
      }
      return Future.succeededFuture(b.toJsonObject());
    }));
  }

  /** Runs {@code total} operations with at most {@code inFlight} at once; returns the seconds taken. */
  private double closedLoop(int total, int inFlight, IntFunction<Future<?>> op) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(total);
    AtomicLong next = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    long t0 = System.nanoTime();
    Runnable[] step = new Runnable[1];
    step[0] = () -> {
      long i = next.getAndIncrement();
      if (i >= total) return;
      op.apply((int) i).onComplete(ar -> {
        if (ar.failed() && failures.incrementAndGet() <= 3) System.err.println("bench: " + ar.cause().getMessage());
        done.countDown();
        step[0].run();
      });
    };
    vertx.runOnContext(v -> {
      for (int k = 0; k < inFlight; k++) step[0].run();
    });
    done.await();
    double secs = (System.nanoTime() - t0) / 1e9;
    if (failures.get() > 0) System.out.println("failures=" + failures.get());
    return secs;
  }

  private void create(int count, int size, int inFlight) throws Exception {
    // Warm-up, as long as the measured run: connections, TLS and above all the JIT of both sides (a fresh
    // server's C2 compiles for ~10-20 s on 2 cores; a JVM is measured warm, as JMH does).
    closedLoop(Math.max(2000, count), inFlight, i -> put("warm-" + run + "-" + i, pad(size), 0));
    double secs = closedLoop(count, inFlight, i -> put("c-" + run + "-" + i, pad(size), 0));
    System.out.printf("creates=%d seconds=%.2f rate=%.0f http=%s%n", count, secs, count / secs, protocol);
  }

  private void latency(int rate, int seconds, int size) throws Exception {
    Latencies lat = new Latencies();
    int total = rate * seconds;
    CountDownLatch done = new CountDownLatch(total);
    long[] failures = new long[1];
    long periodNanos = 1_000_000_000L / rate;
    long t0 = System.nanoTime();
    // A timer each millisecond issues what the schedule says is due: an open loop at a fixed rate.
    long[] issued = new long[1];
    vertx.runOnContext(v -> vertx.setPeriodic(1, t -> {
      long due = Math.min(total, (System.nanoTime() - t0) / periodNanos + 1);
      while (issued[0] < due) {
        long i = issued[0]++;
        long start = System.nanoTime();
        put("l-" + run + "-" + i, pad(size), 0).onComplete(ar -> {
          // The first quarter warms this client's JIT and connections; it is not recorded.
          if (ar.failed()) failures[0]++;
          else if (i >= total / 4) lat.add(System.nanoTime() - start);
          done.countDown();
        });
      }
      if (issued[0] >= total) vertx.cancelTimer(t);
    }));
    done.await();
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("writes=%d rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f failures=%d http=%s%n", lat.count(),
        total / secs, lat.percentileMillis(50), lat.percentileMillis(99), lat.percentileMillis(100), failures[0],
        protocol);
  }

  /**
   * Opens the watchers, then writes {@code events} objects 20 ms apart as a warm-up (delivered, not recorded:
   * connections and the JIT of both sides), then {@code events} more that are recorded; each carries its send
   * time.
   */
  private void watchers(int watchers, int events) throws Exception {
    Latencies lat = new Latencies();
    CountDownLatch open = new CountDownLatch(watchers);
    CountDownLatch received = new CountDownLatch(watchers * events * 2);
    String prefix = "w-" + run + "-";
    // Watch from now (the current revision), not from "" which first replays every object as ADDED.
    String from = etcd ? "" : send(HttpMethod.GET, "/api/v1/namespaces/default/configmaps?limit=1", new JsonObject())
        .map(r -> r.getJsonObject("metadata").getString("resourceVersion")).await();
    java.util.concurrent.atomic.AtomicLongArray sent = new java.util.concurrent.atomic.AtomicLongArray(events * 2);
    java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
    for (int w = 0; w < watchers; w++) {
      // 50 new connections (TLS handshakes for kvx) every 100 ms, not 1,000 at once.
      vertx.setTimer(1 + (w / 50) * 100L, t -> openWatch(prefix, from, open, 1, line -> {
        int idx = line.indexOf("\"" + prefix);
        if (idx < 0) return;
        int end = line.indexOf('"', idx + 1);
        int i = Integer.parseInt(line.substring(idx + 1 + prefix.length(), end));
        if (i < events) lat.add(System.nanoTime() - sent.get(i));
        received.countDown();
      }));
    }
    if (!open.await(120, TimeUnit.SECONDS)) throw new IllegalStateException("watchers did not open");
    Thread.sleep(1000);
    Promise<Void> writes = Promise.promise();
    vertx.runOnContext(v -> {
      vertx.setPeriodic(20, id -> {
        int k = count.getAndIncrement();
        if (k >= events * 2) {
          vertx.cancelTimer(id);
          writes.complete();
          return;
        }
        // Warm-up objects are numbered events..2*events-1 and go first; recorded ones are 0..events-1.
        int i = k < events ? events + k : k - events;
        sent.set(i, System.nanoTime());
        put(prefix + i, "v", 0);
      });
    });
    boolean all = received.await(60, TimeUnit.SECONDS);
    System.out.printf("watchers=%d events=%d deliveries=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f complete=%s http=%s%n",
        watchers, events, lat.count(), lat.percentileMillis(50), lat.percentileMillis(99),
        lat.percentileMillis(100), all, protocol);
  }

  private void openWatch(String prefix, String from, CountDownLatch open, int attempt,
                         java.util.function.Consumer<String> onLine) {
    RequestOptions o = new RequestOptions().setIdleTimeout(0);
    Buffer body;
    if (etcd) {
      String key = "/registry/configmaps/bench/" + prefix;
      o.setMethod(HttpMethod.POST).setURI("/v3/watch");
      body = new JsonObject().put("create_request", new JsonObject().put("key", b64(key))
          .put("range_end", b64(key.substring(0, key.length() - 1) + (char) (key.charAt(key.length() - 1) + 1))))
          .toBuffer();
    } else {
      o.setMethod(HttpMethod.GET).setURI("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="
          + from + "&timeoutSeconds=600").putHeader("Authorization", "Bearer " + token);
      body = Buffer.buffer();
    }
    http.request(o).compose(req -> req.send(body)).onComplete(ar -> {
      if (ar.failed()) {
        if (attempt < 10) {
          vertx.setTimer(200L * attempt, t -> openWatch(prefix, from, open, attempt + 1, onLine));
          return;
        }
        System.err.println("bench: watch failed: " + ar.cause());
        open.countDown();
        return;
      }
      StringBuilder pending = new StringBuilder();
      boolean[] counted = new boolean[1];
      ar.result().handler(buf -> {
        if (!counted[0]) {
          counted[0] = true;
          open.countDown();
        }
        pending.append(buf.toString());
        int nl;
        while ((nl = pending.indexOf("\n")) >= 0) {
          String line = pending.substring(0, nl);
          pending.delete(0, nl + 1);
          // etcd's gateway sends {"result":{"events":[...]}} lines with base64 keys.
          if (etcd) decodeEtcd(line, onLine);
          else onLine.accept(line);
        }
      });
      if (!etcd) {
        // kvx sends the head at once, with no body until an event: count the watch as open now.
        counted[0] = true;
        open.countDown();
      }
    });
  }

  private static void decodeEtcd(String chunk, java.util.function.Consumer<String> onLine) {
    try {
      JsonObject r = new JsonObject(chunk).getJsonObject("result");
      if (r == null || r.getJsonArray("events") == null) return;
      r.getJsonArray("events").forEach(e -> {
        String key = new String(Base64.getDecoder().decode(((JsonObject) e).getJsonObject("kv").getString("key")),
            java.nio.charset.StandardCharsets.UTF_8);
        onLine.accept("\"" + key.substring(key.lastIndexOf('/') + 1) + "\"");
      });
    } catch (RuntimeException ignored) {
      // not an event line
    }
  }

  /** Creates the keys, then updates them round and round (one write per key in flight) until time is up. */
  private void churn(int keys, int minutes, int inFlight) throws Exception {
    long[] rv = new long[keys];
    String prefix = "soak-";
    closedLoop(keys, inFlight, i -> send(HttpMethod.GET, "/api/v1/namespaces/default/configmaps/" + prefix + i,
        new JsonObject()).map(r -> rv[i] = Long.parseLong(r.getJsonObject("metadata").getString("resourceVersion")))
        .recover(e -> put(prefix + i, pad(1000), 0).map(v -> rv[i] = v)));
    long end = System.currentTimeMillis() + minutes * 60_000L;
    AtomicLong writes = new AtomicLong();
    while (System.currentTimeMillis() < end) {
      int batch = keys;
      closedLoop(batch, inFlight, i -> put(prefix + i, pad(1000) + writes.incrementAndGet(), rv[i])
          .map(v -> rv[i] = v).recover(e -> send(HttpMethod.GET, "/api/v1/namespaces/default/configmaps/" + prefix + i,
              new JsonObject()).map(r -> rv[i] = Long.parseLong(r.getJsonObject("metadata").getString("resourceVersion")))));
    }
    System.out.printf("churn_writes=%d%n", writes.get());
  }
}
