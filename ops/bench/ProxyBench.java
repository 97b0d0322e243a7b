import io.kvx.proxy.Endpoint;
import io.kvx.proxy.Proxier;
import io.kvx.proxy.ProxyModes;
import io.kvx.proxy.ProxyOptions;
import io.kvx.proxy.ProxySnapshot;
import io.kvx.proxy.ServicePort;
import io.kvx.proxy.ServicePortName;
import io.kvx.proxy.nftables.NftablesMode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs inside the node namespace that ops/bench/proxy set up (read that script first): wrk from the
 * client namespace against each target in turn, kvx's proxy started here for its two modes, then the
 * nftables programming time for one changed service among N.
 * Usage: ProxyBench CLIENT_NS SECONDS CONNECTIONS THREADS N1,N2,...
 */
public class ProxyBench {

  static final List<String> BACKENDS = List.of("10.75.50.11", "10.75.50.12", "10.75.50.13");

  record Result(String target, double rps, double p99Millis, String note) {
  }

  static String clientNs;
  static int seconds;
  static int connections;
  static int threads;

  public static void main(String[] a) throws Exception {
    clientNs = a[0];
    seconds = Integer.parseInt(a[1]);
    connections = Integer.parseInt(a[2]);
    threads = Integer.parseInt(a[3]);
    List<Integer> counts = Arrays.stream(a[4].split(",")).map(Integer::parseInt).toList();
    int rounds = a.length > 5 ? Integer.parseInt(a[5]) : 3;

    // Both kvx modes at once, on their own cluster IPs and devices, so that every round measures every
    // target back to back (the machine's load drifts; medians over rounds, not one long run each).
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    Context ctx = vertx.getOrCreateContext();
    Proxier nft = start(vertx, ctx, options("nftables", 0));
    Proxier user = start(vertx, ctx, options("userspace", 1));
    Map<String, String> urls = new LinkedHashMap<>();
    urls.put("direct (one backend)", "http://10.75.50.11/");
    urls.put("kvx nftables", "http://" + clusterIp(0) + "/");
    urls.put("kvx userspace", "http://" + clusterIp(1) + "/");
    urls.put("nginx " + version("nginx", "-v") + " stream", "http://10.75.51.1:8081/");
    urls.put("haproxy " + version("haproxy", "-v"), "http://10.75.51.1:8082/");
    Map<String, List<Result>> runs = new LinkedHashMap<>();
    try {
      for (int r = 1; r <= rounds; r++) {
        System.out.printf("round %d of %d (load %s)%n", r, rounds, loadavg());
        for (var e : urls.entrySet()) runs.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(wrk(e.getKey(), e.getValue(), ""));
      }
    } finally {
      on(ctx, nft::stop);
      on(ctx, user::stop);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    Map<String, Result> results = new LinkedHashMap<>();
    runs.forEach((k, list) -> results.put(k, new Result(k, median(list.stream().map(Result::rps).toList()),
        median(list.stream().map(Result::p99Millis).toList()), list.stream().map(x -> String.format("%.0f", x.rps()))
        .reduce((x, y) -> x + " " + y).orElse(""))));
    List<Result> rs = List.copyOf(results.values());

    System.out.println();
    System.out.printf("%-26s %12s %10s  %s%n", "target (median of " + rounds + ")", "requests/s", "p99 ms", "each round");
    for (Result r : rs) System.out.printf("%-26s %12.0f %10.2f  %s%n", r.target(), r.rps(), r.p99Millis(), r.note());
    double direct = rs.get(0).rps();
    System.out.printf("%nnftables / direct   = %.2f  (target >= 0.95)%n", rs.get(1).rps() / direct);
    System.out.printf("userspace / nginx   = %.2f  (target >= 1.00)%n", rs.get(2).rps() / rs.get(3).rps());
    System.out.printf("userspace / haproxy = %.2f%n", rs.get(2).rps() / rs.get(4).rps());
    System.out.printf("nginx / direct      = %.2f, haproxy / direct = %.2f%n", rs.get(3).rps() / direct,
        rs.get(4).rps() / direct);

    System.out.println();
    System.out.printf("%-10s %14s %24s %16s %26s%n", "services", "full sync ms", "one changed: median ms",
        "max ms (of 9)", "median CPU ms (this thread)");
    for (int n : counts) programming(n);
  }

  static double median(List<Double> xs) {
    List<Double> s = xs.stream().sorted().toList();
    return s.get(s.size() / 2);
  }

  static String loadavg() {
    try {
      return String.join(" ", Arrays.copyOf(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"))
          .split(" "), 3));
    } catch (IOException e) {
      return "?";
    }
  }

  static String clusterIp(int i) {
    return "10.75." + (60 + i) + ".10";
  }

  static Proxier start(Vertx vertx, Context ctx, ProxyOptions o) throws Exception {
    Proxier proxier = new Proxier(vertx, o, ProxyModes.create(vertx, o), new SimpleMeterRegistry());
    on(ctx, proxier::start);
    int i = o.mode.equals("nftables") ? 0 : 1;
    on(ctx, () -> {
      proxier.onService("default/web", service(clusterIp(i)));
      proxier.onEndpointSlice("default/web-1", slice());
      return proxier.synced();
    });
    return proxier;
  }

  static ProxyOptions options(String mode, int i) {
    ProxyOptions o = options(mode);
    o.table = "kvxqbench" + i;
    o.serviceDevice = "kvxq-svc" + i;
    o.serviceCidr = "10.75." + (60 + i) + ".0/24";
    return o;
  }

  static ProxyOptions options(String mode) {
    ProxyOptions o = new ProxyOptions();
    o.mode = mode;
    o.table = "kvxqbench";
    o.serviceDevice = "kvxq-svc0";
    o.serviceCidr = "10.75.60.0/24";
    o.clusterCidr = "10.75.50.0/24";
    o.fullSyncSeconds = 0;
    return o;
  }

  static JsonObject service(String clusterIp) {
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", "web"))
        .put("spec", new JsonObject().put("clusterIP", clusterIp).put("ports", new JsonArray()
            .add(new JsonObject().put("name", "http").put("port", 80).put("targetPort", 80))));
  }

  static JsonObject slice() {
    JsonArray eps = new JsonArray();
    for (String ip : BACKENDS) {
      eps.add(new JsonObject().put("addresses", new JsonArray().add(ip)).put("conditions", new JsonObject().put("ready", true)));
    }
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", "web-1")
            .put("labels", new JsonObject().put("kubernetes.io/service-name", "web")))
        .put("addressType", "IPv4").put("endpoints", eps)
        .put("ports", new JsonArray().add(new JsonObject().put("name", "http").put("port", 80).put("protocol", "TCP")));
  }

