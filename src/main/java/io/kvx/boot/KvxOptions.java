package io.kvx.boot;

import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The launcher's settings, from flags; defaults live here and nowhere else. {@link #toJson()} is
 * merged into every verticle's config.
 */
public final class KvxOptions {

  public String command = "up";
  public Path home = Path.of(System.getProperty("user.home"), ".kvx");
  public String bindHost = "127.0.0.1";
  public int apiPort = 6443;
  public String apiHost = "0.0.0.0";
  public boolean tls = true;
  /** kube-apiserver's --http2-max-streams-per-connection: 0 keeps its default of 100. */
  public int http2MaxStreams = 0;
  public int clusterPort = 5701;
  public String join;
  public String clusterName = "kvx";
  public String secret;
  public String nodeName = defaultNodeName();
  public String runtime = "auto";
  /** This node's pod CIDR; null: the controller manager allocates one from {@link #clusterCidr}. */
  public String podCidr;
  /** Pod addresses of the whole cluster (kube-controller-manager's --cluster-cidr); "" turns allocation off. */
  public String clusterCidr = "10.42.0.0/16";
  /** The size of each node's block of {@link #clusterCidr} (--node-cidr-mask-size). */
  public int nodeCidrMaskSize = 24;
  /** The node's InternalIP (kubelet's --node-ip); null: the advertised address, else the bind address. */
  public String nodeIp;
  /** The address other members reach this JVM at (Hazelcast public address, event bus public host); null: --bind. */
  public String advertiseAddress;
  public String bridge = "kvx0";
  public String proxyMode = "nftables";
  /** Where the active proxy serves /metrics and /healthz (kube-proxy's metricsBindAddress); empty: nowhere. */
  public String proxyMetricsAddress = "127.0.0.1:10249";
  /** A KubeSchedulerConfiguration YAML or a legacy Policy JSON file for the scheduler (null: defaults). */
  public String schedulerConfig;
  public List<String> roles;
  /**
   * Watch history bounds, like etcd's compaction as Kubernetes runs it (every 5 minutes) and the
   * API server's watch cache (a count): an event is kept while it is among the newest
   * {@code historyCount} and younger than {@code historyAge}.
   */
  public int historyCount = 10_000;
  public Duration historyAge = Duration.ofMinutes(5);
  /** How long an event lives after its last write (kube-apiserver's --event-ttl). */
  public Duration eventTtl = Duration.ofHours(1);
  /** The durable log: "sqlite" (the file under home) or a postgres:// URL. */
  public String datastore = "sqlite";
  public List<String> rest = new ArrayList<>();
  /** `kvx image import --tag REF` (repeatable) and `kvx image build-busybox --format oci|docker`. */
  public List<String> tags = new ArrayList<>();
  public String imageFormat = "oci";
  /** The OCI runtime binary the node drives: runc or crun (null: runc, else crun). */
  public String ociRuntime;
  /** The TCP event-bus bridge; null: the API port + 1000; 0: off. */
  public Integer eventBusPort;
  public String serviceCidr = "10.96.0.0/12";
  /** Instead of one real node agent, this many fake ones (runtime fake) named NODE-NAME-0..N-1. */
  public int fakeNodes;

  private static String defaultNodeName() {
    try {
      return InetAddress.getLocalHost().getHostName().toLowerCase();
    } catch (Exception e) {
      return "kvx-node";
    }
  }

