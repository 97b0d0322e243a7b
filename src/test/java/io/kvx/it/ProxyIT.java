package io.kvx.it;

import io.kvx.node.Exec;
import io.kvx.proxy.Proxier;
import io.kvx.proxy.ProxyModes;
import io.kvx.proxy.ProxyOptions;
import io.kvx.proxy.ipvs.IpvsMode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
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
 * server; EndpointSlices as the endpoints controller writes them): three backend namespaces kvxq-b1..3
 * on bridge kvxq0 run busybox httpd on 8080 and a UDP echo on 7777, each answering its own name; a
 * client namespace kvxq-c plays a pod. The service has two ports, TCP 80 (targetPort by name) and UDP
 * 5353, both with node ports. Per mode, for TCP and UDP: balance over 1,000 host requests, ClientIP
 * affinity (and its timeout), a backend going not-ready drains within a second, pod, hairpin and
 * node-port traffic, and nothing left after deletion and stop. ipvs is skipped, with the kernel's
 * reason printed, where the kernel has no IP_VS. Everything it creates is named kvxq* (addresses in
 * 10.75.0.0/16) and removed in {@link #tearDown}.
 */
@EnabledIfSystemProperty(named = "user.name", matches = "root")
class ProxyIT {

  static final String BRIDGE = "kvxq0";
  static final String NET = "10.75.1.";
  static final String CLUSTER_IP = "10.75.200.10";
  static final String SERVICE_CIDR = "10.75.200.0/24";
  static final int NODE_PORT = 31775;
  static final int UDP_PORT = 5353;
  static final int UDP_TARGET = 7777;
  static final int UDP_NODE_PORT = 31776;
  static final String TABLE = "kvxqit";
  static final String DEVICE = "kvxq-svc0";
  static final List<String> BACKENDS = List.of("kvxq-b1", "kvxq-b2", "kvxq-b3");
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
      www = Files.createTempDirectory("kvxq-www");
      for (int i = 0; i < BACKENDS.size(); i++) {
        String ns = BACKENDS.get(i);
        pod(ns, "kvxqv" + (i + 1), NET + (11 + i));
        Path dir = Files.createDirectories(www.resolve(ns));
        Files.writeString(dir.resolve("index.html"), ns + "\n");
        servers.add(new ProcessBuilder("ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", "8080", "-h",
            dir.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        // UDP: a tiny echo that answers every datagram with the backend's name (busybox nc has no -u)
        servers.add(new ProcessBuilder("ip", "netns", "exec", ns, "perl", "-MIO::Socket::INET", "-e",
            "$s=IO::Socket::INET->new(LocalAddr=>'0.0.0.0',LocalPort=>" + UDP_TARGET + ",Proto=>'udp') or die $!;"
                + " while(defined $s->recv($m,2048)){ $s->send('" + ns + "') }")
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
      }
      pod("kvxq-c", "kvxqvc", NET + "20");
      for (int i = 0; i < BACKENDS.size(); i++) {
        awaitHttp(NET + (11 + i), 8080);
        udp(NET + (11 + i), UDP_TARGET);
      }
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
    for (String ns : List.of("kvxq-b1", "kvxq-b2", "kvxq-b3", "kvxq-c")) quiet("ip netns del " + ns);
    quiet("ip link del " + BRIDGE);
    quiet("ip route del unreachable " + SERVICE_CIDR + " metric 9999");
    quiet("ip link del " + DEVICE);
    quiet("nft delete table ip " + TABLE);
    if (www != null) quiet("rm -rf " + www);
  }

  @ParameterizedTest
  @ValueSource(strings = {"nftables", "userspace", "ipvs"})
  void balancesSticksDrainsAndLeavesNothing(String mode) throws Exception {
    if (mode.equals("ipvs")) {
      String missing = IpvsMode.probe();
      System.out.printf("[ipvs] %s%n", missing == null ? "kernel has IP_VS" : "skipped: kernel has no IP_VS (" + missing + ")");
      if (missing != null) {
        ProxyOptions asked = new ProxyOptions();
        asked.mode = "ipvs";
        assertEquals("nftables", ProxyModes.create(null, asked).name(), "without IP_VS, ipvs falls back to nftables");
      }
      Assumptions.assumeTrue(missing == null, "kernel has no IP_VS: " + missing);
    }
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
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Proxier proxier = new Proxier(vertx, o, ProxyModes.create(vertx, o), meters);
    boolean stopped = false;
    try {
      on(ctx, proxier::start);
      System.out.printf("[%s] transport %s%n", mode, vertx.isNativeTransportEnabled() ? "native epoll" : "NIO");
      long t0 = System.nanoTime();
      on(ctx, () -> {
        proxier.onService("default/web", service(0));
        proxier.onEndpointSlice("default/web-abc", slice(BACKENDS, List.of()));
        return proxier.synced();
      });
      System.out.printf("[%s] service programmed in %d ms%n", mode, ms(t0));
      // kube-proxy's metrics: every sync timed, and the time from a change reaching the proxy to its rules.
      assertTrue(meters.get("kubeproxy_sync_proxy_rules_duration_seconds").tag("mode", mode).timer().count() >= 1);
      io.micrometer.core.instrument.Timer programming = meters.get("kubeproxy_network_programming_duration_seconds")
          .tag("mode", mode).timer();
      assertTrue(programming.count() >= 1 && programming.max(TimeUnit.SECONDS) < 10, "network programming latency");

      for (boolean udp : List.of(false, true)) {
        String proto = udp ? "udp" : "tcp";
        long t1 = System.nanoTime();
        Map<String, Integer> hits = requests(udp, 1000);
        System.out.printf("[%s] 1000 %s host requests in %d ms: %s%n", mode, proto, ms(t1), hits);
        assertEquals(BACKENDS, List.copyOf(hits.keySet()), proto + ": every backend answers");
        for (int n : hits.values()) {
          assertTrue(Math.abs(n - 1000 / 3.0) <= 0.2 * 1000 / 3.0, proto + " within ±20%: " + hits);
        }
      }

      on(ctx, () -> {
        proxier.onService("default/web", service(60));
        return proxier.synced();
      });
      for (boolean udp : List.of(false, true)) {
        Map<String, Integer> sticky = requests(udp, 50);
        System.out.printf("[%s] %s with ClientIP affinity: %s%n", mode, udp ? "udp" : "tcp", sticky);
        assertEquals(1, sticky.size(), "one backend for one client: " + sticky);
      }
      if (mode.equals("nftables")) {
        // timeoutSeconds: the client's entry in the affinity set expires after it
        on(ctx, () -> {
          proxier.onService("default/web", service(2));
          return proxier.synced();
        });
        get(CLUSTER_IP, 80);
        String during = affinitySets(sh("nft list table ip " + TABLE));
        Thread.sleep(3000);
        String after = affinitySets(sh("nft list table ip " + TABLE));
        System.out.printf("[%s] affinity sets with timeoutSeconds 2: holding the client %b, 3 s later %b%n", mode,
            during.contains("elements = {"), after.contains("elements = {"));
        assertTrue(during.contains("timeout 2s") && during.contains("elements = {"), during);
        assertFalse(after.contains("elements = {"), after);
      }

      on(ctx, () -> {
        proxier.onService("default/web", service(0));
        return proxier.synced();
      });
      long t2 = System.nanoTime();
      on(ctx, () -> {
        proxier.onEndpointSlice("default/web-abc", slice(List.of("kvxq-b1", "kvxq-b3"), List.of("kvxq-b2")));
        return proxier.synced();
      });
      long drainMs = ms(t2);
      Map<String, Integer> drained = requests(false, 300);
      Map<String, Integer> drainedUdp = requests(true, 300);
      System.out.printf("[%s] kvxq-b2 not ready: rules in %d ms, then tcp %s, udp %s%n", mode, drainMs, drained,
          drainedUdp);
      assertTrue(drainMs < 1000, "programmed within 1 s: " + drainMs);
      assertEquals(List.of("kvxq-b1", "kvxq-b3"), List.copyOf(drained.keySet()));
      assertEquals(List.of("kvxq-b1", "kvxq-b3"), List.copyOf(drainedUdp.keySet()));

      String fromPod = sh("ip netns exec kvxq-c curl -s -m 3 http://" + CLUSTER_IP + ":80/").trim();
      String hairpin = sh("ip netns exec kvxq-b1 curl -s -m 3 http://" + CLUSTER_IP + ":80/").trim();
      String nodePort = sh("ip netns exec kvxq-c curl -s -m 3 http://" + NET + "1:" + NODE_PORT + "/").trim();
      String udpFromPod = podUdp("kvxq-c", CLUSTER_IP, UDP_PORT);
      String udpNodePort = podUdp("kvxq-c", NET + "1", UDP_NODE_PORT);
      System.out.printf("[%s] pod → cluster IP: %s; backend → own service: %s; pod → node port: %s; "
          + "udp pod → cluster IP: %s; udp pod → node port: %s%n", mode, fromPod, hairpin, nodePort, udpFromPod,
          udpNodePort);
      for (String answer : List.of(fromPod, hairpin, nodePort, udpFromPod, udpNodePort)) {
        assertTrue(List.of("kvxq-b1", "kvxq-b3").contains(answer), answer);
      }
      // a true hairpin: kvxq-b1 is the only endpoint and calls its own service
      on(ctx, () -> {
        proxier.onEndpointSlice("default/web-abc", slice(List.of("kvxq-b1"), List.of()));
        return proxier.synced();
      });
      String self = sh("ip netns exec kvxq-b1 curl -s -m 3 http://" + CLUSTER_IP + ":80/").trim();
      String selfUdp = podUdp("kvxq-b1", CLUSTER_IP, UDP_PORT);
      System.out.printf("[%s] only endpoint → own service: tcp %s, udp %s%n", mode, self, selfUdp);
      assertEquals("kvxq-b1", self);
      assertEquals("kvxq-b1", selfUdp);

      on(ctx, () -> {
        proxier.onService("default/web", null);
        proxier.onEndpointSlice("default/web-abc", null);
        return proxier.synced();
      });
      if (mode.equals("nftables")) {
        String table = sh("nft list table ip " + TABLE);
        assertFalse(table.contains("default/web") || table.contains(CLUSTER_IP) || table.contains("svc-")
            || table.contains("aff-"), table);
      } else {
        assertFalse(sh("ip addr show dev " + DEVICE).contains(CLUSTER_IP), "cluster IP address removed");
      }
      assertTrue(sh("ip route get " + CLUSTER_IP).contains("dev " + DEVICE), "the service route stays");
      assertThrows(IOException.class, () -> get(CLUSTER_IP, 80), "no service, no answer");
      assertThrows(IOException.class, () -> udp(CLUSTER_IP, UDP_PORT), "no service, no udp answer");

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

  /** Two ports: http (TCP, named targetPort "web") and echo (UDP), both with node ports. */
  static JsonObject service(int affinitySeconds) {
    JsonObject spec = new JsonObject().put("clusterIP", CLUSTER_IP).put("type", "NodePort").put("ports",
        new JsonArray().add(new JsonObject().put("name", "http").put("port", 80).put("targetPort", "web")
                .put("nodePort", NODE_PORT))
            .add(new JsonObject().put("name", "echo").put("port", UDP_PORT).put("protocol", "UDP")
                .put("targetPort", UDP_TARGET).put("nodePort", UDP_NODE_PORT)));
    if (affinitySeconds > 0) {
      spec.put("sessionAffinity", "ClientIP").put("sessionAffinityConfig", new JsonObject().put("clientIP",
          new JsonObject().put("timeoutSeconds", affinitySeconds)));
    }
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", "web"))
        .put("spec", spec);
  }

  /** An EndpointSlice as the controller writes it: the named target port "web" resolved to 8080. */
  static JsonObject slice(List<String> ready, List<String> notReady) {
    JsonArray eps = new JsonArray();
    for (String n : BACKENDS) {
      if (!ready.contains(n) && !notReady.contains(n)) continue;
      boolean r = ready.contains(n);
      eps.add(new JsonObject().put("addresses", new JsonArray().add(ipOf(n))).put("conditions",
          new JsonObject().put("ready", r).put("serving", r).put("terminating", false)));
    }
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default").put("name", "web-abc")
            .put("labels", new JsonObject().put("kubernetes.io/service-name", "web")))
        .put("addressType", "IPv4").put("endpoints", eps)
        .put("ports", new JsonArray().add(new JsonObject().put("name", "http").put("port", 8080).put("protocol", "TCP"))
            .add(new JsonObject().put("name", "echo").put("port", UDP_TARGET).put("protocol", "UDP")));
  }

  static String ipOf(String backend) {
    return NET + (10 + Integer.parseInt(backend.substring(backend.length() - 1)));
  }

  /** n requests from the host, each on a fresh connection or socket (so each one is balanced anew). */
  static Map<String, Integer> requests(boolean udp, int n) throws IOException {
    Map<String, Integer> hits = new TreeMap<>();
    for (int i = 0; i < n; i++) hits.merge(udp ? udp(CLUSTER_IP, UDP_PORT) : get(CLUSTER_IP, 80), 1, Integer::sum);
    return hits;
  }

  /** The affinity sets' blocks in an {@code nft list table} output. */
  static String affinitySets(String table) {
    StringBuilder out = new StringBuilder();
    boolean in = false;
    for (String line : table.split("\n")) {
      if (line.trim().startsWith("set aff-")) in = true;
      if (in) out.append(line).append('\n');
      if (in && line.trim().equals("}")) in = false;
    }
    return out.toString();
  }

  /** One datagram from a fresh socket; the answer (the backend's name). */
  static String udp(String host, int port) throws IOException {
    try (DatagramSocket s = new DatagramSocket()) {
      s.setSoTimeout(2000);
      byte[] q = "who".getBytes(StandardCharsets.US_ASCII);
      s.send(new DatagramPacket(q, q.length, new InetSocketAddress(host, port)));
      DatagramPacket reply = new DatagramPacket(new byte[512], 512);
      s.receive(reply);
      return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII).trim();
    }
  }

  /** One datagram from inside a namespace (perl, as the echo backends). */
  static String podUdp(String ns, String host, int port) throws IOException {
    return sh("ip netns exec " + ns + " perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(PeerAddr=>\"" + host
        + "\",PeerPort=>" + port + ",Proto=>\"udp\") or die; $s->send(\"who\"); $r=\"\";"
        + " eval { local $SIG{ALRM}=sub{die}; alarm 3; $s->recv($r,512); alarm 0 }; print $r'").trim();
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
