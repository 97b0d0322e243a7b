import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.parsetools.RecordParser;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scheduler throughput, after kube-scheduler's scheduler_perf SchedulingBasic: N Ready nodes with
 * capacity, init pods (KVX_BENCH_INIT_PODS, default 1,000 as SchedulingBasic/5000Nodes' initPods) created
 * and bound first and not measured, then M pods with requests; pods/s from the first of those M creates
 * to the last binding a watch sees, the store's write ceiling (node creates/s, no scheduling involved),
 * and the p99 scheduling attempt latency of the measured pods from the scheduler's histogram.
 * Usage: SchedulerBench API_URL TOKEN NODES PODS [CONCURRENCY] [held]
 */
public class SchedulerBench {

  public static void main(String[] a) throws Exception {
    String api = a[0];
    String token = a[1];
    int nodes = Integer.parseInt(a[2]);
    int pods = Integer.parseInt(a[3]);
    int conc = a.length > 4 ? Integer.parseInt(a[4]) : 64;
    boolean held = a.length > 5 && a[5].equals("held");
    int initPods = Integer.parseInt(System.getenv().getOrDefault("KVX_BENCH_INIT_PODS", "1000"));
    // The load generator shares 2 cores with kvx: Vert.x on BoringSSL keeps its own cost low (kube's
    // scheduler_perf drives the API server from Go in the same process).
    Vertx vertx = Vertx.vertx();
    URI base = URI.create(api);
    HttpClientOptions options = new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false)
        .setDefaultHost(base.getHost()).setDefaultPort(base.getPort()).setKeepAlive(true).setIdleTimeout(0);
    if (OpenSSLEngineOptions.isAvailable()) options.setSslEngineOptions(new OpenSSLEngineOptions());
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(conc + 4).setMaxWaitQueueSize(-1);
    boolean h2 = !"h1".equals(System.getenv("KVX_BENCH_HTTP"));
    if (h2) {
      // client-go's way: HTTP/2 by ALPN, requests as streams on one connection (another per 100 in flight).
      options.setProtocolVersion(HttpVersion.HTTP_2).setUseAlpn(true).setHttp2MultiplexingLimit(-1);
      pool.setHttp2MaxSize(Math.max(1, (conc + 4 + 99) / 100));
    }
    HttpClient http = vertx.createHttpClient(options, pool);
    requests = h2 ? vertx.getOrCreateContext() : null;
    System.out.println("bench client: " + (h2 ? "HTTP/2 (KVX_BENCH_HTTP=h1 for HTTP/1.1)" : "HTTP/1.1") + ", server answered "
        + onRequests(() -> http.request(new RequestOptions().setURI("/version")).compose(r -> r.send())
            .map(r -> r.version())).await());
    String ns = "bench-" + Long.toString(System.currentTimeMillis(), 36);
    post(http, api, token, "/api/v1/namespaces", new JsonObject().put("metadata", new JsonObject().put("name", ns)))
        .join();

    long t0 = System.nanoTime();
    run(conc, nodes, i -> post(http, api, token, "/api/v1/nodes", node("bench-" + ns + "-n" + i)));
    double nodeSecs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("store write ceiling: %d node creates in %.2f s = %.0f writes/s (%d concurrent)%n", nodes,
        nodeSecs, nodes / nodeSecs, conc);
    // Nodes get Ready through their status subresource, as a kubelet reports it.
    t0 = System.nanoTime();
    run(conc, nodes, i -> patchStatus(http, api, token, "/api/v1/nodes/bench-" + ns + "-n" + i + "/status"));
    System.out.printf("node status updates: %.0f writes/s%n", nodes / ((System.nanoTime() - t0) / 1e9));

    // Watch pods in the namespace: count bindings, the measured pods ("p...") apart from the init pods ("i...").
    AtomicInteger bound = new AtomicInteger();
    AtomicInteger initBound = new AtomicInteger();
    AtomicLong lastBind = new AtomicLong();
    AtomicLong firstBind = new AtomicLong();
    CountDownLatch done = new CountDownLatch(1);
    CountDownLatch initDone = new CountDownLatch(1);
    java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    onRequests(() -> http.request(new RequestOptions().setMethod(HttpMethod.GET).setIdleTimeout(0)
            .setURI("/api/v1/namespaces/" + ns + "/pods?watch=true").putHeader("Authorization", "Bearer " + token))
        .compose(req -> req.send()).onSuccess(resp -> resp.handler(RecordParser.newDelimited("\n", line -> {
          // Only a pod with a node is counted: the load generator decodes no event without one (it shares the cores).
          String text = line.toString();
          if (!text.contains("\"nodeName\"")) return;
          JsonObject o = new JsonObject(text).getJsonObject("object");
          if (o == null || o.getJsonObject("spec") == null) return;
          String name = o.getJsonObject("metadata").getString("name");
          if (o.getJsonObject("spec").getString("nodeName") == null || !seen.add(name)) return;
          if (name.startsWith("i")) {
            if (initBound.incrementAndGet() == initPods) initDone.countDown();
            return;
          }
          lastBind.set(System.nanoTime());
          firstBind.compareAndSet(0, lastBind.get());
          if (bound.incrementAndGet() == pods) done.countDown();
        })))).onFailure(Throwable::printStackTrace);
    Thread.sleep(500);
    // scheduler_perf's SchedulingBasic creates and schedules initPods (1,000 at 5,000 nodes) before the
    // pods it measures: the cluster is not empty and the server's code is warm when the clock starts.
    if (initPods > 0) {
      long i0 = System.nanoTime();
      run(conc, initPods, i -> post(http, api, token, "/api/v1/namespaces/" + ns + "/pods", pod("i" + i)));
      if (!initDone.await(600, java.util.concurrent.TimeUnit.SECONDS)) System.out.println("init pods timed out");
      System.out.printf("init pods (not measured, as scheduler_perf's initPods): %d created and bound in %.2f s%n",
          initPods, (System.nanoTime() - i0) / 1e9);
    }
    String before = metrics(http, token);
    // "held": the bench holds the scheduler's Lease while it creates the pods, then gives it back, so the
    // scheduler meets all of them at once and the run measures scheduling and binding without pod creates
    // competing for the same cores (scheduler_perf's throughput is also the scheduler's, not the creates').
    String lease = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler";
    if (held) {
      setLeaseHolder(http, token, lease, "scheduler-bench", 3600);
      Thread.sleep(3000); // the scheduler sees the lease taken at its next retry (1 s) and steps down
    }
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean();
    long cpuAtStart = os.getProcessCpuTime();
    long start = System.nanoTime();
    run(conc, pods, i -> post(http, api, token, "/api/v1/namespaces/" + ns + "/pods", pod("p" + i)));
    double createSecs = (System.nanoTime() - start) / 1e9;
    System.out.printf("pod creates: %d in %.2f s = %.0f pods/s%n", pods, createSecs, pods / createSecs);
    long released = 0;
    if (held) {
      System.out.println("bound while the lease was held: " + bound.get());
      released = System.nanoTime();
      setLeaseHolder(http, token, lease, null, 1);
    }
    if (!done.await(600, java.util.concurrent.TimeUnit.SECONDS)) System.out.println("timed out, bound " + bound.get());
    long cpuAtEnd = os.getProcessCpuTime();
    double secs = (lastBind.get() - start) / 1e9;
    if (held) {
      double drain = (lastBind.get() - firstBind.get()) / 1e9;
      System.out.printf("scheduled %d waiting pods on %d nodes: first binding %.2f s after the lease was released,"
              + " first to last binding %.2f s = %.0f pods/s%n", bound.get(), nodes,
          (firstBind.get() - released) / 1e9, drain, bound.get() / drain);
    } else {
      System.out.printf("scheduled %d pods on %d nodes: first create to last binding %.2f s = %.0f pods/s%n",
          bound.get(), nodes, secs, bound.get() / secs);
    }
    String metrics = metrics(http, token);
    System.out.println("p99 scheduling attempt latency (scheduled, measured pods): " + p99(metrics, before)
        + " s, mean " + mean(metrics, before) + " ms");
    // The load generator shares the cores with kvx: its own CPU, to tell whether it limits the run.
    System.out.printf("bench client CPU: %.1f s for the whole run, %.1f s from the first measured create to the last"
        + " binding%n", os.getProcessCpuTime() / 1e9, (cpuAtEnd - cpuAtStart) / 1e9);
    for (String l : metrics.split("\n")) {
      if (l.startsWith("scheduler_schedule_attempts_total") || l.startsWith("scheduler_pending_pods")) {
        System.out.println("  " + l);
      }
    }
    vertx.close().await();
  }

  interface Op {
    CompletableFuture<?> call(int i);
  }

  static void run(int conc, int n, Op op) throws InterruptedException {
    Semaphore s = new Semaphore(conc);
    AtomicInteger failed = new AtomicInteger();
    AtomicInteger completed = new AtomicInteger();
    for (int i = 0; i < n; i++) {
      acquire(s, 1, completed);
      op.call(i).whenComplete((r, e) -> {
        if (e != null && failed.incrementAndGet() < 5) System.err.println(e);
        completed.incrementAndGet();
        s.release();
      });
    }
    acquire(s, conc, completed);
    if (failed.get() > 0) System.err.println(failed.get() + " requests failed");
  }

  /** Waits for permits; when nothing completes for 20 s, says so once with the HTTP/2 connection's state. */
  private static void acquire(Semaphore s, int permits, AtomicInteger completed) throws InterruptedException {
    int seen = completed.get();
    boolean told = false;
    while (!s.tryAcquire(permits, 20, java.util.concurrent.TimeUnit.SECONDS)) {
      if (completed.get() != seen) {
        seen = completed.get();
      } else if (!told) {
        told = true;
        System.out.println("STALL: no request completed for 20 s; " + http2State(lastConnection));
      }
    }
  }

  static volatile io.vertx.core.http.HttpConnection lastConnection;

  /** The client side of an HTTP/2 connection as Netty sees it: flow-control windows and open streams. */
  static String http2State(io.vertx.core.http.HttpConnection c) {
    if (c == null) return "no connection";
    try {
      io.netty.channel.Channel ch = (io.netty.channel.Channel) c.getClass().getMethod("channel").invoke(c);
      var h = ch.pipeline().get(io.netty.handler.codec.http2.Http2ConnectionHandler.class);
      if (h == null) return "not HTTP/2: " + c.getClass().getName();
      return ch.eventLoop().submit(() -> {
        var conn = h.connection();
        var cs = conn.connectionStream();
        StringBuilder b = new StringBuilder();
        b.append("channel active=").append(ch.isActive()).append(" writable=").append(ch.isWritable())
            .append(" goAwayReceived=").append(conn.goAwayReceived()).append(" goAwaySent=").append(conn.goAwaySent())
            .append(" local streams active=").append(conn.local().numActiveStreams())
            .append(" max=").append(conn.local().maxActiveStreams())
            .append("; receive window: connection ").append(conn.local().flowController().windowSize(cs))
            .append(" unconsumed ").append(conn.local().flowController().unconsumedBytes(cs))
            .append("; send window: connection ").append(conn.remote().flowController().windowSize(cs));
        conn.forEachActiveStream(st -> {
          b.append("\n  stream ").append(st.id()).append(' ').append(st.state())
              .append(" recv window ").append(conn.local().flowController().windowSize(st))
              .append(" unconsumed ").append(conn.local().flowController().unconsumedBytes(st))
              .append(" send window ").append(conn.remote().flowController().windowSize(st))
              .append(" pending send ").append(conn.remote().flowController().hasFlowControlled(st));
          return true;
        });
        return b.toString();
      }).get(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      return "state unknown: " + e;
    }
  }

  /** Writes the Lease's holder (null: released, as a leader that stops gives it up). */
  static void setLeaseHolder(HttpClient http, String token, String path, String holder, int seconds) throws Exception {
    for (int attempt = 0; ; attempt++) {
      JsonObject lease = new JsonObject(send(http, token, HttpMethod.GET, path, "application/json", new JsonObject())
          .join());
      JsonObject spec = lease.getJsonObject("spec", new JsonObject());
      spec.put("holderIdentity", holder).put("leaseDurationSeconds", seconds)
          .put("renewTime", java.time.format.DateTimeFormatter
          .ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now()));
      lease.put("spec", spec);
      try {
        send(http, token, HttpMethod.PUT, path, "application/json", lease).join();
        return;
      } catch (RuntimeException e) {
        if (attempt >= 20) throw e; // the scheduler renewed in between: read again
        Thread.sleep(100);
      }
    }
  }

  static CompletableFuture<String> post(HttpClient http, String api, String token, String path, JsonObject body) {
    return send(http, token, HttpMethod.POST, path, "application/json", body);
  }

  static CompletableFuture<String> patchStatus(HttpClient http, String api, String token, String path) {
    JsonObject body = new JsonObject().put("status", new JsonObject()
        .put("capacity", new JsonObject().put("cpu", "4").put("memory", "32Gi").put("pods", "110"))
        .put("allocatable", new JsonObject().put("cpu", "4").put("memory", "32Gi").put("pods", "110"))
        .put("conditions", new JsonArray().add(new JsonObject().put("type", "Ready").put("status", "True")
            .put("reason", "KubeletReady").put("lastHeartbeatTime", java.time.Instant.now().toString()))));
    return send(http, token, HttpMethod.PATCH, path, "application/merge-patch+json", body);
  }

  /**
   * Over HTTP/2 every request starts on this one event-loop context (the connection's): Vert.x 5.0.7's HTTP/2 client, with requests started from the main thread (each then on a context
   * of its own), stalled in about one run in eight with all its requests waiting for a stream while the
   * connection had none open (the STALL line below shows that state).
   */
  static io.vertx.core.Context requests;

  static <T> io.vertx.core.Future<T> onRequests(java.util.function.Supplier<io.vertx.core.Future<T>> request) {
    if (requests == null) return request.get(); // HTTP/1.1: each connection on an event loop of its own
    io.vertx.core.Promise<T> result = io.vertx.core.Promise.promise();
    requests.runOnContext(v -> request.get().onComplete(result));
    return result.future();
  }

  static CompletableFuture<String> send(HttpClient http, String token, HttpMethod method, String path,
                                        String contentType, JsonObject body) {
    return onRequests(() -> http.request(new RequestOptions().setMethod(method).setURI(path)
            .putHeader("Authorization", "Bearer " + token).putHeader("Content-Type", contentType))
        .compose(req -> {
          lastConnection = req.connection();
          return method == HttpMethod.GET ? req.send() : req.send(body.toBuffer());
        })
        .compose(r -> r.body().map(b -> {
          if (r.statusCode() >= 300) throw new IllegalStateException(r.statusCode() + " " + b);
          return b.toString();
        }))).toCompletionStage().toCompletableFuture();
  }

  static JsonObject node(String name) {
    // A taint keeps the node agent of a real node, if any, from mistaking these for its own work;
    // the benchmark pods tolerate it.
    return new JsonObject().put("apiVersion", "v1").put("kind", "Node")
        .put("metadata", new JsonObject().put("name", name).put("labels", new JsonObject()
            .put("kubernetes.io/hostname", name).put("kvx.io/bench", "true")))
        .put("spec", new JsonObject().put("taints", new JsonArray().add(new JsonObject().put("key", "kvx.io/bench")
            .put("effect", "NoSchedule"))));
  }

  static JsonObject pod(String name) {
    return new JsonObject().put("apiVersion", "v1").put("kind", "Pod")
        .put("metadata", new JsonObject().put("name", name))
        .put("spec", new JsonObject()
            .put("nodeSelector", new JsonObject().put("kvx.io/bench", "true"))
            .put("tolerations", new JsonArray().add(new JsonObject().put("key", "kvx.io/bench").put("operator", "Exists")))
            .put("containers", new JsonArray().add(new JsonObject().put("name", "c").put("image", "registry.k8s.io/pause:3.10")
                .put("resources", new JsonObject().put("requests", new JsonObject().put("cpu", "100m").put("memory", "500Mi"))))));
  }

  static String metrics(HttpClient http, String token) {
    return onRequests(() -> http.request(new RequestOptions().setURI("/metrics").putHeader("Authorization",
        "Bearer " + token)).compose(req -> req.send()).compose(r -> r.body())).await().toString();
  }

  /** The sum of a scheduled-attempt series' samples whose line starts with {@code prefix}, now less before. */
  static double scheduled(String metrics, String before, String prefix) {
    return sum(metrics, prefix) - sum(before, prefix);
  }

  private static double sum(String metrics, String prefix) {
    double sum = 0;
    for (String l : metrics.split("\n")) {
      if (l.startsWith(prefix) && l.contains("result=\"scheduled\"")) sum += Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  /** Mean scheduling attempt (scheduled) in ms over the measured pods: the histogram's sum over its count. */
  static String mean(String metrics, String before) {
    double sum = scheduled(metrics, before, "scheduler_scheduling_attempt_duration_seconds_sum");
    double count = scheduled(metrics, before, "scheduler_scheduling_attempt_duration_seconds_count");
    return count == 0 ? "n/a" : String.format("%.3f", sum / count * 1000);
  }

  /** p99 of the scheduled attempts since {@code before}: the histogram's buckets, now less before. */
  static String p99(String metrics, String before) {
    TreeMap<Double, Double> buckets = new TreeMap<>();
    for (String l : metrics.split("\n")) {
      if (!l.startsWith("scheduler_scheduling_attempt_duration_seconds_bucket") || !l.contains("result=\"scheduled\"")) continue;
      int le = l.indexOf(",le=\"") >= 0 ? l.indexOf(",le=\"") + 5 : l.indexOf("{le=\"") + 5;
      String bound = l.substring(le, l.indexOf('"', le));
      double earlier = before.lines().filter(b -> b.startsWith(l.substring(0, l.lastIndexOf(' ') + 1)))
          .mapToDouble(b -> Double.parseDouble(b.substring(b.lastIndexOf(' ') + 1))).sum();
      double v = Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) - earlier;
      buckets.merge(bound.equals("+Inf") ? Double.MAX_VALUE : Double.parseDouble(bound), v, Double::sum);
    }
    if (buckets.isEmpty()) return "n/a";
    double total = buckets.lastEntry().getValue();
    for (var e : buckets.entrySet()) if (e.getValue() >= 0.99 * total) return String.valueOf(e.getKey());
    return "n/a";
  }
}
