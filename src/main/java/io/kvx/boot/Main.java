package io.kvx.boot;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.kvx.bus.Services;
import io.kvx.node.image.BusyboxImage;
import io.kvx.node.image.ImageArchive;
import io.kvx.node.image.ImageStore;
import io.kvx.store.hazelcast.HazelcastStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * kvx's entry point. {@code up} runs every role in one JVM; {@code server}/{@code node} with
 * {@code --join HOST:PORT} add JVMs; {@code image prepare-busybox} builds the local test image.
 * Builds the clustered Vert.x (Hazelcast, native epoll), then deploys the verticles its role lists
 * in verticles/roles.json, each from its own descriptor.
 */
public final class Main {

  private static final Logger LOG = Logger.getLogger(Main.class.getName());

  private Main() {
  }

  public static void main(String[] args) throws Exception {
    try (InputStream logging = Main.class.getResourceAsStream("/logging.properties")) {
      if (logging != null && System.getProperty("java.util.logging.config.file") == null) {
        java.util.logging.LogManager.getLogManager().readConfiguration(logging);
      }
    }
    KvxOptions o;
    try {
      o = KvxOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("kvx: " + e.getMessage());
      usage();
      System.exit(2);
      return;
    }
    switch (o.command) {
      case "up", "server", "node" -> {
        try {
          run(o);
        } catch (Exception | Error e) {
          System.err.println("kvx: " + o.command + " failed to start: " + (e instanceof IllegalStateException
              ? e.getMessage() : e.toString()));
          LOG.log(java.util.logging.Level.FINE, "start failure", e);
          Runtime.getRuntime().halt(1);
        }
      }
      case "image" -> image(o);
      case "help", "-h" -> usage();
      default -> {
        System.err.println("kvx: unknown command " + o.command);
        usage();
        System.exit(2);
      }
    }
  }

  private static void usage() {
    System.err.println("""
        usage: kvx up                       every role in one JVM (state in $KVX_HOME, default ~/.kvx)
               kvx server --join HOST:PORT  add a control-plane JVM
               kvx node --join HOST:PORT    add a node JVM
               kvx image import FILE|DIR [--tag REF]   import an OCI image layout (dir or tar) or a docker save tar
               kvx image ls                 local images: REPOSITORY TAG IMAGE ID SIZE
               kvx image build-busybox OUT.tar [BUSYBOX] [--format oci|docker]   the test image from busybox-static
               kvx image prepare-busybox    build and import busybox:latest from /bin/busybox
        flags: --home DIR --api-port N --cluster-port N --secret S --node-name N --runtime auto|oci|process
               --oci-runtime runc|crun
               --pod-cidr CIDR (default: allocated from --cluster-cidr) --bridge NAME --roles a,b
               --no-tls (plain HTTP/1.1; with TLS the API server offers h2 then http/1.1 by ALPN)
               --http2-max-streams-per-connection N (0 = kube-apiserver's default of 100)
               --cluster-cidr CIDR (10.42.0.0/16; "" = no allocation) --node-cidr-mask-size N (24)
               --bind ADDR (127.0.0.1) --advertise-address ADDR (what other members dial; default --bind)
               --node-ip ADDR (the node's InternalIP; default the advertised address)
               --proxy-mode nftables|ipvs|userspace --service-cidr CIDR (10.96.0.0/12)
               --proxy-metrics-address HOST:PORT (127.0.0.1:10249; "" = off): the proxy's /metrics
               --eventbus-port N (TCP event-bus bridge; default API port + 1000, 0 = off)
               --runtime fake | --fake-nodes N (KWOK-like nodes without containers, for scale tests)
        store: --datastore sqlite (default: $KVX_HOME/data/store.db) | postgres://USER:PASS@HOST:PORT/DB
               --history-count N (default 10000) --history-age DURATION (default 5m; 90s, 1h ...):
               watch history is kept while within both bounds (the change log, every watch cache);
               a watch from an older resourceVersion gets 410 Gone. The durable log keeps only the
               latest row per key and reclaims space (incremental vacuum, WAL truncation).
               --event-ttl DURATION (default 1h): events are deleted this long after their last
               write, as kube-apiserver's --event-ttl.""");
  }

