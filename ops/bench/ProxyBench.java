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
 * nftables programming time for one changed service among N. Settings come as -Dbench.* properties.
 */
public class ProxyBench {

  static final String NET = System.getProperty("bench.net", "10.75");
  static final List<String> BACKENDS = List.of(NET + ".50.11", NET + ".50.12", NET + ".50.13");

  /**
   * One wrk run: requests/s, p99, and CPU per request (µs) spent by the client (wrk), the backends'
   * nginx workers and the proxy process (none for direct and nftables: kernel NAT work is done in the
   * softirqs of whoever sends the packet, i.e. mostly counted in the client's and backends' system time).
   */
  record Result(double rps, double p99Millis, double clientUs, double backendUs, double proxyUs, String errors) {
    double totalUs() {
      return clientUs + backendUs + proxyUs;
    }
  }

  /** A target and the processes (besides client and backends) whose CPU counts for it. */
  record Target(String name, String url, String meaning, Supplier<List<Long>> proxyPids) {
  }

  static String clientNs = System.getProperty("bench.client");
  static String clientCpus = System.getProperty("bench.clientCpus", "");
  static int seconds = Integer.getInteger("bench.seconds", 5);
  static int warmup = Integer.getInteger("bench.warmup", 1);
  static int connections = Integer.getInteger("bench.connections", 32);
  static int threads = Integer.getInteger("bench.threads", 1);
  /** The script's pid files: three backends, the nginx stream proxy, haproxy. */
  static String work = System.getProperty("bench.work", "");
  static final long TICKS = 100; // USER_HZ: /proc/PID/stat counts CPU in 1/100 s

