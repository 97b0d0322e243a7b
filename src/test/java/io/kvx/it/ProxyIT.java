package io.kvx.it;

import io.kvx.node.Exec;
import io.kvx.proxy.Proxier;
import io.kvx.proxy.ProxyModes;
import io.kvx.proxy.ProxyOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy on this machine's kernel, in one JVM against objects the test writes itself (no API
 * server): three backend namespaces kvxp-b1..3 on bridge kvxp0 run busybox httpd, each answering its
 * own name; a client namespace kvxp-c plays a pod. Per mode: balance over 1,000 host requests, ClientIP
 * affinity, a backend going not-ready drains within a second, pod and node-port traffic, and nothing
 * left after deletion and stop. Everything it creates is named kvxp* and removed in {@link #tearDown}.
 */
@EnabledIfSystemProperty(named = "user.name", matches = "root")
class ProxyIT {

  static final String BRIDGE = "kvxp0";
  static final String NET = "10.251.0.";
  static final String CLUSTER_IP = "10.252.0.10";
  static final String SERVICE_CIDR = "10.252.0.0/24";
  static final int NODE_PORT = 31080;
  static final String TABLE = "kvxpit";
  static final String DEVICE = "kvxp-svc0";
  static final List<String> BACKENDS = List.of("kvxp-b1", "kvxp-b2", "kvxp-b3");
  static final List<Process> servers = new ArrayList<>();
  static Path www;

  @BeforeAll
  static void setUp() throws Exception {
    tearDown();
    try {
      // Safety net: whatever the proxy does with its route, test traffic to the service CIDR never
      // leaves the machine (a lower-priority route takes over if the proxy's goes away).
      sh("ip route add unreachable " + SERVICE_CIDR + " metric 9999");
      sh("ip link add " + BRIDGE + " type bridge");
      sh("ip addr add " + NET + "1/24 dev " + BRIDGE);
      sh("ip link set " + BRIDGE + " up");
      // forwarding on this bridge only (pod → cluster IP → pod is routed by the host), not machine-wide
      Files.writeString(Path.of("/proc/sys/net/ipv4/conf/" + BRIDGE + "/forwarding"), "1");
      www = Files.createTempDirectory("kvxp-www");
      for (int i = 0; i < BACKENDS.size(); i++) {
        String ns = BACKENDS.get(i);
        pod(ns, "kvxpv" + (i + 1), NET + (11 + i));
        Path dir = Files.createDirectories(www.resolve(ns));
        Files.writeString(dir.resolve("index.html"), ns + "\n");
        servers.add(new ProcessBuilder("ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", "8080", "-h",
            dir.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
      }
      pod("kvxp-c", "kvxpvc", NET + "20");
      for (int i = 0; i < BACKENDS.size(); i++) awaitHttp(NET + (11 + i), 8080);
    } catch (Exception e) {
      tearDown();
      throw e;
    }
  }

  static void pod(String ns, String hostVeth, String ip) throws IOException {
    sh("ip netns add " + ns);
    sh("ip link add " + hostVeth + " type veth peer name eth0 netns " + ns);
    sh("ip link set " + hostVeth + " master " + BRIDGE + " up");
    sh("ip link set " + hostVeth + " type bridge_slave hairpin on");
    sh("ip -n " + ns + " link set lo up");
    sh("ip -n " + ns + " addr add " + ip + "/24 dev eth0");
    sh("ip -n " + ns + " link set eth0 up");
    sh("ip -n " + ns + " route add default via " + NET + "1");
  }

  @AfterAll
  static void tearDown() {
    for (Process p : servers) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
    servers.clear();
    for (String ns : List.of("kvxp-b1", "kvxp-b2", "kvxp-b3", "kvxp-c")) quiet("ip netns del " + ns);
    quiet("ip link del " + BRIDGE);
    quiet("ip route del unreachable " + SERVICE_CIDR + " metric 9999");
    quiet("ip link del " + DEVICE);
    quiet("nft delete table ip " + TABLE);
    if (www != null) quiet("rm -rf " + www);
  }

  @ParameterizedTest
  @ValueSource(strings = {"nftables", "userspace"})
  void balancesSticksDrainsAndLeavesNothing(String mode) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    Context ctx = vertx.getOrCreateContext();
    ProxyOptions o = new ProxyOptions();
    o.mode = mode;
    o.table = TABLE;
    o.serviceDevice = DEVICE;
    o.serviceCidr = SERVICE_CIDR;
    o.clusterCidr = NET + "0/24";
    o.minSyncMillis = 100;
    o.fullSyncSeconds = 0;
    Proxier proxier = new Proxier(vertx, o, ProxyModes.create(vertx, o), new SimpleMeterRegistry());
    boolean stopped = false;
    try {
      on(ctx, proxier::start);
      System.out.printf("[%s] transport %s%n", mode, vertx.isNativeTransportEnabled() ? "native epoll" : "NIO");
      long t0 = System.nanoTime();
      on(ctx, () -> {
        proxier.onService("default/web", service(false));
        proxier.onEndpoints("default/web", endpoints(List.of("kvxp-b1", "kvxp-b2", "kvxp-b3"), List.of()));
        return proxier.synced();
      });
      System.out.printf("[%s] service programmed in %d ms%n", mode, ms(t0));

      long t1 = System.nanoTime();
      Map<String, Integer> hits = requests(1000);
      System.out.printf("[%s] 1000 host requests in %d ms: %s%n", mode, ms(t1), hits);
      assertEquals(BACKENDS, List.copyOf(hits.keySet()), "every backend answers");
      for (int n : hits.values()) assertTrue(Math.abs(n - 1000 / 3.0) <= 0.2 * 1000 / 3.0, "within ±20%: " + hits);

      on(ctx, () -> {
        proxier.onService("default/web", service(true));
        return proxier.synced();
      });
      Map<String, Integer> sticky = requests(50);
      System.out.printf("[%s] with ClientIP affinity: %s%n", mode, sticky);
      assertEquals(1, sticky.size(), "one backend for one client: " + sticky);

      on(ctx, () -> {
        proxier.onService("default/web", service(false));
        return proxier.synced();
      });
      long t2 = System.nanoTime();
      on(ctx, () -> {
        proxier.onEndpoints("default/web", endpoints(List.of("kvxp-b1", "kvxp-b3"), List.of("kvxp-b2")));
        return proxier.synced();
      });
      long drainMs = ms(t2);
      Map<String, Integer> drained = requests(300);
      System.out.printf("[%s] kvxp-b2 not ready: rules in %d ms, then %s%n", mode, drainMs, drained);
      assertTrue(drainMs < 1000, "programmed within 1 s: " + drainMs);
      assertEquals(List.of("kvxp-b1", "kvxp-b3"), List.copyOf(drained.keySet()));

      String fromPod = sh("ip netns exec kvxp-c curl -s -m 3 http://" + CLUSTER_IP + ":80/").trim();
      String hairpin = sh("ip netns exec kvxp-b1 curl -s -m 3 http://" + CLUSTER_IP + ":80/").trim();
      String nodePort = sh("ip netns exec kvxp-c curl -s -m 3 http://" + NET + "1:" + NODE_PORT + "/")
          .trim();
      System.out.printf("[%s] pod → cluster IP: %s; backend → own service: %s; pod → node port: %s%n", mode,
          fromPod, hairpin, nodePort);
      assertTrue(List.of("kvxp-b1", "kvxp-b3").contains(fromPod), fromPod);
      assertTrue(List.of("kvxp-b1", "kvxp-b3").contains(hairpin), hairpin);
      assertTrue(List.of("kvxp-b1", "kvxp-b3").contains(nodePort), nodePort);

      on(ctx, () -> {
        proxier.onService("default/web", null);
        proxier.onEndpoints("default/web", null);
        return proxier.synced();
      });
      if (mode.equals("nftables")) {
        String table = sh("nft list table ip " + TABLE);
        assertFalse(table.contains("default/web") || table.contains(CLUSTER_IP) || table.contains("svc-"), table);
      }
      assertTrue(sh("ip route get " + CLUSTER_IP).contains("dev " + DEVICE), "the service route stays");
      assertThrows(IOException.class, () -> get(CLUSTER_IP, 80), "no service, no answer");

      on(ctx, proxier::stop);
      stopped = true;
      assertThrows(IOException.class, () -> Exec.run(List.of("nft", "list", "table", "ip", TABLE)), "table gone");
      assertThrows(IOException.class, () -> Exec.run(List.of("ip", "link", "show", DEVICE)), "device gone");
    } finally {
      if (!stopped) {
        try {
          on(ctx, proxier::stop);
        } catch (Exception ignored) {
          // torn down below regardless
        }
      }
      quiet("nft delete table ip " + TABLE);
      quiet("ip link del " + DEVICE);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  static JsonObject service(boolean affinity) {
    JsonObject spec = new JsonObject().put("clusterIP", CLUSTER_IP).put("type", "NodePort").put("ports",
        new JsonArray().add(new JsonObject().put("name", "http").put("port", 80).put("targetPort", "web")
            .put("nodePort", NODE_PORT)));
    if (affinity) {
      spec.put("sessionAffinity", "ClientIP").put("sessionAffinityConfig", new JsonObject().put("clientIP",
          new JsonObject().put("timeoutSeconds", 60)));
    }
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", "web"))
        .put("spec", spec);
  }

  /** Endpoints as the controller writes them: the named target port "web" resolved to 8080 per pod. */
  static JsonObject endpoints(List<String> ready, List<String> notReady) {
    JsonArray r = new JsonArray();
    ready.forEach(n -> r.add(new JsonObject().put("ip", ipOf(n))));
    JsonArray nr = new JsonArray();
    notReady.forEach(n -> nr.add(new JsonObject().put("ip", ipOf(n))));
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", "web"))
        .put("subsets", new JsonArray().add(new JsonObject().put("addresses", r).put("notReadyAddresses", nr)
            .put("ports", new JsonArray().add(new JsonObject().put("name", "http").put("port", 8080)))));
  }

  static String ipOf(String backend) {
    return NET + (10 + Integer.parseInt(backend.substring(backend.length() - 1)));
  }

  static Map<String, Integer> requests(int n) throws IOException {
    Map<String, Integer> hits = new TreeMap<>();
    for (int i = 0; i < n; i++) hits.merge(get(CLUSTER_IP, 80), 1, Integer::sum);
    return hits;
  }

  /** One HTTP/1.0 request on a fresh connection (so each one is balanced anew); returns the body. */
  static String get(String host, int port) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 2000);
      s.setSoTimeout(3000);
      OutputStream out = s.getOutputStream();
      out.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String reply = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      int body = reply.indexOf("\r\n\r\n");
      if (body < 0) throw new IOException("no HTTP reply: " + reply);
      return reply.substring(body + 4).trim();
    }
  }

  static void awaitHttp(String ip, int port) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (true) {
      try {
        get(ip, port);
        return;
      } catch (IOException e) {
        if (System.currentTimeMillis() > deadline) throw e;
        Thread.sleep(100);
      }
    }
  }

  static <T> T on(Context ctx, Supplier<Future<T>> action) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    ctx.runOnContext(v -> action.get().onComplete(ar -> {
      if (ar.succeeded()) f.complete(ar.result());
      else f.completeExceptionally(ar.cause());
    }));
    return f.get(30, TimeUnit.SECONDS);
  }

  static long ms(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  static String sh(String command) throws IOException {
    return Exec.run(List.of("sh", "-c", command));
  }

  static void quiet(String command) {
    try {
      sh(command + " 2>/dev/null");
    } catch (IOException ignored) {
      // not there
    }
  }
}