  public static KvxOptions parse(String[] args) {
    KvxOptions o = new KvxOptions();
    String env = System.getenv("KVX_HOME");
    if (env != null && !env.isEmpty()) o.home = Path.of(env);
    String secretEnv = System.getenv("KVX_SECRET");
    if (secretEnv != null && !secretEnv.isEmpty()) o.secret = secretEnv;
    int i = 0;
    if (args.length > 0 && !args[0].startsWith("-")) o.command = args[i++];
    for (; i < args.length; i++) {
      String a = args[i];
      String v = null;
      if (a.startsWith("--") && a.contains("=")) {
        v = a.substring(a.indexOf('=') + 1);
        a = a.substring(0, a.indexOf('='));
      }
      if (!a.startsWith("--")) {
        o.rest.add(a);
        continue;
      }
      boolean flag = a.equals("--no-tls");
      if (!flag && v == null) {
        if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
        v = args[++i];
      }
      switch (a) {
        case "--home" -> o.home = Path.of(v);
        case "--bind" -> o.bindHost = v;
        case "--api-port" -> o.apiPort = number(a, v);
        case "--api-host" -> o.apiHost = v;
        case "--no-tls" -> o.tls = false;
        case "--http2-max-streams-per-connection" -> o.http2MaxStreams = number(a, v);
        case "--cluster-port" -> o.clusterPort = number(a, v);
        case "--join" -> o.join = v;
        case "--cluster-name" -> o.clusterName = v;
        case "--secret" -> o.secret = v;
        case "--node-name" -> o.nodeName = v;
        case "--runtime" -> o.runtime = v;
        case "--pod-cidr" -> o.podCidr = v.isEmpty() ? null : v;
        case "--cluster-cidr" -> o.clusterCidr = v;
        case "--node-cidr-mask-size" -> o.nodeCidrMaskSize = number(a, v);
        case "--node-ip" -> o.nodeIp = v;
        case "--advertise-address" -> o.advertiseAddress = v;
        case "--bridge" -> o.bridge = v;
        case "--proxy-mode" -> o.proxyMode = v;
        case "--proxy-metrics-address" -> o.proxyMetricsAddress = v;
        case "--scheduler-config", "--policy-config-file" -> o.schedulerConfig = Path.of(v).toAbsolutePath().toString();
        case "--eventbus-port" -> o.eventBusPort = number(a, v);
        case "--fake-nodes" -> o.fakeNodes = number(a, v);
        case "--service-cidr" -> o.serviceCidr = v;
        case "--roles" -> o.roles = List.of(v.split(","));
        case "--history-count" -> o.historyCount = number(a, v);
        case "--history-age" -> o.historyAge = duration(v);
        case "--event-ttl" -> o.eventTtl = duration(v);
        case "--datastore" -> o.datastore = v;
        case "--tag" -> o.tags.add(v);
        case "--format" -> o.imageFormat = v;
        case "--oci-runtime" -> o.ociRuntime = v;
        default -> throw new IllegalArgumentException("unknown flag " + a);
      }
    }
    return o;
  }

  private static int number(String flag, String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " needs a number, not \"" + v + "\"");
    }
  }

  /** Go-style durations as Kubernetes flags take them: 90s, 5m, 1h, 500ms. */
  public static Duration duration(String v) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(v);
    if (!m.matches()) throw new IllegalArgumentException("not a duration: " + v + " (e.g. 90s, 5m, 1h)");
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  /** The change log holds the watch history plus room for a batch in flight during a failover. */
  public int changeLogCapacity() {
    return Math.max(historyCount, 4096);
  }

  /** The address other members and nodes see for this JVM. */
  public String advertised() {
    return advertiseAddress != null ? advertiseAddress : bindHost;
  }

  public JsonObject toJson() {
    return new JsonObject().put("home", home.toString()).put("nodeName", nodeName).put("runtime", runtime)
        .put("podCidr", podCidr).put("clusterCidr", clusterCidr).put("nodeCidrMaskSize", nodeCidrMaskSize)
        .put("nodeIP", nodeIp != null ? nodeIp : advertised()).put("bridge", bridge).put("proxyMode", proxyMode)
        .put("ociRuntime", ociRuntime)
        .put("metricsBindAddress", proxyMetricsAddress).put("schedulerConfig", schedulerConfig).put("port", apiPort)
        .put("host", apiHost).put("tls", tls).put("http2MaxStreams", http2MaxStreams)
        .put("certFile", home.resolve("tls/server.crt").toString())
        .put("keyFile", home.resolve("tls/server.key").toString())
        .put("tokenFile", home.resolve("admin.token").toString())
        .put("serviceAccountKeyFile", home.resolve("tls/sa.key").toString())
        .put("serviceAccountPublicKeyFile", home.resolve("tls/sa.pub").toString())
        .put("eventBusPort", eventBusPort == null ? apiPort + 1000 : eventBusPort).put("serviceCidr", serviceCidr)
        .put("datastore", datastore).put("historyCount", historyCount).put("historyAgeMillis", historyAge.toMillis())
        .put("eventTtlMillis", eventTtl.toMillis());
  }
}