  private static void image(KvxOptions o) throws IOException {
    String sub = o.rest.isEmpty() ? "" : o.rest.get(0);
    ImageStore images = new ImageStore(o.home.resolve("images"));
    try {
      switch (sub) {
        case "prepare-busybox" -> {
          Path from = Path.of(o.rest.size() > 1 ? o.rest.get(1) : "/bin/busybox");
          System.out.println("kvx: image " + images.prepareBusybox(from) + " ready");
        }
        case "build-busybox" -> {
          if (o.rest.size() < 2) throw new IllegalArgumentException("build-busybox needs an output file");
          Path from = Path.of(o.rest.size() > 2 ? o.rest.get(2) : "/bin/busybox");
          BusyboxImage.Format format = switch (o.imageFormat) {
            case "oci" -> BusyboxImage.Format.OCI;
            case "docker" -> BusyboxImage.Format.DOCKER;
            default -> throw new IllegalArgumentException("--format is oci or docker, not " + o.imageFormat);
          };
          BusyboxImage.write(from, Path.of(o.rest.get(1)), format);
          System.out.println("kvx: wrote " + BusyboxImage.REFERENCE + " to " + o.rest.get(1) + " (" + o.imageFormat + ")");
        }
        case "import" -> {
          if (o.rest.size() < 2) throw new IllegalArgumentException("import needs a file or directory");
          for (ImageArchive.Imported i : new ImageArchive(images).importFrom(Path.of(o.rest.get(1)), o.tags)) {
            System.out.println("kvx: imported " + i.id() + " (" + i.layers() + " layers, " + i.sizeBytes() + " bytes)"
                + (i.references().isEmpty() ? " untagged" : " as " + String.join(", ", i.references())));
          }
        }
        case "ls" -> images.table().forEach(System.out::println);
        default -> throw new IllegalArgumentException("unknown image command '" + sub + "'");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("kvx: " + e.getMessage());
      System.err.println("usage: kvx image import FILE|DIR [--tag REF]... | kvx image ls"
          + " | kvx image build-busybox OUT.tar [BUSYBOX] [--format oci|docker] | kvx image prepare-busybox [BUSYBOX]");
      System.exit(2);
    } catch (IOException e) {
      System.err.println("kvx: image " + sub + " failed: " + e.getMessage());
      System.exit(1);
    }
  }

  /** Starts this JVM's roles; returns once everything is deployed (the JVM then keeps running). */
  public static Vertx run(KvxOptions o) throws Exception {
    long t0 = System.nanoTime();
    Files.createDirectories(o.home);
    List<String> roles = o.roles != null ? o.roles : rolesFor(o.command);
    List<String> known = rolesFor("up");
    for (String role : roles) {
      if (!known.contains(role)) {
        throw new IllegalArgumentException("unknown role \"" + role + "\" in --roles (known: " + String.join(",", known)
            + ")");
      }
    }
    if (o.secret == null) {
      if (o.join != null) throw new IllegalArgumentException("--secret (or KVX_SECRET) is needed to join a cluster");
      o.secret = localSecret(o.home);
    }
    checkPortsFree(o, roles);
    HazelcastInstance hz = Hazelcast.newHazelcastInstance(ClusterConfig.build(o, String.join(",", roles)));
    if (o.join != null && hz.getCluster().getMembers().size() == 1) {
      // Nobody answered at the join address (or refused this secret): starting alone would be a second cluster.
      hz.shutdown();
      throw new IllegalStateException("could not join the cluster at " + o.join + ": no member answered there with "
          + "this --secret. Start the first JVM there, or leave out --join to start a new cluster");
    }
    if (roles.contains("apiserver")) Credentials.prepare(hz, o);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // The process and its JVM, as kube components export process_* and go_*: CPU, memory, threads, GC, open files.
    new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.system.UptimeMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.system.FileDescriptorMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics().bindTo(registry);
    VertxOptions vo = new VertxOptions().setPreferNativeTransport(true)
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true));
    vo.getEventBusOptions().setHost(o.bindHost).setPort(0);
    if (o.advertiseAddress != null) vo.getEventBusOptions().setClusterPublicHost(o.advertiseAddress);
    Vertx vertx = Vertx.builder().with(vo).withClusterManager(new HazelcastClusterManager(hz))
        .withMetrics(new MicrometerMetricsFactory(registry)).buildClustered().await();
    if (!vertx.isNativeTransportEnabled()) {
      LOG.warning("kvx: native epoll transport unavailable (" + vertx.unavailableNativeTransportCause() + ")");
    }
    HazelcastStore store = new HazelcastStore(vertx, hz, o.historyCount, o.historyAge.toMillis());
    Services.register(vertx, new Services(hz, store, registry));
    List<String> deploymentIds = new ArrayList<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(vertx, hz, store, deploymentIds), "kvx-shutdown"));
    Future<Void> chain = Future.succeededFuture();
    if (roles.contains("sequencer")) chain = chain.compose(v -> deploy(vertx, "sequencer", o, deploymentIds));
    chain = chain.compose(v -> store.start());
    for (String role : roles) {
      if (role.equals("sequencer")) continue;
      if (role.equals("node") && o.fakeNodes > 0) {
        for (int i = 0; i < o.fakeNodes; i++) {
          JsonObject fake = new JsonObject().put("nodeName", o.nodeName + "-" + i).put("runtime", "fake")
              .put("fakeCapacity", new JsonObject().put("cpu", "32").put("memory", "256Gi").put("pods", "110")
                  .put("ephemeral-storage", "1Ti"));
          chain = chain.compose(v -> deploy(vertx, role, o, deploymentIds, fake));
        }
        continue;
      }
      if (role.equals("proxy") && o.fakeNodes > 0) continue;
      chain = chain.compose(v -> deploy(vertx, role, o, deploymentIds));
    }
    chain.await();
    String where = roles.contains("apiserver") ? " API at " + Credentials.apiUrl(o) + ", kubeconfig "
        + o.home.resolve("kubeconfig") : "";
    System.out.printf("kvx: %s ready in %d ms (roles %s, cluster %s:%d, %s transport).%s%n", o.command,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), String.join(",", roles), o.bindHost,
        hz.getCluster().getLocalMember().getAddress().getPort(),
        vertx.isNativeTransportEnabled() ? "native epoll" : "NIO", where);
    return vertx;
  }

  /** The ports this JVM listens on, checked before it joins anything: one in use is a clear error, not a bind trace. */
  private static void checkPortsFree(KvxOptions o, List<String> roles) {
    List<String[]> ports = new ArrayList<>(); // (the cluster port moves up by itself when taken)
    if (roles.contains("apiserver")) {
      ports.add(new String[] {"--api-port", o.apiHost, String.valueOf(o.apiPort)});
      int bus = o.eventBusPort == null ? o.apiPort + 1000 : o.eventBusPort;
      if (bus > 0) ports.add(new String[] {"--eventbus-port", o.apiHost, String.valueOf(bus)});
    }
    for (String[] p : ports) {
      try (java.net.ServerSocket s = new java.net.ServerSocket()) {
        s.setReuseAddress(true);
        s.bind(new java.net.InetSocketAddress(p[1], Integer.parseInt(p[2])));
      } catch (java.io.IOException e) {
        throw new IllegalStateException("port " + p[2] + " on " + p[1] + " (" + p[0] + ") is in use: " + e.getMessage()
            + "; is another kvx running there?");
      }
    }
  }

  private static void shutdown(Vertx vertx, HazelcastInstance hz, HazelcastStore store, List<String> ids) {
    LOG.info("kvx: stopping");
    try {
      List<String> reversed = new ArrayList<>(ids);
      Collections.reverse(reversed);
      for (String id : reversed) {
        vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(40, TimeUnit.SECONDS);
      }
      store.stop();
      vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warning("kvx: unclean stop: " + e);
    } finally {
      hz.shutdown();
    }
  }

  private static Future<Void> deploy(Vertx vertx, String name, KvxOptions o, List<String> ids) {
    return deploy(vertx, name, o, ids, new JsonObject());
  }

  private static Future<Void> deploy(Vertx vertx, String name, KvxOptions o, List<String> ids, JsonObject extra) {
    JsonObject descriptor = descriptor(name);
    DeploymentOptions opts = new DeploymentOptions(descriptor);
    JsonObject config = o.toJson().mergeIn(descriptor.getJsonObject("config", new JsonObject()));
    // A home may tune a verticle: <home>/verticles/<name>.json's "config" (and "instances") win over the packaged one.
    Path local = o.home.resolve("verticles").resolve(name + ".json");
    int instances = descriptor.getInteger("instances", 1);
    if (Files.isRegularFile(local)) {
      try {
        JsonObject tuned = new JsonObject(Files.readString(local));
        config.mergeIn(tuned.getJsonObject("config", new JsonObject()));
        instances = tuned.getInteger("instances", instances);
      } catch (IOException | RuntimeException e) {
        return Future.failedFuture(new IllegalArgumentException("bad " + local + ": " + e.getMessage()));
      }
    }
    // 0 (or less): one instance per core, each on its own event loop.
    opts.setInstances(instances > 0 ? instances : Math.max(1, Runtime.getRuntime().availableProcessors()));
    opts.setConfig(config.mergeIn(extra));
    return vertx.deployVerticle(descriptor.getString("main"), opts).map(id -> {
      ids.add(id);
      return null;
    });
  }

  static JsonObject descriptor(String name) {
    try (InputStream in = Main.class.getResourceAsStream("/verticles/" + name + ".json")) {
      if (in == null) throw new IllegalArgumentException("no verticle descriptor verticles/" + name + ".json");
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> rolesFor(String command) {
    JsonArray list = descriptor("roles").getJsonArray(command);
    if (list == null) throw new IllegalArgumentException("no role " + command + " in verticles/roles.json");
    List<String> out = new ArrayList<>();
    list.forEach(v -> out.add((String) v));
    return out;
  }

  private static String localSecret(Path home) throws IOException {
    Path file = home.resolve("cluster.secret");
    if (Files.exists(file)) return Files.readString(file).trim();
    byte[] b = new byte[16];
    new SecureRandom().nextBytes(b);
    String secret = HexFormat.of().formatHex(b);
    Files.writeString(file, secret + "\n");
    return secret;
  }
}