  /** One changed service among n: full sync of n services (3 endpoints each), then 9 single-service updates. */
  static void programming(int n) throws Exception {
    NftablesMode mode = new NftablesMode(options("nftables"));
    mode.start();
    try {
      Map<String, Map<ServicePortName, ServicePort>> svcs = new HashMap<>();
      Map<String, Map<ServicePortName, List<Endpoint>>> eps = new HashMap<>();
      for (int i = 0; i < n; i++) {
        String key = "bench/s" + i;
        ServicePortName name = new ServicePortName("bench", "s" + i, "http", "TCP");
        String ip = "10.75." + (100 + i / 250) + "." + (i % 250 + 1);
        svcs.put(key, Map.of(name, new ServicePort(name, ip, 80, "TCP", 0, 0)));
        eps.put(key, Map.of(name, endpoints(i, 3)));
      }
      long t0 = System.nanoTime();
      mode.sync(ProxySnapshot.of(svcs, eps), Set.of(), true);
      long full = System.nanoTime() - t0;
      List<Long> one = new ArrayList<>();
      List<Long> cpu = new ArrayList<>();
      java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
      for (int round = 0; round < 9; round++) {
        int i = (round * 7919) % n;
        String key = "bench/s" + i;
        ServicePortName name = new ServicePortName("bench", "s" + i, "http", "TCP");
        eps.put(key, Map.of(name, endpoints(i + round + 1, round % 2 == 0 ? 2 : 4)));
        ProxySnapshot snap = ProxySnapshot.of(svcs, eps);
        long c = mx.getCurrentThreadCpuTime();
        long t = System.nanoTime();
        mode.sync(snap, Set.of(key), false);
        one.add(System.nanoTime() - t);
        cpu.add(mx.getCurrentThreadCpuTime() - c);
      }
      one.sort(Long::compare);
      cpu.sort(Long::compare);
      System.out.printf("%-10d %14.1f %24.1f %16.1f %26.1f%n", n, full / 1e6, one.get(one.size() / 2) / 1e6,
          one.get(one.size() - 1) / 1e6, cpu.get(cpu.size() / 2) / 1e6);
    } finally {
      mode.stop();
    }
  }

  static List<Endpoint> endpoints(int seed, int count) {
    List<Endpoint> out = new ArrayList<>();
    for (int k = 0; k < count; k++) {
      out.add(new Endpoint("10.75." + (200 + (seed + k) % 50) + "." + (k + 1), 8080, true));
    }
    return out.stream().sorted().distinct().toList();
  }

  static Result wrk(String target, String url, String note) throws Exception {
    // a short warm-up (JIT, connection setup), then the measured run
    run(List.of("ip", "netns", "exec", clientNs, "wrk", "-t" + threads, "-c" + connections, "-d2s", url));
    String out = run(List.of("ip", "netns", "exec", clientNs, "wrk", "-t" + threads, "-c" + connections,
        "-d" + seconds + "s", "--latency", url));
    Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
    Matcher p99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)").matcher(out);
    Matcher errors = Pattern.compile("Socket errors:.*|Non-2xx.*").matcher(out);
    if (!rps.find() || !p99.find()) throw new IOException("no wrk figures for " + target + ":\n" + out);
    double p = Double.parseDouble(p99.group(1)) * switch (p99.group(2)) {
      case "us" -> 0.001;
      case "s" -> 1000.0;
      default -> 1.0;
    };
    String extra = errors.find() ? " [" + errors.group().trim() + "]" : "";
    System.out.printf("  %-24s %10.0f req/s  p99 %.2f ms%s%n", target, Double.parseDouble(rps.group(1)), p, extra);
    return new Result(target, Double.parseDouble(rps.group(1)), p, note + extra);
  }

  static String version(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      Matcher m = Pattern.compile("(\\d+\\.\\d+\\.\\d+)").matcher(v);
      return m.find() ? m.group(1) : "";
    } catch (IOException e) {
      return "";
    }
  }

  static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " failed:\n" + out);
    return out;
  }

  static <T> T on(Context ctx, Supplier<Future<T>> action) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    ctx.runOnContext(v -> action.get().onComplete(ar -> {
      if (ar.succeeded()) f.complete(ar.result());
      else f.completeExceptionally(ar.cause());
    }));
    return f.get(60, TimeUnit.SECONDS);
  }
}
