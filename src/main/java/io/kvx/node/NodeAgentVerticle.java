package io.kvx.node;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Quantities;
import io.kvx.api.Resources;
import io.kvx.bus.Services;
import io.kvx.bus.Addresses;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.node.image.ImageStore;
import io.kvx.node.network.CniNetwork;
import io.kvx.node.network.NodePodCidr;
import io.kvx.node.network.PodRouteSync;
import io.kvx.node.runtime.ContainerRuntime;
import io.kvx.node.runtime.ContainerSpec;
import io.kvx.node.runtime.FakeRuntime;
import io.kvx.node.runtime.ContainerStatus;
import io.kvx.node.runtime.OciRuntime;
import io.kvx.node.runtime.ProcessRuntime;
import io.kvx.node.runtime.StartGate;
import io.kvx.client.Informer;
import io.kvx.store.IndexedFilter;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The kubelet's job for one node: registers the Node, renews its Lease and status, watches the pods
 * bound to it and runs their containers through a {@link ContainerRuntime}, with pod networking from
 * {@link CniNetwork}; reports container states and the pod IP; serves logs, exec, attach and port-forward
 * through {@link StreamServer}. Each pod is
 * synced by one worker at a time; a relist every second notices containers that exited.
 */
public final class NodeAgentVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(NodeAgentVerticle.class.getName());

  /** What the agent knows of one container of a pod. */
  private static final class ContainerRecord {
    final String name;
    int attempt = -1;
    ContainerSpec spec;
    String startedAt;
    boolean running;
    int restartCount;
    long restartNotBefore;
    JsonObject terminated;
    JsonObject lastTerminated;
    String waitingReason = "ContainerCreating";
    String waitingMessage;
    long startedAtMs;
    /** An init container that exited 0: it never runs again in this pod. */
    boolean completed;
    /** A sidecar stopped because the pod's containers are done for good: it is not started again. */
    boolean stopped;
    /** Set when a liveness or startup probe failed: the container is killed and restarted. */
    String killReason;
    /** The image the attempt runs, as the kubelet reports it (repo digest, else the image ID). */
    String imageId = "";
    /** The host file mounted at the attempt's terminationMessagePath, and the container's message policy. */
    Path terminationLog;
    String terminationPolicy = "File";
    /**
     * A stdinOnce container's stdin FIFO held open to write until its first attach, so that the container starts at
     * once (as with the kubelet) and reads end-of-file only when that attach's input ends; null when not held.
     */
    final java.util.concurrent.atomic.AtomicReference<java.nio.channels.FileChannel> stdinHolder =
        new java.util.concurrent.atomic.AtomicReference<>();

    /** Lets go of the held stdin (the first attach has its own writer, or the container ended). */
    void releaseStdin() {
      java.nio.channels.FileChannel held = stdinHolder.getAndSet(null);
      if (held == null) return;
      try {
        held.close();
      } catch (IOException e) {
        LOG.fine("closing a held stdin: " + e);
      }
    }

    ContainerRecord(String name) {
      this.name = name;
    }
  }

  /** What the agent knows of one pod. */
  private static final class PodRecord {
    JsonObject pod;
    /** The Services' environment (ServiceLinks), fetched once with the pod's first inputs. */
    List<String> serviceLinks;
    final String uid;
    String ip;
    String startTime;
    boolean removed;
    /** Its containers were stopped for the pod's deletion: the status reports a terminal phase. */
    boolean killed;
    boolean syncing;
    boolean dirty;
    String lastReported;
    /** How long the pod's network took to set up (for the start log line). */
    long sandboxMillis;
    /**
     * The pod's CNI ADD while its first container is being created (see converge); done, and null
     * again, before the converge that started it ends.
     */
    java.util.concurrent.CompletableFuture<String> pendingNetwork;
    long networkStartNanos;
    /** Start gates of containers that were slow to start, closed when the pod ends. */
    final List<StartGate> openGates = new ArrayList<>();
    PodVolumes.Inputs inputs;
    Map<String, Path> volumes;
    /** A refresh of the volumes is under way (see refreshVolumes). */
    boolean refreshingVolumes;
    /** Init containers: all completed (app containers may start); failed for good (restartPolicy Never). */
    boolean initialized;
    boolean initFailed;
    /**
     * The pod had already ended (Succeeded or Failed) when this agent first saw it, e.g. after a restart:
     * a terminal pod never runs again, as with the kubelet; only its deletion is acted on.
     */
    final boolean endedBefore;
    final Map<String, ContainerRecord> containers = new LinkedHashMap<>();

    PodRecord(JsonObject pod) {
      this.pod = pod;
      this.uid = Meta.uid(pod);
      String phase = pod.getJsonObject("status", new JsonObject()).getString("phase", "");
      this.endedBefore = phase.equals("Succeeded") || phase.equals("Failed");
    }
  }

  private final Map<String, PodRecord> pods = new HashMap<>();
  /** CNI chains running beside container creation (blocking process I/O, off the worker pool it waits from). */
  private final java.util.concurrent.ExecutorService cniThreads =
      java.util.concurrent.Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("kvx-cni-", 0).factory());
  private static final int FAKE_RESYNC_MS = 60_000;
  private long relists;

  /** Reported, every container of the spec running, nothing pending: nothing for a relist to do. */
  private static boolean steady(PodRecord r) {
    if (r.lastReported == null || r.removed || r.syncing || r.dirty || !r.initialized && hasInit(r)) return false;
    if (Meta.meta(r.pod).containsKey("deletionTimestamp")) return false;
    JsonArray containers = r.pod.getJsonObject("spec").getJsonArray("containers", new JsonArray());
    for (int i = 0; i < containers.size(); i++) {
      ContainerRecord cr = r.containers.get(containers.getJsonObject(i).getString("name"));
      if (cr == null || !cr.running || cr.killReason != null) return false;
    }
    for (Object o : r.pod.getJsonObject("spec").getJsonArray("ephemeralContainers", new JsonArray())) {
      ContainerRecord cr = r.containers.get(((JsonObject) o).getString("name"));
      if (cr == null || cr.running) return false;
    }
    return true;
  }

  private static boolean hasInit(PodRecord r) {
    JsonArray init = r.pod.getJsonObject("spec").getJsonArray("initContainers");
    return init != null && !init.isEmpty();
  }
  private String nodeName;
  private Path podsDir;
  private Path logsDir;
  private Path claimsDir;
  /** Same as io.kvx.controller.volume.VolumeBinder.LOCAL_PATH_DIR. */
  static final String LOCAL_PATH_DIR = "kvx.io/local-path-dir";
  private Prober prober;
  private final NodeStats stats = new NodeStats("/kvx");
  private EventRecorder events;
  private String kubernetesServiceHost;
  private ApiClient client;
  private ContainerRuntime runtime;
  private CniNetwork network;
  private PodRouteSync routes;
  private ImageStore images;
  private final ImagePulls pulls = new ImagePulls();
  private NodePressure pressure;
  private Informer podWatch;
  private Informer volumeWatch;
  private String nodeIp;
  private final long[] timers = new long[5];

  @Override
  public Future<?> start() {
    JsonObject cfg = config();
    nodeName = cfg.getString("nodeName");
    nodeIp = cfg.getString("nodeIP", "127.0.0.1");
    Path home = Path.of(cfg.getString("home"));
    Path nodeDir = home.resolve("node").resolve(nodeName);
    podsDir = nodeDir.resolve("pods");
    logsDir = nodeDir.resolve("logs");
    claimsDir = nodeDir.resolve("claims");
    kubernetesServiceHost = cfg.getString("kubernetesServiceHost", "10.96.0.1");
    images = new ImageStore(home.resolve("images"));
    pressure = new NodePressure(cfg.getJsonObject("evictionHard"),
        io.kvx.boot.KvxOptions.duration(cfg.getString("evictionPressureTransitionPeriod", "5m")).toMillis());
    client = new ApiClient(vertx, Services.of(vertx).store());
    events = new EventRecorder(client, "kubelet", nodeName);
    Path cniBin = Path.of(cfg.getString("cniBinDir", "/usr/lib/cni"));
    boolean[] cni = {false};
    return vertx.executeBlocking(() -> {
      runtime = pickRuntime(cfg.getString("runtime", "auto"), cfg.getString("ociRuntime"), nodeDir.resolve("runc"));
      prober = new Prober(vertx, runtime, this::onProbeChange);
      cni[0] = runtime.isolated() && CniNetwork.available(cniBin);
      Files.createDirectories(podsDir);
      Files.createDirectories(logsDir);
      return null;
    }).compose(v -> register())
        .compose(v -> cni[0] ? startPodNetwork(cniBin, nodeDir) : Future.succeededFuture())
        .compose(v -> {
          vertx.eventBus().<JsonObject>consumer(Addresses.nodeStats(nodeName), this::onStatsRequest);
          return new StreamServer(vertx, nodeName, runtime, this::streamTarget).register();
        })
        .compose(v -> {
          return client.watch(Resources.PODS, new IndexedFilter("spec.nodeName", nodeName, null), this::onPod);
        })
        .onSuccess(w -> {
          podWatch = w;
          client.watch(Resources.builtIn("", "persistentvolumes"), this::provisionedHere, this::onVolume)
              .onSuccess(v -> volumeWatch = v);
          timers[0] = vertx.setPeriodic(cfg.getInteger("heartbeatSeconds", 10) * 1000L, t -> renewLease());
          timers[1] = vertx.setPeriodic(cfg.getInteger("statusSeconds", 10) * 1000L, t -> reportNodeStatus("True",
              "KubeletReady", "kubelet is posting ready status"));
          int relistMillis = cfg.getInteger("relistMillis", 1000);
          timers[2] = vertx.setPeriodic(relistMillis, t -> {
            // Fake containers change only when this agent signals them: a steady pod is synced on its
            // own events and every FAKE_RESYNC_MS (the kubelet's syncFrequency), not every relist.
            boolean all = !(runtime instanceof FakeRuntime) || ++relists % Math.max(1, FAKE_RESYNC_MS / relistMillis) == 0;
            for (PodRecord r : pods.values()) {
              if (all || !steady(r)) sync(r);
            }
            pods.values().forEach(this::probe);
          });
          timers[3] = vertx.setPeriodic(cfg.getInteger("logRotateSeconds", 10) * 1000L, t -> rotateLogs());
          timers[4] = vertx.setPeriodic(cfg.getInteger("volumeRefreshSeconds", 10) * 1000L, t -> refreshVolumes());
          renewLease();
          LOG.info("node " + nodeName + ": ready, runtime " + runtime.version()
              + (network != null ? ", CNI bridge " + network.bridge() + " " + network.podCidr()
              : ", no pod network (pods use the node's IP)"));
        });
  }

  private static ContainerRuntime pickRuntime(String wanted, String ociBinary, Path runcState) {
    if (wanted.equals("fake")) return new FakeRuntime();
    OciRuntime oci = wanted.equals("process") ? null : OciRuntime.detect(runcState, ociBinary);
    if (oci != null) {
      if (oci.hidesUnifiedCgroup()) {
        LOG.info("node: crun runs in a private mount namespace without /sys/fs/cgroup/unified "
            + "(hybrid cgroups, which crun refuses)");
      }
      return oci;
    }
    if (wanted.equals("oci") || ociBinary != null) {
      throw new IllegalStateException("runtime oci needs root and " + (ociBinary == null ? "runc" : ociBinary)
          + " on the PATH");
    }
    LOG.warning("node: using the PROCESS runtime: containers run as plain processes with NO isolation "
        + "(no namespaces, no cgroup limits, the host's file system). Run as root with runc for real containers.");
    return new ProcessRuntime();
  }

  @Override
  public Future<?> stop() {
    for (long t : timers) vertx.cancelTimer(t);
    if (podWatch != null) podWatch.stop();
    if (volumeWatch != null) volumeWatch.stop();
    List<PodRecord> all = new ArrayList<>(pods.values());
    return vertx.executeBlocking(() -> {
      // All pods at once: one at a time, 100 pods whose PID 1 ignores SIGTERM would take 500 s.
      List<Thread> killers = new ArrayList<>();
      for (PodRecord r : all) {
        killers.add(Thread.ofVirtual().start(() -> {
          try {
            killPod(r, 5);
          } catch (IOException e) {
            LOG.warning("node " + nodeName + ": stopping " + Meta.name(r.pod) + ": " + e.getMessage());
          }
        }));
      }
      for (Thread t : killers) t.join();
      cniThreads.shutdown();
      if (network != null) network.close();
      return null;
    }).compose(v -> routes != null ? routes.stop() : Future.succeededFuture()).compose(v -> reportNodeStatus("Unknown", "NodeStatusUnknown", "the kvx node agent stopped"))
        .recover(e -> Future.succeededFuture());
  }

  // ---- pod network: podCIDR, CNI, routes to the other nodes ----

  /** A node that brings its own --pod-cidr registers it; otherwise the controller manager assigns one. */
  private static JsonObject podCidrSpec(String podCidr) {
    return podCidr == null || podCidr.isEmpty() ? new JsonObject()
        : new JsonObject().put("podCIDR", podCidr).put("podCIDRs", new JsonArray().add(podCidr));
  }

  /**
   * Waits for the Node's podCIDR (the kubelet does the same), configures CNI host-local from it and
   * starts keeping routes to the other nodes' pod CIDRs through their InternalIPs.
   */
  private Future<Void> startPodNetwork(Path cniBin, Path nodeDir) {
    JsonObject cfg = config();
    return NodePodCidr.await(vertx, client, nodeName, 10_000).compose(cidr -> vertx.<Void>executeBlocking(() -> {
      network = new CniNetwork(cfg.getString("bridge"), cidr, cniBin, nodeDir.resolve("cni"));
      return null;
    })).compose(v -> {
      if (!cfg.getBoolean("podRoutes", true)) return Future.succeededFuture();
      routes = new PodRouteSync(vertx, client, nodeName, nodeIp, nodeDir.resolve("routes.json"),
          cfg.getLong("routeRepairMillis", 30_000L));
      return routes.start();
    });
  }

  // ---- node registration and heartbeats ----

  private Future<Void> register() {
    JsonObject node = new JsonObject().put("apiVersion", "v1").put("kind", "Node")
        .put("metadata", new JsonObject().put("name", nodeName).put("labels", new JsonObject()
            .put("kubernetes.io/hostname", nodeName).put("kubernetes.io/os", "linux")
            .put("kubernetes.io/arch", "amd64").put("beta.kubernetes.io/os", "linux")
            .put("beta.kubernetes.io/arch", "amd64")))
        .put("spec", podCidrSpec(config().getString("podCidr")));
    // Where the kvx.io/local-path provisioner puts this node's volumes (the volume binder reads it).
    JsonObject annotations = new JsonObject().put(LOCAL_PATH_DIR, claimsDir.toAbsolutePath().toString());
    node.getJsonObject("metadata").put("annotations", annotations);
    return client.create(Resources.NODES, null, node).recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists)
        ? client.mergePatch(Resources.NODES, null, nodeName, null, new JsonObject().put("metadata",
            new JsonObject().put("annotations", annotations))) : Future.failedFuture(e))
        .compose(v -> firstStatus(5))
        .onSuccess(v -> client.get(Resources.NODES, null, nodeName)
            .onSuccess(n -> events.normal(n, "Starting", "Starting kubelet.")));
  }

  /** The first status report races with the node IPAM's write of spec.podCIDR: a conflict is retried. */
  private Future<Void> firstStatus(int attemptsLeft) {
    return reportNodeStatus("True", "KubeletReady", "kubelet is posting ready status").recover(e -> {
      if (attemptsLeft <= 1 || !ApiError.is(e, ApiError.Reason.Conflict)) return Future.failedFuture(e);
      return vertx.timer(200).compose(t -> firstStatus(attemptsLeft - 1));
    });
  }

  /**
   * The kubelet's node status loop: every statusSeconds it builds the status, and patches it only when
   * it differs from the Node's (heartbeat times aside) or statusReportSeconds (5 minutes, Kubernetes'
   * nodeStatusReportFrequency) have passed since the last report; liveness is the Lease's job.
   * lastTransitionTime moves only when a condition's status changes.
   */
  private Future<Void> reportNodeStatus(String ready, String reason, String message) {
    Future<JsonObject> current = client.get(Resources.NODES, null, nodeName)
        .recover(e -> Future.succeededFuture(new JsonObject()));
    return vertx.executeBlocking(this::machineStatus).compose(status -> current.compose(node -> {
      String now = Meta.now();
      JsonObject old = node.getJsonObject("status", new JsonObject());
      JsonArray oldConditions = old.getJsonArray("conditions", new JsonArray());
      JsonArray conditions = new JsonArray();
      Map<String, Boolean> pressure = status.getJsonObject("pressure").getMap().entrySet().stream()
          .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> (Boolean) e.getValue(), (a, b) -> a,
              LinkedHashMap::new));
      status.remove("pressure");
      pressure.forEach((type, on) -> {
        String[] rm = NodePressure.reasonAndMessage(type, on);
        conditions.add(cond(type, on ? "True" : "False", rm[0], rm[1], now, oldConditions));
      });
      conditions.add(cond("Ready", ready, reason, message, now, oldConditions));
      status.put("conditions", conditions);
      long nowMs = System.currentTimeMillis();
      long reportMs = config().getInteger("statusReportSeconds", 300) * 1000L;
      if (nowMs - lastStatusReport < reportMs && !statusChanged(status, old)) return Future.<Void>succeededFuture();
      return client.mergePatch(Resources.NODES, null, nodeName, "status", new JsonObject().put("status", status))
          .onSuccess(x -> {
            lastStatusReport = nowMs;
            for (String what : statusEvents(conditions, oldConditions)) {
              events.normal(x, what, "Node " + nodeName + " status is now: " + what);
            }
          }).<Void>mapEmpty();
    }));
  }

  private long lastStatusReport;

  /**
   * The kubelet's node events for conditions whose status changed (or are new): NodeHasSufficientMemory,
   * NodeHasDiskPressure, ..., NodeReady / NodeNotReady. Pure.
   */
  static List<String> statusEvents(JsonArray conditions, JsonArray old) {
    List<String> out = new ArrayList<>();
    for (Object o : conditions) {
      JsonObject c = (JsonObject) o;
      String before = null;
      for (Object p : old) {
        if (p instanceof JsonObject oc && c.getString("type").equals(oc.getString("type"))) before = oc.getString("status");
      }
      if (c.getString("status").equals(before)) continue;
      if (c.getString("type").equals("Ready")) {
        out.add(c.getString("status").equals("True") ? "NodeReady" : "NodeNotReady");
      } else {
        out.add(c.getString("reason", "").replaceFirst("^Kubelet", "Node"));
      }
    }
    return out;
  }

  /** Whether the fields this agent reports differ from the Node's, heartbeat times aside. */
  static boolean statusChanged(JsonObject status, JsonObject old) {
    for (String field : status.fieldNames()) {
      Object now = status.getValue(field);
      Object before = old.getValue(field);
      if (field.equals("conditions")) {
        now = withoutHeartbeats((JsonArray) now);
        before = before instanceof JsonArray a ? withoutHeartbeats(a) : before;
      }
      if (!java.util.Objects.equals(now, before)) return true;
    }
    return false;
  }

  private static JsonArray withoutHeartbeats(JsonArray conditions) {
    JsonArray out = new JsonArray();
    for (Object o : conditions) {
      if (o instanceof JsonObject c) {
        JsonObject copy = c.copy();
        copy.remove("lastHeartbeatTime");
        out.add(copy);
      } else {
        out.add(o);
      }
    }
    return out;
  }

  private static JsonObject cond(String type, String status, String reason, String message, String now,
                                 JsonArray old) {
    String transition = now;
    for (Object o : old) {
      if (o instanceof JsonObject c && type.equals(c.getString("type")) && status.equals(c.getString("status"))
          && c.getString("lastTransitionTime") != null) {
        transition = c.getString("lastTransitionTime");
      }
    }
    return new JsonObject().put("type", type).put("status", status).put("reason", reason).put("message", message)
        .put("lastHeartbeatTime", now).put("lastTransitionTime", transition);
  }

  /**
   * Blocking: capacity (cgroup-aware: the memory limit of the cgroup this JVM runs in, if lower than the
   * machine's), allocatable (capacity minus reserved minus the hard eviction thresholds), the pressure
   * conditions from measured eviction signals, node info and images.
   */
  /** The node's allocatable resources as last reported (the downward API's default for unset limits). */
  private volatile JsonObject allocatable;

  private JsonObject machineStatus() throws IOException {
    NodeMeasurements.Machine m = NodeMeasurements.measure(podsDir, images.root());
    JsonObject reserved = config().getJsonObject("systemReserved", new JsonObject());
    long memReserved = Quantities.bytes(str(reserved, "memory")) + pressure.threshold("memory.available", m.signals().memoryCapacity());
    long diskReserved = Quantities.bytes(str(reserved, "ephemeral-storage"))
        + pressure.threshold("nodefs.available", m.signals().nodefsCapacity());
    long cpuMillis = m.cpus() * 1000L - Quantities.milli(str(reserved, "cpu"));
    JsonObject capacity = new JsonObject().put("cpu", String.valueOf(m.cpus()))
        .put("memory", (m.signals().memoryCapacity() / 1024) + "Ki").put("pods", "110")
        .put("ephemeral-storage", (m.signals().nodefsCapacity() / 1024) + "Ki");
    JsonObject allocatable = new JsonObject().put("cpu", cpuMillis % 1000 == 0 ? String.valueOf(cpuMillis / 1000) : cpuMillis + "m")
        .put("memory", (Math.max(0, m.signals().memoryCapacity() - memReserved) / 1024) + "Ki").put("pods", "110")
        .put("ephemeral-storage", (Math.max(0, m.signals().nodefsCapacity() - diskReserved) / 1024) + "Ki");
    Map<String, Boolean> conditions = pressure.conditions(m.signals(), System.currentTimeMillis());
    // Fake nodes advertise what the configuration says, not this machine, and no pressure.
    JsonObject fake = config().getJsonObject("fakeCapacity");
    if (runtime instanceof FakeRuntime && fake != null) {
      capacity = fake.copy();
      allocatable = fake.copy();
      conditions.replaceAll((k, v) -> false);
    }
    JsonArray imageList = new JsonArray();
    for (ImageStore.Image img : images.list()) {
      imageList.add(new JsonObject().put("names", new JsonArray(new ArrayList<>(img.names()))).put("sizeBytes", img.sizeBytes()));
    }
    this.allocatable = allocatable;
    return new JsonObject().put("capacity", capacity).put("allocatable", allocatable)
        .put("pressure", new JsonObject(new LinkedHashMap<>(conditions)))
        .put("addresses", new JsonArray().add(new JsonObject().put("type", "InternalIP").put("address", nodeIp))
            .add(new JsonObject().put("type", "Hostname").put("address", nodeName)))
        .put("daemonEndpoints", new JsonObject().put("kubeletEndpoint", new JsonObject().put("Port", 0)))
        .put("nodeInfo", nodeInfo().copy())
        .put("images", imageList);
  }

  private JsonObject nodeInfo;

  /** Blocking, once: what does not change while the agent runs (kernel, OS, machine and boot ids). */
  private JsonObject nodeInfo() throws IOException {
    if (nodeInfo != null) return nodeInfo;
    String os = "Linux";
    Path osRelease = Path.of("/etc/os-release");
    if (Files.exists(osRelease)) {
      for (String line : Files.readAllLines(osRelease)) {
        if (line.startsWith("PRETTY_NAME=")) os = line.substring(12).replace("\"", "");
      }
    }
    nodeInfo = new JsonObject().put("machineID", firstLine("/etc/machine-id"))
        .put("systemUUID", firstLine("/sys/class/dmi/id/product_uuid").toLowerCase(java.util.Locale.ROOT))
        .put("bootID", firstLine("/proc/sys/kernel/random/boot_id"))
        .put("kernelVersion", firstLine("/proc/sys/kernel/osrelease")).put("osImage", os)
        .put("containerRuntimeVersion", runtime.version())
        .put("kubeletVersion", io.kvx.apiserver.Discovery.KUBERNETES_VERSION + "+kvx")
        .put("kubeProxyVersion", "").put("operatingSystem", "linux").put("architecture", "amd64");
    return nodeInfo;
  }

  /** A file's first line as the kubelet reports machine and boot ids, "" when it cannot be read. */
  private static String firstLine(String file) {
    try {
      List<String> lines = Files.readAllLines(Path.of(file));
      return lines.isEmpty() ? "" : lines.get(0).trim();
    } catch (IOException e) {
      return "";
    }
  }

  private void renewLease() {
    String now = Meta.nowMicro();
    JsonObject spec = new JsonObject().put("holderIdentity", nodeName).put("leaseDurationSeconds", 40)
        .put("renewTime", now);
    client.mergePatch(Resources.LEASES, "kube-node-lease", nodeName, null, new JsonObject().put("spec", spec))
        .recover(e -> {
          if (!ApiError.is(e, ApiError.Reason.NotFound)) return Future.failedFuture(e);
          JsonObject lease = new JsonObject().put("metadata", new JsonObject().put("name", nodeName)
              .put("namespace", "kube-node-lease")).put("spec", spec.copy().put("acquireTime", now));
          return client.create(Resources.LEASES, "kube-node-lease", lease);
        }).onFailure(e -> LOG.fine("node " + nodeName + ": lease renewal failed: " + e.getMessage()));
  }

  // ---- pods ----

  private void onPod(WatchEvent ev) {
    JsonObject pod = ev.object();
    String uid = Meta.uid(pod);
    PodRecord r = pods.get(uid);
    if (ev.type().equals(WatchEvent.DELETED)) {
      if (r != null) {
        r.removed = true;
        sync(r);
      }
      return;
    }
    if (r == null) {
      r = new PodRecord(pod);
      pods.put(uid, r);
      LOG.info("node " + nodeName + ": pod " + Meta.namespace(pod) + "/" + Meta.name(pod) + " assigned");
    }
    r.pod = pod;
    sync(r);
  }

  /** Runs one sync of a pod unless one is running; a request during a sync runs once more after it. */
  private void sync(PodRecord r) {
    if (r.syncing) {
      r.dirty = true;
      return;
    }
    r.syncing = true;
    r.dirty = false;
    boolean terminating = r.removed || Meta.meta(r.pod).containsKey("deletionTimestamp");
    if (r.endedBefore && !terminating) {
      r.syncing = false;
      return;
    }
    // Unordered: one pod's slow work (a 30 s grace period) must not hold up every other pod.
    Future<Void> work = terminating ? terminate(r) : fetchInputs(r).compose(x -> vertx.<Void>executeBlocking(() -> {
      converge(r);
      return null;
    }, false)).compose(v -> report(r));
    work.onComplete(ar -> {
      if (ar.failed()) LOG.warning("node " + nodeName + ": sync of " + Meta.name(r.pod) + " failed: " + ar.cause());
      r.syncing = false;
      if (r.dirty && pods.containsKey(r.uid)) sync(r);
    });
  }

  /**
   * What containers need from the API before they can start: the ConfigMaps and Secrets the pod
   * refers to and a ServiceAccount token. Fetched again only while some container is not running.
   */
  private Future<Void> fetchInputs(PodRecord r) {
    boolean allRunning = !r.containers.isEmpty() && r.containers.values().stream().allMatch(c -> c.running);
    if (r.inputs != null && allRunning) return Future.succeededFuture();
    return fetchInputsNow(r);
  }

  /**
   * As the kubelet's periodic sync: the configMap, secret, downwardAPI and projected volumes of running pods follow
   * their sources (fetched again; a volume is rewritten, atomically, only when its files changed).
   */
  private void refreshVolumes() {
    for (PodRecord r : pods.values()) {
      if (r.volumes == null || r.inputs == null || r.refreshingVolumes || Meta.meta(r.pod).containsKey("deletionTimestamp")
          || !PodVolumes.hasPayloadVolumes(r.pod)) {
        continue;
      }
      r.refreshingVolumes = true;
      fetchInputsNow(r).compose(v -> vertx.<Void>executeBlocking(() -> {
        if (PodVolumes.refresh(r.pod, r.volumes, r.inputs, path -> fieldValue(r, path))) {
          ImageUsers.applyFsGroup(r.pod, r.volumes);
        }
        return null;
      })).onComplete(ar -> {
        r.refreshingVolumes = false;
        if (ar.failed()) LOG.fine("node " + nodeName + ": volumes of " + Meta.name(r.pod) + " not refreshed: " + ar.cause());
      });
    }
  }

  private Future<Void> fetchInputsNow(PodRecord r) {
    String ns = Meta.namespace(r.pod);
    Map<String, JsonObject> cms = new java.util.concurrent.ConcurrentHashMap<>();
    Map<String, JsonObject> secrets = new java.util.concurrent.ConcurrentHashMap<>();
    List<Future<?>> gets = new ArrayList<>();
    for (String n : PodVolumes.referenced(r.pod, "configmaps")) {
      gets.add(client.get(Resources.builtIn("", "configmaps"), ns, n).onSuccess(o -> cms.put(n, o)));
    }
    for (String n : PodVolumes.referenced(r.pod, "secrets")) {
      gets.add(client.get(Resources.builtIn("", "secrets"), ns, n).onSuccess(o -> secrets.put(n, o)));
    }
    Map<String, String> claimPaths = new java.util.concurrent.ConcurrentHashMap<>();
    for (String n : PodVolumes.claims(r.pod)) {
      gets.add(client.get(Resources.builtIn("", "persistentvolumeclaims"), ns, n).compose(pvc -> {
        String volume = pvc.getJsonObject("spec", new JsonObject()).getString("volumeName", "");
        if (volume.isEmpty()) return Future.succeededFuture();
        return client.get(Resources.builtIn("", "persistentvolumes"), null, volume).onSuccess(pv -> {
          String path = PodVolumes.claimPath(pvc, pv);
          if (path != null) claimPaths.put(n, path);
        });
      }));
    }
    Map<String, String> podTokens = new java.util.concurrent.ConcurrentHashMap<>();
    String sa = r.pod.getJsonObject("spec").getString("serviceAccountName", "default");
    for (String audience : PodVolumes.tokenAudiences(r.pod)) {
      String had = r.inputs == null ? null : r.inputs.tokens().get(audience);
      if (had != null) {
        podTokens.put(audience, had);
        continue;
      }
      // As the kubelet's token manager: a token (not bound to a pod) is reused for the account's pods
      // until 80% of its lifetime has passed.
      String cacheKey = ns + "/" + sa + "/" + audience;
      CachedToken cached = tokens.get(cacheKey);
      long now = System.currentTimeMillis();
      if (cached != null && now < cached.refreshAtMs()) {
        podTokens.put(audience, cached.token());
        continue;
      }
      JsonObject spec = new JsonObject().put("expirationSeconds", TOKEN_SECONDS);
      if (!audience.isEmpty()) spec.put("audiences", new JsonArray().add(audience));
      gets.add(client.createSubresource(Resources.builtIn("", "serviceaccounts"), ns, sa, "token", new JsonObject()
          .put("apiVersion", "authentication.k8s.io/v1").put("kind", "TokenRequest").put("spec", spec))
          .onSuccess(t -> {
            String token = t.getJsonObject("status", new JsonObject()).getString("token");
            if (token == null) return;
            podTokens.put(audience, token);
            tokens.put(cacheKey, new CachedToken(token, now + TOKEN_SECONDS * 800L));
          }));
    }
    Map<String, JsonObject> services = new java.util.concurrent.ConcurrentHashMap<>();
    if (r.serviceLinks == null) {
      gets.add(client.get(Resources.builtIn("", "services"), "default", "kubernetes")
          .onSuccess(k -> services.put("", k)));
      if (r.pod.getJsonObject("spec").getBoolean("enableServiceLinks", true)) {
        gets.add(client.list(Resources.builtIn("", "services"), ns).onSuccess(all -> all.forEach(svc -> {
          if (!(ns.equals("default") && Meta.name(svc).equals("kubernetes"))) services.put(Meta.name(svc), svc);
        })));
      }
    }
    return Future.join(gets).transform(ar -> {
      if (r.serviceLinks == null && services.containsKey("")) {
        r.serviceLinks = ServiceLinks.env(new java.util.TreeMap<>(services).values().stream().toList());
      }
      JsonObject rootCa = cms.get("kube-root-ca.crt");
      String ca = rootCa == null ? null : rootCa.getJsonObject("data", new JsonObject()).getString("ca.crt");
      r.inputs = new PodVolumes.Inputs(cms, secrets, podTokens, ca, claimPaths, allocatable);
      return Future.succeededFuture();
    });
  }

  private static final long TOKEN_SECONDS = 86400;

  private record CachedToken(String token, long refreshAtMs) {}

  /** ServiceAccount tokens by "namespace/account/audience" ("" the API server's). */
  private final Map<String, CachedToken> tokens = new HashMap<>();

  /** Runs the due probes of a pod's running containers (non-blocking). */
  private void probe(PodRecord r) {
    if (r.removed || r.ip == null || Meta.meta(r.pod).containsKey("deletionTimestamp")) return;
    for (JsonObject c : probedContainers(r.pod.getJsonObject("spec"))) {
      ContainerRecord cr = r.containers.get(c.getString("name"));
      if (cr != null && cr.running && cr.spec != null && cr.killReason == null) {
        prober.tick(r.uid, r.ip, c, cr.spec, cr.startedAtMs);
      }
    }
  }

  /** The containers the kubelet probes: the pod's containers and its sidecars. */
  private static List<JsonObject> probedContainers(JsonObject spec) {
    List<JsonObject> probed = new ArrayList<>();
    for (Object o : spec.getJsonArray("initContainers", new JsonArray())) {
      if (o instanceof JsonObject c && isSidecar(c)) probed.add(c);
    }
    for (Object o : spec.getJsonArray("containers", new JsonArray())) probed.add((JsonObject) o);
    return probed;
  }

  /** A probe result flipped: report readiness, or kill the container a failed liveness probe condemns. */
  private void onProbeChange(String uid, String what) {
    PodRecord r = pods.get(uid);
    if (r == null) return;
    String container = what.substring(0, what.indexOf(' '));
    String change = what.substring(what.indexOf(' ') + 1);
    if (change.startsWith("failed: ")) {
      events.record(r.pod, containerFieldPath(r, container), "Warning", "Unhealthy", change.substring(8));
      return;
    }
    if (change.startsWith("kill: ")) {
      ContainerRecord cr = r.containers.get(container);
      if (cr == null || !cr.running) return;
      cr.killReason = change.substring(6);
      events.record(r.pod, containerFieldPath(r, container), "Normal", "Killing", "Container " + container + " failed " + cr.killReason.toLowerCase()
          .replace(" failed", "") + ", will be restarted");
    }
    sync(r);
  }

  /**
   * Blocking: after this agent restarted (SIGKILL, crash), takes over what an earlier run left for the
   * pod instead of starting it again: the network namespace and address, and every container attempt
   * the pod's status names that is still running (or has exited meanwhile), with its restart count.
   * True when the pod's sandbox was adopted.
   */
  private boolean adopt(PodRecord r) throws IOException {
    JsonObject status = r.pod.getJsonObject("status", new JsonObject());
    String podIp = status.getString("podIP");
    if (podIp == null || !Files.isDirectory(podsDir.resolve(r.uid))) return false;
    if (network != null && !hostNetwork(r) && !Files.exists(Path.of(CniNetwork.netnsPath(r.uid)))) return false;
    r.ip = podIp;
    r.startTime = status.getString("startTime", Meta.now());
    List<JsonObject> statuses = new ArrayList<>();
    for (String list : List.of("initContainerStatuses", "containerStatuses")) {
      for (Object o : status.getJsonArray(list, new JsonArray())) statuses.add(((JsonObject) o).put("init", list.startsWith("init")));
    }
    int adopted = 0;
    for (JsonObject cs : statuses) {
      String id = cs.getString("containerID", "");
      if (!id.startsWith("kvx://")) continue;
      id = id.substring("kvx://".length());
      String name = cs.getString("name");
      int attempt;
      try {
        attempt = Integer.parseInt(id.substring(id.lastIndexOf('-') + 1));
      } catch (NumberFormatException e) {
        continue;
      }
      ContainerRecord cr = r.containers.computeIfAbsent(name, ContainerRecord::new);
      cr.attempt = attempt;
      cr.restartCount = cs.getInteger("restartCount", 0);
      cr.imageId = cs.getString("imageID", "");
      JsonObject last = cs.getJsonObject("lastState", new JsonObject()).getJsonObject("terminated");
      if (last != null) cr.lastTerminated = last;
      JsonObject state = cs.getJsonObject("state", new JsonObject());
      if (cs.getBoolean("init") && state.containsKey("terminated")
          && state.getJsonObject("terminated").getInteger("exitCode", 1) == 0) {
        cr.completed = true;
        cr.terminated = state.getJsonObject("terminated");
        continue;
      }
      cr.spec = new ContainerSpec(id, podsDir.resolve(r.uid).resolve(name + "-" + attempt), null, List.of(), List.of(),
          "/", Meta.name(r.pod), logsDir.resolve(r.uid).resolve(name).resolve(attempt + ".log"),
          netns(r), List.of(), 0, 0, 0, "/kvx", stdin(r, name),
          stdin(r, name) && containerSpec(r, name).getBoolean("stdinOnce", false), null, false, null,
          containerSpec(r, name).getBoolean("tty", false));
      if (runtime.status(cr.spec).state() == ContainerStatus.State.UNKNOWN) {
        cr.spec = null;
        cr.attempt = attempt;
        continue;
      }
      cr.running = true;
      cr.waitingReason = null;
      JsonObject running = state.getJsonObject("running");
      cr.startedAt = running != null ? running.getString("startedAt", Meta.now()) : Meta.now();
      cr.startedAtMs = java.time.Instant.parse(cr.startedAt).toEpochMilli();
      adopted++;
    }
    r.initialized = r.pod.getJsonObject("spec").getJsonArray("initContainers", new JsonArray()).stream()
        .allMatch(o -> {
          ContainerRecord cr = r.containers.get(((JsonObject) o).getString("name"));
          return cr != null && (cr.completed || isSidecar((JsonObject) o) && cr.running);
        });
    LOG.info("node " + nodeName + ": adopted pod " + Meta.namespace(r.pod) + "/" + Meta.name(r.pod) + " ("
        + adopted + " running containers)");
    return true;
  }

  /** How an event names a container of the pod: spec.containers{name}, spec.initContainers{name}, ... */
  private static String containerFieldPath(PodRecord r, String name) {
    JsonObject spec = r.pod.getJsonObject("spec", new JsonObject());
    for (String list : List.of("initContainers", "ephemeralContainers")) {
      for (Object o : spec.getJsonArray(list, new JsonArray())) {
        if (o instanceof JsonObject c && name.equals(c.getString("name"))) return "spec." + list + "{" + name + "}";
      }
    }
    return "spec.containers{" + name + "}";
  }

  private static JsonObject containerSpec(PodRecord r, String name) {
    for (JsonObject c : PodVolumes.allContainers(r.pod)) {
      if (name.equals(c.getString("name"))) return c;
    }
    return new JsonObject();
  }

  private static boolean stdin(PodRecord r, String name) {
    return containerSpec(r, name).getBoolean("stdin", false);
  }

  /**
   * Blocking: runs init containers one at a time, in order, each to a successful exit, as the kubelet
   * does; true once all have completed. A failed one is restarted with back-off unless the pod's
   * restartPolicy is Never, which fails the pod.
   */
  private boolean runInitContainers(PodRecord r, String policy) throws IOException {
    for (Object o : r.pod.getJsonObject("spec").getJsonArray("initContainers", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      ContainerRecord cr = r.containers.computeIfAbsent(c.getString("name"), ContainerRecord::new);
      if (isSidecar(c)) {
        // A sidecar (restartPolicy Always): the next init container starts once it has started, and it runs on.
        keepRunning(r, c, cr, "Always");
        if (!cr.running || !prober.started(c, cr.spec)) return false;
        continue;
      }
      if (cr.completed) continue;
      if (r.initFailed) return false;
      if (cr.running) {
        ContainerStatus st = runtime.status(cr.spec);
        if (st.state() == ContainerStatus.State.RUNNING) return false;
        cr.running = false;
        cr.terminated = terminated(cr, st);
        int code = cr.terminated.getInteger("exitCode");
        removeAttempt(cr);
        if (code == 0) {
          cr.completed = true;
          continue;
        }
        if (policy.equals("Never")) {
          r.initFailed = true;
          return false;
        }
        cr.restartNotBefore = System.currentTimeMillis() + PodStatuses.backoffMillis(cr.restartCount);
      }
      if (cr.terminated != null) {
        if (System.currentTimeMillis() < cr.restartNotBefore) {
          cr.waitingReason = "CrashLoopBackOff";
          cr.waitingMessage = backOffMessage(r, cr);
          return false;
        }
        cr.lastTerminated = cr.terminated;
        cr.terminated = null;
        cr.restartCount++;
      }
      startContainer(r, c, cr);
      return false;
    }
    r.initialized = true;
    return true;
  }

  /** Blocking: brings the pod's sandbox and containers to what its spec asks. */
  private void converge(PodRecord r) throws IOException {
    try {
      convergeContainers(r);
    } finally {
      // No container needed the network first (an image to pull, a volume not ready): wait for it here.
      if (r.pendingNetwork != null) finishNetwork(r);
    }
  }

  /**
   * Blocking. A new pod's sandbox: its network namespace at once, then the CNI chain's ADD on a thread
   * of its own while the first container is created in that namespace; the container's process is held
   * back until the network is up (a {@link StartGate}). Pods whose containers need their own IP before
   * they are created (downward API status.podIP) get their network first, one step after the other.
   */
  private void startSandbox(PodRecord r) throws IOException {
    long t0 = System.nanoTime();
    r.startTime = Meta.now();
    if (network == null || hostNetwork(r) || r.pod.getJsonObject("spec").encode().contains("status.podIP")) {
      r.ip = network != null && !hostNetwork(r) ? network.setUp(r.uid, CniNetwork.portMappings(r.pod)) : nodeIp;
      r.sandboxMillis = (System.nanoTime() - t0) / 1_000_000;
      writePodFiles(r);
      return;
    }
    network.createNamespace(r.uid);
    JsonArray ports = CniNetwork.portMappings(r.pod);
    r.networkStartNanos = t0;
    r.pendingNetwork = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return network.attach(r.uid, ports);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, cniThreads);
    // /etc/hosts is bind-mounted when the container is created: it exists now and gets the pod's IP
    // (rewritten in place, the same file) before the container's process starts.
    writePodFiles(r);
  }

  /** Blocking: waits for the CNI ADD startSandbox began; a failed one is torn down so a later sync starts over. */
  private void finishNetwork(PodRecord r) throws IOException {
    java.util.concurrent.CompletableFuture<String> pending = r.pendingNetwork;
    r.pendingNetwork = null;
    try {
      r.ip = pending.join();
    } catch (java.util.concurrent.CompletionException e) {
      try {
        network.tearDown(r.uid, CniNetwork.portMappings(r.pod));
      } catch (IOException ignored) {
        // what is left is removed with the pod
      }
      throw e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause()
          : new IOException("pod network: " + e.getCause(), e.getCause());
    } finally {
      r.sandboxMillis = (System.nanoTime() - r.networkStartNanos) / 1_000_000;
    }
    writePodFiles(r);
  }

  private void convergeContainers(PodRecord r) throws IOException {
    if (r.ip == null && !adopt(r)) startSandbox(r);
    if (r.volumes == null) {
      try {
        r.volumes = PodVolumes.materialize(r.pod, podsDir.resolve(r.uid), r.inputs, path -> fieldValue(r, path));
        ImageUsers.applyFsGroup(r.pod, r.volumes);
      } catch (PodVolumes.NotReady e) {
        // kubelet's "Unable to attach or mount volumes": wait, and look again shortly.
        r.inputs = null;
        vertx.setTimer(1000, t -> {
          if (pods.containsKey(r.uid)) sync(r);
        });
        return;
      } catch (PodVolumes.ConfigError e) {
        for (Object o : r.pod.getJsonObject("spec").getJsonArray("containers")) {
          ContainerRecord cr = r.containers.computeIfAbsent(((JsonObject) o).getString("name"), ContainerRecord::new);
          cr.waitingReason = "CreateContainerConfigError";
          cr.waitingMessage = e.getMessage();
        }
        return;
      }
    }
    JsonObject spec = r.pod.getJsonObject("spec");
    String policy = spec.getString("restartPolicy", "Always");
    if (!r.initialized && !runInitContainers(r, policy)) return;
    boolean mainDone = true;
    for (Object o : spec.getJsonArray("containers")) {
      JsonObject c = (JsonObject) o;
      ContainerRecord cr = r.containers.computeIfAbsent(c.getString("name"), ContainerRecord::new);
      keepRunning(r, c, cr, policy);
      mainDone &= !cr.running && cr.terminated != null
          && !PodStatuses.shouldRestart(policy, cr.terminated.getInteger("exitCode"));
    }
    // Sidecars run on as long as the pod's containers do; once those are done for good, they are stopped in
    // reverse order (a Job's pod then completes), as the kubelet does.
    List<ContainerRecord> sidecars = new ArrayList<>();
    for (Object o : spec.getJsonArray("initContainers", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      if (!isSidecar(c)) continue;
      ContainerRecord cr = r.containers.computeIfAbsent(c.getString("name"), ContainerRecord::new);
      if (!mainDone) keepRunning(r, c, cr, "Always");
      else if (cr.running) sidecars.add(0, cr);
    }
    for (ContainerRecord cr : sidecars) {
      killContainers(r, List.of(cr), spec.getLong("terminationGracePeriodSeconds", 30L));
      cr.terminated = terminated(cr, runtime.status(cr.spec));
      removeAttempt(cr);
      cr.stopped = true;
    }
    runEphemeralContainers(r);
  }

  /** The kubelet's CrashLoopBackOff message. */
  private static String backOffMessage(PodRecord r, ContainerRecord cr) {
    return "back-off " + PodStatuses.backoffMillis(cr.restartCount) / 1000 + "s restarting failed container="
        + cr.name + " pod=" + Meta.name(r.pod) + "_" + Meta.namespace(r.pod) + "(" + r.uid + ")";
  }

  private static boolean isSidecar(JsonObject initContainer) {
    return "Always".equals(initContainer.getString("restartPolicy"));
  }

  /**
   * Blocking: one step of keeping a container as its restart policy wants it: records its exit, restarts it after
   * its back-off, or starts it.
   */
  private void keepRunning(PodRecord r, JsonObject c, ContainerRecord cr, String policy) throws IOException {
    if (cr.stopped) return;
    if (cr.running && cr.killReason != null) {
      JsonObject probe = c.getJsonObject(cr.killReason.startsWith("Startup") ? "startupProbe" : "livenessProbe");
      Long probeGrace = probe == null ? null : probe.getLong("terminationGracePeriodSeconds");
      long grace = probeGrace != null ? probeGrace
          : r.pod.getJsonObject("spec").getLong("terminationGracePeriodSeconds", 30L);
      killContainers(r, List.of(cr), grace);
      cr.running = true; // its exit is recorded just below
      cr.killReason = null;
    }
    if (cr.running) {
      ContainerStatus st = runtime.status(cr.spec);
      if (st.state() == ContainerStatus.State.RUNNING) return;
      cr.running = false;
      cr.terminated = terminated(cr, st);
      int code = cr.terminated.getInteger("exitCode");
      removeAttempt(cr);
      prober.forget(cr.spec.id());
      if (PodStatuses.shouldRestart(policy, code)) {
        cr.restartNotBefore = System.currentTimeMillis() + PodStatuses.backoffMillis(cr.restartCount);
      }
    }
    if (cr.terminated != null) {
      int code = cr.terminated.getInteger("exitCode");
      if (!PodStatuses.shouldRestart(policy, code)) return;
      if (System.currentTimeMillis() < cr.restartNotBefore) {
        cr.waitingReason = "CrashLoopBackOff";
        cr.waitingMessage = backOffMessage(r, cr);
        return;
      }
      cr.lastTerminated = cr.terminated;
      cr.terminated = null;
      cr.restartCount++;
    }
    startContainer(r, c, cr);
  }

  /**
   * Blocking: starts each ephemeral container (`kubectl debug`) once, in the pod's network namespace,
   * and records its exit; as the kubelet, it is never restarted.
   */
  private void runEphemeralContainers(PodRecord r) throws IOException {
    for (Object o : r.pod.getJsonObject("spec").getJsonArray("ephemeralContainers", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      ContainerRecord cr = r.containers.computeIfAbsent(c.getString("name"), ContainerRecord::new);
      if (cr.running) {
        ContainerStatus st = runtime.status(cr.spec);
        if (st.state() == ContainerStatus.State.RUNNING) continue;
        cr.running = false;
        cr.terminated = terminated(cr, st);
        removeAttempt(cr);
        continue;
      }
      if (cr.terminated == null && cr.spec == null) startContainer(r, c, cr);
    }
  }

  private void startContainer(PodRecord r, JsonObject c, ContainerRecord cr) throws IOException {
    String image = c.getString("image");
    ImageStore.Image img = runtime instanceof FakeRuntime
        ? new ImageStore.Image(image, "", podsDir, new JsonObject(), 0, List.of()) : images.find(image);
    if (!(runtime instanceof FakeRuntime)) {
      ImagePulls.Decision d = pulls.decide(r.uid, image, c.getString("imagePullPolicy"), img != null,
          System.currentTimeMillis());
      String part = containerFieldPath(r, cr.name);
      if (d.pull()) events.record(r.pod, part, "Normal", "Pulling", "Pulling image \"" + image + "\"");
      if (d.eventReason() != null && (d.start() || !d.reason().equals(cr.waitingReason))) {
        events.record(r.pod, part, d.eventType(), d.eventReason(), d.eventMessage());
      }
      if (!d.start()) {
        // As the kubelet: beside the pull's own event, "Error: <reason>" when the container's state changes.
        if (!d.reason().equals(cr.waitingReason)) events.record(r.pod, part, "Warning", "Failed", "Error: " + d.reason());
        cr.waitingReason = d.reason();
        cr.waitingMessage = d.message();
        return;
      }
    }
    cr.attempt++;
    boolean gated = r.pendingNetwork != null;
    String id = r.uid.substring(0, 8) + "-" + cr.name + "-" + cr.attempt;
    Path bundle = podsDir.resolve(r.uid).resolve(cr.name + "-" + cr.attempt);
    Path log = logsDir.resolve(r.uid).resolve(cr.name).resolve(cr.attempt + ".log");
    List<String> env = new ArrayList<>();
    img.config().getJsonArray("Env", new JsonArray()).forEach(e -> env.add((String) e));
    env.add("HOSTNAME=" + podHostname(r));
    if (r.serviceLinks != null) {
      env.addAll(r.serviceLinks);
    } else {
      // The kubernetes service, as every pod sees it, while its object could not be read.
      env.add("KUBERNETES_SERVICE_HOST=" + kubernetesServiceHost);
      env.add("KUBERNETES_SERVICE_PORT=443");
      env.add("KUBERNETES_SERVICE_PORT_HTTPS=443");
    }
    List<ContainerSpec.Mount> volumeMounts;
    ContainerSpec.Security security;
    try {
      env.addAll(PodVolumes.env(c, r.inputs, path -> fieldValue(r, path)));
      volumeMounts = PodVolumes.mounts(r.pod, c, r.volumes, podsDir.resolve(r.uid));
      security = SecurityContexts.resolve(r.pod, c, img.config().getString("User", ""),
          name -> ImageUsers.passwd(img.rootfs(), name), name -> ImageUsers.group(img.rootfs(), name));
    } catch (PodVolumes.ConfigError | SecurityContexts.ConfigError e) {
      cr.attempt--;
      if (!"CreateContainerConfigError".equals(cr.waitingReason)) {
        events.record(r.pod, containerFieldPath(r, cr.name), "Warning", "Failed", "Error: " + e.getMessage());
      }
      cr.waitingReason = "CreateContainerConfigError";
      cr.waitingMessage = e.getMessage();
      return;
    }
    JsonObject limits = c.getJsonObject("resources", new JsonObject()).getJsonObject("limits", new JsonObject());
    JsonObject requests = c.getJsonObject("resources", new JsonObject()).getJsonObject("requests", limits);
    Path podDir = podsDir.resolve(r.uid);
    List<ContainerSpec.Mount> mounts = new ArrayList<>(List.of(
        new ContainerSpec.Mount(podDir.resolve("hosts"), "/etc/hosts", false),
        new ContainerSpec.Mount(podDir.resolve("hostname"), "/etc/hostname", false)));
    if (Files.exists(podDir.resolve("resolv.conf"))) {
      mounts.add(new ContainerSpec.Mount(podDir.resolve("resolv.conf"), "/etc/resolv.conf", false));
    }
    mounts.addAll(volumeMounts);
    // As the kubelet: a file of the pod's, mounted where the container may write why it ended.
    cr.terminationLog = podDir.resolve("termination").resolve(cr.name + "-" + cr.attempt);
    cr.terminationPolicy = c.getString("terminationMessagePolicy", "File");
    Files.createDirectories(cr.terminationLog.getParent());
    Files.write(cr.terminationLog, new byte[0]);
    Files.setPosixFilePermissions(cr.terminationLog, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
    mounts.add(new ContainerSpec.Mount(cr.terminationLog, c.getString("terminationMessagePath", "/dev/termination-log"),
        false));
    cr.imageId = img.names().stream().filter(n -> n.contains("@")).findFirst().orElse(img.id());
    cr.spec = new ContainerSpec(id, bundle, img.rootfs(), commandLine(c, img.config()), ServiceLinks.lastWins(env),
        c.getString("workingDir", img.config().getString("WorkingDir", "/")), podHostname(r), log, netns(r), mounts,
        Quantities.bytes(str(limits, "memory")),
        Quantities.milli(str(limits, "cpu")),
        Quantities.milli(str(requests, "cpu")), "/kvx", c.getBoolean("stdin", false),
        c.getBoolean("stdin", false) && c.getBoolean("stdinOnce", false), security, gated, targetPidNamespace(r, c),
        c.getBoolean("tty", false));
    if (cr.spec.stdinOnce()) holdStdin(cr);
    long t0 = System.nanoTime();
    runtime.start(cr.spec);
    long launchMillis = (System.nanoTime() - t0) / 1_000_000;
    if (gated) {
      StartGate gate = StartGate.open(cr.spec);
      try {
        finishNetwork(r);
      } catch (IOException | RuntimeException e) {
        gate.release(false);
        runtime.awaitStarted(cr.spec, GATE_FAILURE_WAIT_MS);
        gate.close();
        removeAttempt(cr);
        cr.spec = null;
        throw e;
      }
      gate.release(true);
      // Closed once the hook has read its word; a start slower than the timeout keeps the gate (what it
      // holds is lost with the last open end) until the pod ends.
      if (runtime.awaitStarted(cr.spec, START_TIMEOUT_MS) || runtime.exited(cr.spec)) {
        gate.close();
      } else {
        r.openGates.add(gate);
      }
    } else {
      runtime.awaitStarted(cr.spec, START_TIMEOUT_MS);
    }
    long startMillis = (System.nanoTime() - t0) / 1_000_000;
    // As the kubelet, once the runtime has made and started the container.
    String part = containerFieldPath(r, cr.name);
    events.record(r.pod, part, "Normal", "Created", "Created container: " + cr.name);
    events.record(r.pod, part, "Normal", "Started", "Started container " + cr.name);
    cr.running = true;
    cr.startedAt = Meta.now();
    cr.startedAtMs = System.currentTimeMillis();
    cr.waitingReason = null;
    cr.waitingMessage = null;
    JsonObject postStart = c.getJsonObject("lifecycle", new JsonObject()).getJsonObject("postStart");
    if (postStart != null) {
      // As the kubelet: the hook runs right after the start and the container is not Running before it ends;
      // a failed hook kills the container, which is then restarted by its policy.
      String err = Hooks.run(postStart, runtime, cr.spec, r.ip, c, POST_START_TIMEOUT_MS);
      if (err != null) {
        events.record(r.pod, part, "Warning", "FailedPostStartHook", "PostStartHook failed: " + err);
        cr.killReason = "FailedPostStartHook";
      }
    }
    LOG.info("node " + nodeName + ": started " + Meta.namespace(r.pod) + "/" + Meta.name(r.pod) + " container "
        + cr.name + " (attempt " + cr.attempt + "; network " + r.sandboxMillis + " ms" + (gated ? " beside the runtime"
        : "") + ", runtime " + startMillis + " ms of which launch " + launchMillis + " ms)");
  }

  /** Removes a container attempt from the runtime (blocking), letting go of its held stdin first. */
  private void removeAttempt(ContainerRecord cr) throws IOException {
    cr.releaseStdin();
    if (cr.spec != null) runtime.remove(cr.spec);
  }

  /**
   * Makes a stdinOnce container's stdin FIFO and holds it open to write: the container's read-only open of it goes
   * through at once, and its input ends when its first attach's does (StreamServer lets go of this hold then).
   */
  private void holdStdin(ContainerRecord cr) throws IOException {
    Path fifo = runtime.stdinPipe(cr.spec);
    Files.createDirectories(fifo.getParent());
    if (!Files.exists(fifo)) io.kvx.nativeio.Libc.mkfifo(fifo.toString(), 0600);
    cr.releaseStdin();
    cr.stdinHolder.set(io.kvx.node.runtime.ContainerRuntime.openFifo(fifo));
  }

  private static final long POST_START_TIMEOUT_MS = 120_000;
  private static final long START_TIMEOUT_MS = 10_000;
  /** How long a container whose network failed gets to fail at its start gate before it is removed. */
  private static final long GATE_FAILURE_WAIT_MS = 2_000;

  private static String str(JsonObject o, String k) {
    Object v = o.getValue(k);
    return v == null ? null : String.valueOf(v);
  }

  /** Kubernetes' rule: command replaces the image's Entrypoint, args replace its Cmd. */
  static List<String> commandLine(JsonObject container, JsonObject imageConfig) {
    List<String> out = new ArrayList<>();
    JsonArray command = container.getJsonArray("command");
    JsonArray args = container.getJsonArray("args");
    if (command != null && !command.isEmpty()) {
      command.forEach(x -> out.add(String.valueOf(x)));
      if (args != null) args.forEach(x -> out.add(String.valueOf(x)));
      return out;
    }
    imageConfig.getJsonArray("Entrypoint", new JsonArray()).forEach(x -> out.add(String.valueOf(x)));
    JsonArray rest = args != null && !args.isEmpty() ? args : imageConfig.getJsonArray("Cmd", new JsonArray());
    rest.forEach(x -> out.add(String.valueOf(x)));
    return out;
  }

  private String fieldValue(PodRecord r, String path) {
    return switch (path) {
      case "metadata.name" -> Meta.name(r.pod);
      case "metadata.namespace" -> Meta.namespace(r.pod);
      case "metadata.uid" -> r.uid;
      case "spec.nodeName" -> nodeName;
      case "spec.serviceAccountName" -> r.pod.getJsonObject("spec").getString("serviceAccountName", "default");
      case "status.podIP" -> r.ip;
      case "status.hostIP" -> nodeIp;
      default -> "";
    };
  }

  /** Blocking: /proc/PID/ns/pid of an ephemeral container's running target, else null (its own). */
  private String targetPidNamespace(PodRecord r, JsonObject c) throws IOException {
    String target = c.getString("targetContainerName");
    ContainerRecord cr = target == null ? null : r.containers.get(target);
    if (cr == null || !cr.running || cr.spec == null) return null;
    long pid = runtime.initPid(cr.spec);
    return pid > 0 ? "/proc/" + pid + "/ns/pid" : null;
  }

  private static boolean hostNetwork(PodRecord r) {
    return r.pod.getJsonObject("spec").getBoolean("hostNetwork", false);
  }

  /**
   * The network namespace a pod's containers join: its own (CNI), or for hostNetwork the agent's own
   * one, named as runc's child sees it (it runs in the agent's namespace); null: a fresh one.
   */
  private String netns(PodRecord r) {
    if (hostNetwork(r)) return "/proc/self/ns/net";
    return network != null ? CniNetwork.netnsPath(r.uid) : null;
  }

  /** The pod's name, or for hostNetwork the node's host name (kube shares the host's UTS namespace). */
  /** The pod's hostname, as the kubelet sets it: spec.hostname, else its name (at most 63 characters). */
  private static String podHostname(PodRecord r) {
    if (!hostNetwork(r)) {
      String hostname = r.pod.getJsonObject("spec").getString("hostname", "");
      if (hostname.isEmpty()) hostname = Meta.name(r.pod);
      return hostname.length() > 63 ? hostname.substring(0, 63).replaceAll("[-.]+$", "") : hostname;
    }
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    } catch (IOException e) {
      return Meta.name(r.pod);
    }
  }

  private void writePodFiles(PodRecord r) throws IOException {
    Path dir = podsDir.resolve(r.uid);
    Files.createDirectories(dir);
    String name = podHostname(r);
    // With a subdomain the pod's fully qualified name comes first, as the kubelet writes it (hostname -f).
    String subdomain = r.pod.getJsonObject("spec").getString("subdomain", "");
    String names = subdomain.isEmpty() || hostNetwork(r) ? name
        : name + "." + subdomain + "." + Meta.namespace(r.pod) + ".svc." + config().getString("clusterDomain", "cluster.local") + "\t" + name;
    Files.writeString(dir.resolve("hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        + (r.ip == null ? "" : r.ip + "\t" + names + "\n"));
    Files.writeString(dir.resolve("hostname"), name + "\n");
    Files.writeString(dir.resolve("resolv.conf"), resolvConf(r));
  }

  /**
   * The pod's resolv.conf by its dnsPolicy: ClusterFirst points at cluster DNS on this node's
   * pod-network gateway with the usual search path; Default copies the node's; None uses dnsConfig.
   */
  private String resolvConf(PodRecord r) throws IOException {
    JsonObject spec = r.pod.getJsonObject("spec");
    String policy = spec.getString("dnsPolicy", "ClusterFirst");
    JsonObject cfg = spec.getJsonObject("dnsConfig", new JsonObject());
    StringBuilder sb = new StringBuilder();
    // A host-network pod's ClusterFirst falls back to the node's resolv.conf, as the kubelet's does
    // (ClusterFirstWithHostNet asks for cluster DNS).
    boolean hostFallback = hostNetwork(r) && policy.equals("ClusterFirst");
    if (policy.equals("Default") || hostFallback || (network == null && !policy.equals("None"))) {
      Path host = Path.of("/etc/resolv.conf");
      return Files.exists(host) ? Files.readString(host) : "";
    }
    java.util.List<String> servers = new ArrayList<>();
    java.util.List<String> searches = new ArrayList<>();
    if (!policy.equals("None")) {
      servers.add(network.gateway());
      String ns = Meta.namespace(r.pod);
      String domain = config().getString("clusterDomain", "cluster.local");
      searches.addAll(List.of(ns + ".svc." + domain, "svc." + domain, domain));
    }
    cfg.getJsonArray("nameservers", new JsonArray()).forEach(x -> servers.add(String.valueOf(x)));
    cfg.getJsonArray("searches", new JsonArray()).forEach(x -> searches.add(String.valueOf(x)));
    for (String server : servers) sb.append("nameserver ").append(server).append('\n');
    if (!searches.isEmpty()) sb.append("search ").append(String.join(" ", searches)).append('\n');
    java.util.List<String> options = new ArrayList<>();
    if (!policy.equals("None")) options.add("ndots:5");
    for (Object o : cfg.getJsonArray("options", new JsonArray())) {
      JsonObject opt = (JsonObject) o;
      options.add(opt.getString("name") + (opt.getString("value") != null ? ":" + opt.getString("value") : ""));
    }
    if (!options.isEmpty()) sb.append("options ").append(String.join(" ", options)).append('\n');
    return sb.toString();
  }

  /**
   * A terminated state as the kubelet reports it: the process's exit code, or 137 when it is gone without one;
   * OOMKilled when the memory cgroup saw an OOM kill.
   */
  private static JsonObject terminated(ContainerRecord cr, ContainerStatus st) {
    boolean exited = st.state() == ContainerStatus.State.EXITED;
    int code = exited ? st.exitCode() : 137;
    String reason = exited ? st.reason() : "Error";
    JsonObject out = new JsonObject().put("exitCode", code).put("reason", reason);
    String message = terminationMessage(cr, code);
    if (!message.isEmpty()) out.put("message", message);
    return out.put("startedAt", cr.startedAt).put("finishedAt", Meta.now()).put("containerID", containerId(cr));
  }

  /**
   * What the container wrote to its terminationMessagePath (at most 4 KiB), or, with FallbackToLogsOnError and a
   * failure, the end of its log (the last 80 lines, at most 2 KiB), as the kubelet reports it. Blocking.
   */
  private static String terminationMessage(ContainerRecord cr, int exitCode) {
    try {
      if (cr.terminationLog != null && Files.exists(cr.terminationLog)) {
        byte[] written = Files.readAllBytes(cr.terminationLog);
        String message = new String(written, 0, Math.min(written.length, 4096), java.nio.charset.StandardCharsets.UTF_8);
        if (!message.isEmpty()) return message;
      }
      if (!cr.terminationPolicy.equals("FallbackToLogsOnError") || exitCode == 0 || cr.spec == null
          || !Files.exists(cr.spec.logFile())) {
        return "";
      }
      List<String> lines = Files.readAllLines(cr.spec.logFile());
      StringBuilder tail = new StringBuilder();
      for (String raw : lines.subList(Math.max(0, lines.size() - 80), lines.size())) {
        ContainerLogs.Line line = ContainerLogs.parse(raw);
        tail.append(line.text());
        if (!line.partial()) tail.append('\n');
      }
      return tail.length() <= 2048 ? tail.toString() : tail.substring(tail.length() - 2048);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static String containerId(ContainerRecord cr) {
    return "kvx://" + cr.spec.id();
  }

  /** Builds the pod status from the container records and writes it if it changed. */
  private Future<Void> report(PodRecord r) {
    JsonObject spec = r.pod.getJsonObject("spec");
    JsonArray statuses = new JsonArray();
    List<JsonObject> list = new ArrayList<>();
    List<String> unready = new ArrayList<>();
    List<String> incomplete = new ArrayList<>();
    boolean allReady = true;
    for (Object o : spec.getJsonArray("containers")) {
      JsonObject c = (JsonObject) o;
      ContainerRecord cr = r.containers.get(c.getString("name"));
      if (cr == null) {
        // Not started yet: as the kubelet reports it, waiting behind the init containers or being created.
        allReady = false;
        unready.add(c.getString("name"));
        JsonObject cs = new JsonObject().put("name", c.getString("name")).put("image", c.getString("image"))
            .put("imageID", "").put("ready", false).put("started", false).put("restartCount", 0)
            .put("state", new JsonObject().put("waiting", new JsonObject().put("reason",
                r.initialized || spec.getJsonArray("initContainers", new JsonArray()).isEmpty()
                    ? "ContainerCreating" : "PodInitializing")))
            .put("lastState", new JsonObject());
        statuses.add(cs);
        list.add(cs);
        continue;
      }
      JsonObject state;
      if (cr.running) {
        state = new JsonObject().put("running", new JsonObject().put("startedAt", cr.startedAt));
      } else if (cr.terminated != null && cr.waitingReason == null) {
        state = new JsonObject().put("terminated", cr.terminated);
      } else {
        JsonObject w = new JsonObject().put("reason", cr.waitingReason == null ? "ContainerCreating" : cr.waitingReason);
        if (cr.waitingMessage != null) w.put("message", cr.waitingMessage);
        state = new JsonObject().put("waiting", w);
      }
      boolean ready = cr.running && prober.ready(c, cr.spec);
      if (!ready) {
        allReady = false;
        unready.add(cr.name);
      }
      JsonObject cs = new JsonObject().put("name", cr.name).put("image", c.getString("image"))
          .put("imageID", cr.spec == null ? "" : cr.imageId)
          .put("ready", ready).put("started", cr.running && prober.started(c, cr.spec))
          .put("restartCount", cr.restartCount)
          .put("state", state);
      JsonObject last = cr.terminated != null && cr.waitingReason != null ? cr.terminated : cr.lastTerminated;
      cs.put("lastState", last == null ? new JsonObject() : new JsonObject().put("terminated", last));
      if (cr.spec != null) cs.put("containerID", containerId(cr));
      statuses.add(cs);
      list.add(cs);
    }
    JsonArray initStatuses = new JsonArray();
    for (Object o : spec.getJsonArray("initContainers", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      ContainerRecord cr = r.containers.get(c.getString("name"));
      JsonObject state;
      if (cr == null) {
        state = new JsonObject().put("waiting", new JsonObject().put("reason", "PodInitializing"));
      } else if (cr.running) {
        state = new JsonObject().put("running", new JsonObject().put("startedAt", cr.startedAt));
      } else if (cr.terminated != null && (cr.completed || cr.waitingReason == null || r.initFailed)) {
        state = new JsonObject().put("terminated", cr.terminated);
      } else {
        JsonObject w = new JsonObject().put("reason", cr.waitingReason == null ? "PodInitializing" : cr.waitingReason);
        if (cr.waitingMessage != null) w.put("message", cr.waitingMessage);
        state = new JsonObject().put("waiting", w);
      }
      boolean sidecar = isSidecar(c);
      boolean started = cr != null && cr.running && (!sidecar || prober.started(c, cr.spec));
      // A sidecar is ready by its readiness probe, and counts for the pod's readiness as its containers do.
      boolean ready = sidecar ? cr != null && cr.running && prober.ready(c, cr.spec) : cr != null && cr.completed;
      if (sidecar && !ready) {
        allReady = false;
        unready.add(c.getString("name"));
      }
      JsonObject cs = new JsonObject().put("name", c.getString("name")).put("image", c.getString("image"))
          .put("imageID", cr == null || cr.spec == null ? "" : cr.imageId)
          .put("ready", ready).put("started", started)
          .put("restartCount", cr == null ? 0 : cr.restartCount).put("state", state);
      // Waiting to restart, the termination it waits after is the last state (as for the containers below).
      JsonObject last = cr == null ? null : cr.terminated != null && cr.waitingReason != null && !cr.completed
          && !r.initFailed ? cr.terminated : cr.lastTerminated;
      if (last != null) cs.put("lastState", new JsonObject().put("terminated", last));
      if (cr != null && cr.spec != null) cs.put("containerID", containerId(cr));
      if (sidecar ? !r.initialized && !started : cr == null || !cr.completed) incomplete.add(c.getString("name"));
      initStatuses.add(cs);
    }
    JsonArray ephemeralStatuses = new JsonArray();
    for (Object o : spec.getJsonArray("ephemeralContainers", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      ContainerRecord cr = r.containers.get(c.getString("name"));
      JsonObject state;
      if (cr != null && cr.running) {
        state = new JsonObject().put("running", new JsonObject().put("startedAt", cr.startedAt));
      } else if (cr != null && cr.terminated != null) {
        state = new JsonObject().put("terminated", cr.terminated);
      } else {
        JsonObject w = new JsonObject().put("reason", cr == null || cr.waitingReason == null ? "ContainerCreating"
            : cr.waitingReason);
        if (cr != null && cr.waitingMessage != null) w.put("message", cr.waitingMessage);
        state = new JsonObject().put("waiting", w);
      }
      JsonObject cs = new JsonObject().put("name", c.getString("name")).put("image", c.getString("image"))
          .put("imageID", cr == null || cr.spec == null ? "" : cr.imageId).put("ready", false)
          .put("restartCount", 0).put("state", state).put("lastState", new JsonObject());
      if (cr != null && cr.spec != null) cs.put("containerID", containerId(cr));
      ephemeralStatuses.add(cs);
    }
    boolean hasInit = !initStatuses.isEmpty();
    String phase = r.killed ? PodStatuses.terminalPhase(list) : r.initFailed ? "Failed"
        : !r.initialized && hasInit ? "Pending"
        : PodStatuses.phase(spec.getString("restartPolicy", "Always"), list, spec.getJsonArray("containers").size());
    JsonObject old = r.pod.getJsonObject("status", new JsonObject());
    JsonObject status = new JsonObject().put("phase", phase)
        .put("conditions", PodStatuses.conditions(r.initialized || !hasInit, allReady && phase.equals("Running"),
            r.ip != null,
            Meta.now(), old.getJsonArray("conditions", new JsonArray()), incomplete,
            phase.equals("Succeeded") ? List.of() : unready))
        .put("hostIP", nodeIp).put("hostIPs", new JsonArray().add(new JsonObject().put("ip", nodeIp)))
        .put("containerStatuses", statuses);
    if (hasInit) status.put("initContainerStatuses", initStatuses);
    if (!ephemeralStatuses.isEmpty()) status.put("ephemeralContainerStatuses", ephemeralStatuses);
    if (r.ip != null) {
      status.put("podIP", r.ip).put("podIPs", new JsonArray().add(new JsonObject().put("ip", r.ip)));
    }
    if (r.startTime != null) status.put("startTime", old.getString("startTime", r.startTime));
    String fingerprint = status.encode();
    if (fingerprint.equals(r.lastReported)) return Future.succeededFuture();
    return client.mergePatch(Resources.PODS, Meta.namespace(r.pod), Meta.name(r.pod), "status",
        new JsonObject().put("status", status)).onSuccess(p -> r.lastReported = fingerprint).mapEmpty();
  }

  /**
   * Graceful termination: SIGTERM, SIGKILL after the grace period, clean up, then remove the pod
   * object. The record stays until the API agrees, so a failed delete is retried on the next relist.
   */
  private Future<Void> terminate(PodRecord r) {
    long grace = Meta.meta(r.pod).getLong("deletionGracePeriodSeconds",
        r.pod.getJsonObject("spec").getLong("terminationGracePeriodSeconds", 30L));
    if (!r.killed) {
      for (ContainerRecord c : r.containers.values()) {
        if (c.running && c.spec != null) {
          events.record(r.pod, containerFieldPath(r, c.name), "Normal", "Killing", "Stopping container " + c.name);
        }
      }
    }
    Future<Void> killed = r.killed ? Future.succeededFuture() : vertx.<Void>executeBlocking(() -> {
      killPod(r, grace);
      return null;
    }, false).onSuccess(v -> r.killed = true);
    return killed.compose(v -> {
      // A pod that had ended before this agent started keeps the terminal status it has (no records here).
      if (r.removed || r.endedBefore) return Future.<Void>succeededFuture();
      // As the kubelet (1.27+): the pod's last status is terminal (Succeeded when every container exited 0,
      // else Failed, Ready false) before the pod object goes, so watchers see how it ended.
      return report(r).recover(e -> {
        LOG.info("node " + nodeName + ": last status of " + Meta.name(r.pod) + ": " + e.getMessage());
        return Future.succeededFuture();
      });
    }).compose(v -> {
      if (r.removed) return Future.<Void>succeededFuture();
      JsonObject opts = new JsonObject().put("kind", "DeleteOptions").put("apiVersion", "v1")
          .put("gracePeriodSeconds", 0).put("preconditions", new JsonObject().put("uid", r.uid));
      // NotFound, or Conflict on the uid: the pod is gone, or the name belongs to a new pod now.
      return client.delete(Resources.PODS, Meta.namespace(r.pod), Meta.name(r.pod), opts)
          .recover(e -> ApiError.is(e, ApiError.Reason.NotFound, ApiError.Reason.Conflict) ? Future.succeededFuture()
              : Future.failedFuture(e)).<Void>mapEmpty();
    }).onSuccess(v -> {
      pods.remove(r.uid);
      pulls.forget(r.uid);
      LOG.info("node " + nodeName + ": pod " + Meta.namespace(r.pod) + "/" + Meta.name(r.pod) + " terminated");
    });
  }

  /** Blocking. */
  private void killPod(PodRecord r, long graceSeconds) throws IOException {
    for (StartGate gate : r.openGates) gate.close();
    r.openGates.clear();
    List<ContainerRecord> live = r.containers.values().stream().filter(c -> c.running && c.spec != null).toList();
    killContainers(r, live, graceSeconds);
    for (ContainerRecord c : live) {
      // How each one ended, for the pod's last status (the kubelet's terminal status before the final delete).
      c.terminated = terminated(c, runtime.status(c.spec));
      c.waitingReason = null;
    }
    for (ContainerRecord c : r.containers.values()) {
      removeAttempt(c);
    }
    // A pod that ended before this agent started has no address here, but may still hold its namespace and IP.
    if (network != null && !hostNetwork(r) && (r.ip != null || r.endedBefore)) {
      network.tearDown(r.uid, CniNetwork.portMappings(r.pod));
    }
    deleteTree(podsDir.resolve(r.uid));
    deleteTree(logsDir.resolve(r.uid));
  }

  /**
   * Blocking: stops containers as the kubelet does: their preStop hooks run (at once, within the grace
   * period), then SIGTERM, then SIGKILL when the grace period is over (at least 2 s after the hooks).
   */
  private void killContainers(PodRecord r, List<ContainerRecord> live, long graceSeconds) throws IOException {
    long start = System.currentTimeMillis();
    long graceEnd = start + Math.max(0, graceSeconds) * 1000;
    long deadline = graceEnd;
    List<Thread> hooks = new ArrayList<>();
    for (ContainerRecord c : live) {
      JsonObject container = containerSpec(r, c.name);
      JsonObject preStop = container.getJsonObject("lifecycle", new JsonObject()).getJsonObject("preStop");
      if (preStop == null || graceSeconds <= 0) continue;
      hooks.add(Thread.ofVirtual().start(() -> {
        String err = Hooks.run(preStop, runtime, c.spec, r.ip, container, graceEnd - System.currentTimeMillis());
        if (err != null) {
          events.record(r.pod, containerFieldPath(r, c.name), "Warning", "FailedPreStopHook", "PreStopHook failed: " + err);
          LOG.info("node " + nodeName + ": preStop hook of " + Meta.name(r.pod) + "/" + c.name + " failed: " + err);
        }
      }));
    }
    for (Thread t : hooks) {
      try {
        t.join(Math.max(1, deadline - System.currentTimeMillis()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (!hooks.isEmpty()) deadline = Math.max(deadline, System.currentTimeMillis() + MIN_GRACE_AFTER_HOOK_MS);
    for (ContainerRecord c : live) runtime.signal(c.spec, "TERM");
    for (ContainerRecord c : live) {
      while (runtime.status(c.spec).state() == ContainerStatus.State.RUNNING && System.currentTimeMillis() < deadline) {
        sleep(100);
      }
      if (runtime.status(c.spec).state() == ContainerStatus.State.RUNNING) runtime.signal(c.spec, "KILL");
      for (int i = 0; i < 50 && runtime.status(c.spec).state() == ContainerStatus.State.RUNNING; i++) sleep(100);
      c.running = false;
    }
  }

  /** The kubelet's minimumGracePeriodInSeconds: what SIGTERM gets at least after a preStop hook. */
  private static final long MIN_GRACE_AFTER_HOOK_MS = 2000;

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- local-path volumes ----

  /** A volume the kvx.io/local-path provisioner made in this node's claims directory. */
  private boolean provisionedHere(JsonObject pv) {
    String by = Meta.meta(pv).getJsonObject("annotations", new JsonObject()).getString("pv.kubernetes.io/provisioned-by");
    return "kvx.io/local-path".equals(by) && localPath(pv) != null;
  }

  private Path localPath(JsonObject pv) {
    String path = pv.getJsonObject("spec", new JsonObject()).getJsonObject("hostPath", new JsonObject()).getString("path");
    if (path == null) return null;
    Path p = Path.of(path).normalize();
    Path root = claimsDir.toAbsolutePath().normalize();
    return p.startsWith(root) && !p.equals(root) ? p : null;
  }

  /** A deleted local-path volume (reclaim policy Delete) takes its directory with it, as local-path does. */
  private void onVolume(WatchEvent ev) {
    if (!ev.type().equals(WatchEvent.DELETED)) return;
    Path dir = localPath(ev.object());
    if (dir == null) return;
    vertx.executeBlocking(() -> {
      deleteTree(dir);
      return null;
    }, false).onFailure(e -> LOG.warning("node " + nodeName + ": could not remove volume directory " + dir + ": " + e));
  }

  /** Deletes a pod's directory; overlay mounts left from an earlier run of the agent are unmounted first. */
  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    String prefix = dir.toAbsolutePath() + "/";
    for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
      String[] f = line.split(" ");
      if (f.length > 1 && f[1].startsWith(prefix)) Exec.run(List.of("umount", "-l", f[1]));
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  /** Rotates the logs of running containers that grew over containerLogMaxSize (on a worker). */
  private void rotateLogs() {
    long maxBytes = Quantities.bytes(config().getString("containerLogMaxSize", "10Mi"));
    int maxFiles = config().getInteger("containerLogMaxFiles", 5);
    List<Path> logs = new ArrayList<>();
    for (PodRecord r : pods.values()) {
      for (ContainerRecord cr : r.containers.values()) if (cr.running && cr.spec != null) logs.add(cr.spec.logFile());
    }
    if (logs.isEmpty()) return;
    vertx.executeBlocking(() -> {
      for (Path log : logs) LogRotation.rotate(log, maxBytes, maxFiles);
      return null;
    }, false).onFailure(e -> LOG.fine("node " + nodeName + ": log rotation: " + e));
  }

  // ---- stats ----

  /**
   * Usage for metrics.k8s.io: {node: {cpu, memory}, pods: [{namespace, name, containers: [{name, cpu,
   * memory}]}]}, CPU in nanocores and memory in bytes. A first request samples twice, 200 ms apart.
   */
  private void onStatsRequest(Message<JsonObject> msg) {
    List<String[]> running = new ArrayList<>();
    for (PodRecord r : pods.values()) {
      for (ContainerRecord cr : r.containers.values()) {
        if (cr.running && cr.spec != null) {
          running.add(new String[] {Meta.namespace(r.pod), Meta.name(r.pod), cr.name, cr.spec.id()});
        }
      }
    }
    vertx.executeBlocking(() -> {
      boolean warm = !stats.needsWarmup("\0node");
      for (String[] c : running) warm &= !stats.needsWarmup(c[3]);
      if (!warm) {
        stats.node();
        for (String[] c : running) stats.container(c[3]);
        sleep(200);
      }
      NodeStats.Usage node = stats.node();
      Map<String, JsonObject> byPod = new LinkedHashMap<>();
      for (String[] c : running) {
        NodeStats.Usage u = stats.container(c[3]);
        JsonObject pod = byPod.computeIfAbsent(c[0] + "/" + c[1], k -> new JsonObject().put("namespace", c[0])
            .put("name", c[1]).put("containers", new JsonArray()));
        pod.getJsonArray("containers").add(new JsonObject().put("name", c[2])
            .put("cpu", u == null ? 0 : u.nanoCores()).put("memory", u == null ? 0 : u.memoryBytes()));
      }
      return new JsonObject().put("node", new JsonObject().put("cpu", node.nanoCores()).put("memory", node.memoryBytes()))
          .put("pods", new JsonArray(new ArrayList<>(byPod.values())));
    }, false).onComplete(ar -> {
      if (ar.succeeded()) msg.reply(ar.result());
      else msg.fail(500, String.valueOf(ar.cause()));
    });
  }

  // ---- streams ----

  /** The container a stream session is for (called on the event loop, where the records change). */
  private StreamServer.Target streamTarget(String uid, String container) {
    PodRecord r = pods.get(uid);
    ContainerRecord cr = r == null ? null : r.containers.get(container);
    if (cr == null) return null;
    Path dir = logsDir.resolve(r.uid).resolve(cr.name);
    return new StreamServer.Target(cr.spec, cr.running, cr.attempt, cr.waitingReason, r.ip,
        attempt -> dir.resolve(attempt + ".log"), cr::releaseStdin);
  }
}