  public static void main(String[] a) throws Exception {
    List<Integer> counts = Arrays.stream(System.getProperty("bench.services", "100,1000,5000").split(","))
        .filter(x -> !x.isBlank()).map(Integer::parseInt).toList();
    int rounds = Integer.getInteger("bench.rounds", 5);
    List<String> wanted = List.of(System.getProperty("bench.targets",
        "direct,nftables/1,nftables/3,userspace/3,userspace-epoll/3,nginx/3,haproxy/3").split(","));

    // Both kvx modes at once, on their own cluster IPs and devices, so that every round measures every
    // target back to back (the machine's load drifts; medians over rounds, not one long run each).
    VertxOptions vo = new VertxOptions().setPreferNativeTransport(true);
    if (Integer.getInteger("bench.eventLoops", 0) > 0) vo.setEventLoopPoolSize(Integer.getInteger("bench.eventLoops"));
    Vertx vertx = Vertx.vertx(vo);
    Context ctx = vertx.getOrCreateContext();
    Proxier nft = start(vertx, ctx, options("nftables", 0), Map.of("web", BACKENDS, "web1", BACKENDS.subList(0, 1)));
    ProxyOptions uo = options("userspace", 1);
    uo.userspaceWorkers = Integer.getInteger("bench.proxyWorkers", 0); // as many as nginx's and haproxy's
    uo.userspaceSocketRelay = !Boolean.getBoolean("bench.pipelineRelay");
    uo.userspaceIoUring = !"false".equals(System.getProperty("bench.ioUring")); // the mode's default: on
    Proxier user = start(vertx, ctx, uo, Map.of("web", BACKENDS));
    // the same mode on native epoll (the bare-socket relay), measured next to it in every round
    ProxyOptions eo = options("userspace", 2);
    eo.userspaceWorkers = uo.userspaceWorkers;
    eo.userspaceIoUring = false;
    Proxier epoll = start(vertx, ctx, eo, Map.of("web", BACKENDS));
    Supplier<List<Long>> none = List::of;
    Supplier<List<Long>> self = () -> List.of(ProcessHandle.current().pid());
    List<Target> all = List.of(
        new Target("direct", "http://" + BACKENDS.get(0) + "/",
            "no proxy: the node routes the client to backend 1 (the anchor)", none),
        new Target("nftables/1", "http://" + clusterIp(0, "web1") + "/",
            "kvx nftables, a service whose one endpoint is backend 1: direct + DNAT + masquerade", none),
        new Target("nftables/3", "http://" + clusterIp(0, "web") + "/",
            "kvx nftables over the 3 backends (numgen random)", none),
        new Target("userspace/3", "http://" + clusterIp(1, "web") + "/",
            "kvx userspace (Netty relay in this JVM, " + (uo.userspaceIoUring ? "io_uring if the kernel allows"
                : vertx.isNativeTransportEnabled() ? "epoll" : "NIO")
                + ", " + (uo.userspaceWorkers > 0 ? uo.userspaceWorkers : Runtime.getRuntime().availableProcessors())
                + " TCP event loop(s), " + (uo.userspaceSocketRelay ? "socket" : "pipeline") + " relay, JIT " + jit()
                + ") over the 3 backends", self),
        new Target("userspace-epoll/3", "http://" + clusterIp(2, "web") + "/",
            "kvx userspace as above on native epoll (the bare-socket relay, " + eo.userspaceWorkers
                + " TCP event loop(s)) over the 3 backends", self),
        new Target("nginx/3", "http://" + NET + ".51.1:8081/",
            "nginx " + version("nginx", "-v") + " stream proxy in the node over the 3 backends",
            () -> tree(work + "/nginx-lb.pid")),
        new Target("haproxy/3", "http://" + NET + ".51.1:8082/",
            "haproxy " + version("haproxy", "-v") + " (mode tcp, roundrobin) in the node over the 3 backends",
            () -> tree(work + "/haproxy.pid")));
    List<Target> targets = all.stream().filter(t -> wanted.contains(t.name())).toList();
    System.out.printf("wrk -t%d -c%d -d%ds --latency from %s%s, %d s warm-up per target; targets:%n", threads,
        connections, seconds, clientNs, clientCpus.isEmpty() ? "" : " on cpu " + clientCpus, warmup);
    for (Target t : targets) System.out.printf("  %-17s %s%n", t.name(), t.meaning());
    int hold = Integer.getInteger("bench.hold", 0);
    if (hold > 0) {
      // for profiling by hand: everything stays up, nothing is measured
      for (Target t : targets) System.out.printf("  %-17s %s%n", t.name(), t.url());
      System.out.printf("holding for %d s (ip netns exec %s wrk ... URL)%n", hold, clientNs);
      Thread.sleep(hold * 1000L);
      rounds = 0;
      counts = List.of();
    }
    Map<String, List<Result>> runs = new LinkedHashMap<>();
    targets.forEach(t -> runs.put(t.name(), new ArrayList<>()));
    List<List<Target>> groups = groups(targets);
    try {
      for (int r = 1; r <= rounds; r++) {
        System.out.printf("round %d of %d (load %s)%n", r, rounds, loadavg());
        for (int k = 0; k < groups.size(); k++) {
          // groups rotated per round (no group always runs first); a target and the one it is compared
          // with run back to back, in the order flipped every round (ABBA), so a drift of the shared
          // machine's load or a swing of the VM weighs on both sides of a ratio alike
          List<Target> g = new ArrayList<>(groups.get((k + r - 1) % groups.size()));
          if (r % 2 == 0) java.util.Collections.reverse(g);
          for (Target t : g) runs.get(t.name()).add(wrk(t));
        }
      }
    } finally {
      on(ctx, nft::stop);
      on(ctx, user::stop);
      on(ctx, epoll::stop);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (rounds == 0) return;

    System.out.println();
    System.out.printf("%-17s %11s %8s   %-29s  %s%n", "median of " + rounds, "requests/s", "p99 ms",
        "CPU us/request: client+backends+proxy = total", "requests/s per round");
    for (var e : runs.entrySet()) {
      List<Result> l = e.getValue();
      System.out.printf("%-17s %11.0f %8.2f   %5.1f + %5.1f + %5.1f = %5.1f          %s%n", e.getKey(), med(l, Result::rps),
          med(l, Result::p99Millis), med(l, Result::clientUs), med(l, Result::backendUs), med(l, Result::proxyUs),
          med(l, Result::totalUs), l.stream().map(x -> String.format("%.0f", x.rps())).reduce((x, y) -> x + " " + y)
              .orElse(""));
    }
    System.out.println();
    System.out.println("Ratios: throughput = median over rounds of (a's requests/s / b's, measured back to back in the same");
    System.out.println("round), with the lowest, the quartiles and the highest of those per-round ratios; CPU = b's CPU per");
    System.out.println("request / a's (medians): the throughput ratio when CPU is what runs out.");
    System.out.printf("%-37s %10s %6s   %-30s %s%n", "", "throughput", "CPU", "spread: min [q1 q3] max", "per round");
    ratio(runs, "nftables/1", "direct", "target >= 0.95: the same backend, so the cost of the rules alone");
    ratio(runs, "userspace/3", "nginx/3", "target >= 1.00");
    ratio(runs, "userspace-epoll/3", "nginx/3", "the mode without io_uring");
    ratio(runs, "userspace/3", "userspace-epoll/3", "io_uring against epoll");
    ratio(runs, "userspace/3", "haproxy/3", "");
    ratio(runs, "nftables/3", "direct", "three backends against one");
    ratio(runs, "nginx/3", "direct", "");
    ratio(runs, "haproxy/3", "direct", "");

    if (counts.isEmpty()) return;
    System.out.println();
    System.out.printf("%-10s %14s %24s %16s %26s%n", "services", "full sync ms", "one changed: median ms",
        "max ms (of 9)", "median CPU ms (this thread)");
    for (int n : counts) programming(n);
  }

  static double med(List<Result> l, java.util.function.ToDoubleFunction<Result> f) {
    return median(l.stream().map(f::applyAsDouble).toList());
  }

  static void ratio(Map<String, List<Result>> runs, String a, String b, String note) {
    List<Result> ra = runs.get(a);
    List<Result> rb = runs.get(b);
    if (ra == null || rb == null) return;
    List<Double> paired = new ArrayList<>();
    for (int i = 0; i < Math.min(ra.size(), rb.size()); i++) paired.add(ra.get(i).rps() / rb.get(i).rps());
    List<Double> sorted = paired.stream().sorted().toList();
    String spread = sorted.isEmpty() ? "" : String.format("%.2f [%.2f %.2f] %.2f", sorted.getFirst(),
        quantile(sorted, 0.25), quantile(sorted, 0.75), sorted.getLast());
    System.out.printf("%-17s / %-17s %10.2f %6.2f   %-30s %s%s%n", a, b, median(paired), med(rb, Result::totalUs)
        / med(ra, Result::totalUs), spread, paired.stream().map(x -> String.format("%.2f", x))
        .reduce((x, y) -> x + " " + y).orElse(""), note.isEmpty() ? "" : "   (" + note + ")");
  }

  /**
   * The targets of one round in groups that run back to back: each compared pair (nftables/1 with
   * direct, userspace/3 with nginx/3) is a group, every other target a group of its own.
   */
  static List<List<Target>> groups(List<Target> targets) {
    List<List<String>> pairs = List.of(List.of("direct", "nftables/1"),
        List.of("nginx/3", "userspace/3", "userspace-epoll/3"));
    List<List<Target>> out = new ArrayList<>();
    java.util.Set<String> placed = new java.util.HashSet<>();
    for (Target t : targets) {
      if (placed.contains(t.name())) continue;
      List<Target> g = new ArrayList<>(List.of(t));
      placed.add(t.name());
      for (List<String> pair : pairs) {
        if (!pair.contains(t.name())) continue;
        for (Target u : targets) {
          if (!placed.contains(u.name()) && pair.contains(u.name())) {
            g.add(u);
            placed.add(u.name());
          }
        }
      }
      out.add(g);
    }
    return out;
  }

  static double median(List<Double> xs) {
    if (xs.isEmpty()) return Double.NaN;
    List<Double> s = xs.stream().sorted().toList();
    return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
  }

  /** Linear interpolation between the closest ranks of a sorted list. */
  static double quantile(List<Double> sorted, double q) {
    double pos = q * (sorted.size() - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.size() - 1);
    return sorted.get(lo) + (sorted.get(hi) - sorted.get(lo)) * (pos - lo);
  }

  static String loadavg() {
    try {
      return String.join(" ", Arrays.copyOf(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"))
          .split(" "), 3));
    } catch (IOException e) {
      return "?";
    }
  }

  /** Proxier i's service CIDR is NET.(60+i).0/24 (0 nftables, 1 userspace, 2 userspace on epoll); "web" is .10, "web1" .11. */
  static String clusterIp(int i, String service) {
    return NET + "." + (60 + i) + "." + (service.equals("web") ? 10 : 11);
  }

  static Proxier start(Vertx vertx, Context ctx, ProxyOptions o, Map<String, List<String>> services) throws Exception {
    Proxier proxier = new Proxier(vertx, o, ProxyModes.create(vertx, o), new SimpleMeterRegistry());
    on(ctx, proxier::start);
    int i = o.mode.equals("nftables") ? 0 : o.userspaceIoUring ? 1 : 2;
    on(ctx, () -> {
      services.forEach((name, backends) -> {
        proxier.onService("default/" + name, service(name, clusterIp(i, name)));
        proxier.onEndpointSlice("default/" + name + "-1", slice(name, backends));
      });
      return proxier.synced();
    });
    return proxier;
  }

  /** C1 only (the launcher's default, -XX:TieredStopAtLevel=1) or tiered up to C2. */
  static String jit() {
    String level = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(x -> x.startsWith("-XX:TieredStopAtLevel=")).reduce((x, y) -> y).orElse("-XX:TieredStopAtLevel=4");
    return level.endsWith("=4") ? "C1+C2" : "C1 only";
  }

  static ProxyOptions options(String mode, int i) {
    ProxyOptions o = options(mode);
    o.table = "kvxqbench" + i;
    o.serviceDevice = "kvxq-svc" + i;
    o.serviceCidr = NET + "." + (60 + i) + ".0/24";
    return o;
  }

  static ProxyOptions options(String mode) {
    ProxyOptions o = new ProxyOptions();
    o.mode = mode;
    o.table = "kvxqbench";
    o.serviceDevice = "kvxq-svc0";
    o.serviceCidr = NET + ".60.0/24";
    o.clusterCidr = NET + ".50.0/24";
    o.fullSyncSeconds = 0;
    return o;
  }

  static JsonObject service(String name, String clusterIp) {
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", name))
        .put("spec", new JsonObject().put("clusterIP", clusterIp).put("ports", new JsonArray()
            .add(new JsonObject().put("name", "http").put("port", 80).put("targetPort", 80))));
  }

  static JsonObject slice(String service, List<String> backends) {
    JsonArray eps = new JsonArray();
    for (String ip : backends) {
      eps.add(new JsonObject().put("addresses", new JsonArray().add(ip)).put("conditions", new JsonObject().put("ready", true)));
    }
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", service + "-1")
            .put("labels", new JsonObject().put("kubernetes.io/service-name", service)))
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
        String ip = NET + "." + (100 + i / 250) + "." + (i % 250 + 1);
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
      out.add(new Endpoint(NET + "." + (200 + (seed + k) % 50) + "." + (k + 1), 8080, true));
    }
    return out.stream().sorted().distinct().toList();
  }

  /**
   * wrk in the client namespace (on the client CPUs), then bash's `times` for wrk's CPU time. In a
   * session of its own: with the kernel's scheduler autogroups (sched_autogroup_enabled), a session
   * shares one CPU weight over all CPUs its threads run on, so wrk busy on the client CPU in this JVM's
   * session left kvx's userspace event loop about half the weight on the proxy CPU that nginx and
   * haproxy (daemons, sessions of their own) and each backend had there.
   */
  static List<String> wrkCommand(String... args) {
    List<String> cmd = new ArrayList<>(List.of("setsid", "--wait", "ip", "netns", "exec", clientNs));
    if (!clientCpus.isEmpty()) cmd.addAll(List.of("taskset", "-c", clientCpus));
    cmd.addAll(List.of("bash", "-c", "wrk \"$@\" && times", "wrk", "-t" + threads, "-c" + connections));
    cmd.addAll(List.of(args));
    return cmd;
  }

  static Result wrk(Target t) throws Exception {
    // a short warm-up (JIT, connection setup), then the measured run
    run(wrkCommand("-d" + warmup + "s", t.url()));
    List<Long> backends = new ArrayList<>();
    for (int i = 1; i <= BACKENDS.size(); i++) backends.addAll(tree(work + "/" + clientNs.replaceAll("-c$", "-b" + i) + ".pid"));
    List<Long> proxy = t.proxyPids().get();
    long b0 = ticks(backends);
    long p0 = ticks(proxy);
    String out = run(wrkCommand("-d" + seconds + "s", "--latency", t.url()));
    long b1 = ticks(backends);
    long p1 = ticks(proxy);
    Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
    Matcher total = Pattern.compile("(\\d+) requests in").matcher(out);
    Matcher p99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)").matcher(out);
    Matcher errors = Pattern.compile("Socket errors:.*|Non-2xx.*").matcher(out);
    // `times` after wrk: the second line is the children's (wrk's) user and system time
    Matcher times = Pattern.compile("(\\d+)m([0-9.]+)s (\\d+)m([0-9.]+)s\\s*$").matcher(out);
    if (!rps.find() || !p99.find() || !total.find() || !times.find()) {
      throw new IOException("no wrk figures for " + t.name() + ":\n" + out);
    }
    double p = Double.parseDouble(p99.group(1)) * switch (p99.group(2)) {
      case "us" -> 0.001;
      case "s" -> 1000.0;
      default -> 1.0;
    };
    double n = Double.parseDouble(total.group(1));
    double clientSeconds = Integer.parseInt(times.group(1)) * 60 + Double.parseDouble(times.group(2))
        + Integer.parseInt(times.group(3)) * 60 + Double.parseDouble(times.group(4));
    Result r = new Result(Double.parseDouble(rps.group(1)), p, clientSeconds * 1e6 / n,
        (b1 - b0) * 1e6 / TICKS / n, (p1 - p0) * 1e6 / TICKS / n, errors.find() ? " [" + errors.group().trim() + "]" : "");
    System.out.printf("  %-17s %10.0f req/s  p99 %7.2f ms  CPU us/request %5.1f + %5.1f + %5.1f = %5.1f%s%n", t.name(),
        r.rps(), p, r.clientUs(), r.backendUs(), r.proxyUs(), r.totalUs(), r.errors());
    return r;
  }

  /** A daemon's pid (from its pid file) and all its descendants. */
  static List<Long> tree(String pidFile) {
    try {
      long pid = Long.parseLong(java.nio.file.Files.readString(java.nio.file.Path.of(pidFile)).trim());
      List<Long> out = new ArrayList<>(List.of(pid));
      ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> out.add(d.pid())));
      return out;
    } catch (IOException | NumberFormatException e) {
      return List.of();
    }
  }

  /** utime + stime of these processes (all their threads), in clock ticks. */
  static long ticks(List<Long> pids) {
    long sum = 0;
    for (long pid : pids) {
      try {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        sum += Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
      } catch (IOException e) {
        // gone: counts nothing
      }
    }
    return sum;
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
