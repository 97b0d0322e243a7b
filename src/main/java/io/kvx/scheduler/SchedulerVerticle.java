package io.kvx.scheduler;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.bus.Services;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.client.Informer;
import io.kvx.client.LeaderElector;
import io.kvx.scheduler.framework.Cluster;
import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.Framework;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.Plugin;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;
import io.kvx.store.WatchEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * kube-scheduler's process, thin: informers feed the {@link SchedulerCache} and the
 * {@link SchedulingQueue}; while this instance holds the kube-system/kube-scheduler Lease it pops pods,
 * runs a {@link Scheduler} cycle with the pod's profile, assumes the pod on the chosen node and binds it
 * asynchronously (binding cycles overlap, scheduling cycles do not). Pods that fit nowhere get
 * Kubernetes' FailedScheduling event and PodScheduled=False condition and wait for a cluster event
 * that can help; preemption victims are deleted and the pod's status.nominatedNodeName set.
 */
public final class SchedulerVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(SchedulerVerticle.class.getName());
  private static final JsonMapper MAPPER = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
  /** Scheduling cycles run back to back for at most this long before yielding the event loop. */
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  private static final int MAX_BINDS_IN_FLIGHT = 512;
  private static final long FLUSH_PERIOD_MS = 100;

  private final SchedulerCache cache = new SchedulerCache();
  private final Map<String, Framework> profiles = new HashMap<>();
  private final Map<String, Set<ClusterEvent>> pluginEvents = new HashMap<>();
  private final Map<String, Map<String, Object>> objects = new HashMap<>();
  private final Map<String, PodInfo> pending = new HashMap<>();
  /** The watched object each assumed pod was scheduled from, until its binding is seen. */
  private final Map<String, JsonObject> assumedObjects = new HashMap<>();
  /** The watched object of each pending pod (the one {@link #pending} was decoded from). */
  private final Map<String, JsonObject> pendingObjects = new HashMap<>();
  private final Nominator nominator = new Nominator();
  /** Services' and controllers' selectors, decoded: kind -> "namespace/name" -> selector. */
  private final Map<String, Map<String, LabelSelector>> selectors = new HashMap<>();
  private final Scheduler scheduler = new Scheduler();
  private SchedulingQueue queue;
  private ApiClient client;
  private MeterRegistry meters;
  private LeaderElector elector;
  private final List<Informer> informers = new ArrayList<>();
  private boolean leading;
  private boolean drainScheduled;
  private int bindsInFlight;
  private long flushTimer = -1;
  private Listers listers;
  private Cluster cluster;
  private SchedulerConfig.LeaderElection leaderElection;
  private final Map<Framework, Map<String, Timer>> timers = new java.util.IdentityHashMap<>();
  private final Map<Framework, Map<String, Counter>> counters = new java.util.IdentityHashMap<>();

  @Override
  public Future<?> start() {
    Services services = Services.of(vertx);
    meters = services.metrics();
    client = new ApiClient(vertx, services.store());
    JsonObject cfg = config();
    String defaultName = cfg.getString("schedulerName", "default-scheduler");
    String file = cfg.getString("schedulerConfig");
    return vertx.executeBlocking(() -> file == null || file.isEmpty() ? SchedulerConfig.defaults(defaultName)
        : SchedulerConfig.parse(Files.readString(Path.of(file)), defaultName)).compose(sc -> {
          for (Framework fw : sc.profiles()) {
            profiles.put(fw.schedulerName(), fw);
            for (String point : SchedulerConfig.POINTS) {
              for (String n : fw.pluginNames(point)) {
                Plugin p = fw.plugin(n);
                pluginEvents.merge(n, p.events(), (a, b) -> {
                  var s = new java.util.HashSet<>(a);
                  s.addAll(b);
                  return s;
                });
              }
            }
          }
          LOG.info("scheduler: profiles " + profiles.keySet() + (file == null ? "" : " from " + file));
          queue = new SchedulingQueue(sc.initialBackoffMs(), sc.maxBackoffMs());
          leaderElection = sc.leaderElection();
          listers = new ObjectListers();
          cluster = new ApiCluster();
          registerGauges();
          return startInformers();
        }).onSuccess(v -> {
          flushTimer = vertx.setPeriodic(FLUSH_PERIOD_MS, t -> flush());
          SchedulerConfig.LeaderElection le = leaderElection;
          if (le.leaderElect() != null ? le.leaderElect() : cfg.getBoolean("leaderElect", true)) {
            var hz = Services.of(vertx).hazelcast();
            String prefix = cfg.getString("nodeName", "kvx");
            elector = new LeaderElector(vertx, client, orDefault(le.resourceNamespace(), "kube-system"),
                orDefault(le.resourceName(), "kube-scheduler"),
                hz == null ? LeaderElector.identity(prefix) : LeaderElector.identity(prefix, hz),
                orDefault(le.leaseDurationMs(), cfg.getLong("leaseDurationMs", 4000L)),
                orDefault(le.retryPeriodMs(), cfg.getLong("retryPeriodMs", 1000L)), x -> lead(true), x -> lead(false));
            if (hz != null) elector.followMembers(hz);
            elector.start();
          } else {
            lead(true);
          }
        });
  }

  @Override
  public Future<?> stop() {
    if (elector != null) elector.stop();
    if (flushTimer >= 0) vertx.cancelTimer(flushTimer);
    informers.forEach(Informer::stop);
    return Future.succeededFuture();
  }

  private void lead(boolean on) {
    leading = on;
    LOG.info("scheduler: " + (on ? "leading, scheduling " : "lost the lease, pausing with ")
        + (queue.activeSize() + queue.backoffSize() + queue.unschedulableSize()) + " pods pending");
    if (on) kick();
  }

  // ---- informers ----

  private Future<Void> startInformers() {
    Future<Void> f = Future.succeededFuture();
    // Lister-only kinds first, so the first pods already see their claims and services.
    for (ResourceType t : List.of(Resources.builtIn("", "persistentvolumeclaims"),
        Resources.builtIn("", "persistentvolumes"), Resources.builtIn("storage.k8s.io", "storageclasses"),
        Resources.builtIn("", "services"),
        Resources.builtIn("apps", "replicasets"), Resources.builtIn("", "replicationcontrollers"),
        Resources.builtIn("apps", "statefulsets"), Resources.builtIn("policy", "poddisruptionbudgets"),
        Resources.NAMESPACES)) {
      f = f.compose(v -> client.watch(t, o -> true, ev -> onObject(t, ev)).map(this::keep));
    }
    return f.compose(v -> client.watch(Resources.NODES, o -> true, this::onNode).map(this::keep))
        .compose(v -> client.watch(Resources.PODS, o -> true, this::onPod).map(this::keep));
  }

  private Void keep(Informer i) {
    informers.add(i);
    return null;
  }

  private void onObject(ResourceType type, WatchEvent ev) {
    Map<String, Object> m = objects.computeIfAbsent(type.plural(), k -> new HashMap<>());
    String key = Meta.namespace(ev.object()) + "/" + Meta.name(ev.object());
    Class<?> model = switch (type.plural()) {
      case "persistentvolumeclaims" -> PersistentVolumeClaim.class;
      case "persistentvolumes" -> PersistentVolume.class;
      case "storageclasses" -> io.fabric8.kubernetes.api.model.storage.StorageClass.class;
      case "poddisruptionbudgets" -> PodDisruptionBudget.class;
      default -> null;
    };
    if (ev.type().equals(WatchEvent.DELETED)) m.remove(key);
    else m.put(key, model == null ? ev.object() : PodDecoder.decode(ev.object(), model));
    if (SPREAD_KINDS.contains(type.plural())) {
      // Decoded once per change, not once per scheduling attempt.
      Map<String, LabelSelector> sels = selectors.computeIfAbsent(type.plural(), k -> new HashMap<>());
      LabelSelector sel = ev.type().equals(WatchEvent.DELETED) ? null : spreadSelector(type.plural(), ev.object());
      if (sel == null) sels.remove(key);
      else sels.put(key, sel);
    }
    ClusterEvent ce = switch (type.plural()) {
      case "persistentvolumeclaims", "persistentvolumes", "storageclasses" -> ClusterEvent.VOLUME_CHANGE;
      case "namespaces" -> null;
      default -> ClusterEvent.SELECTOR_CHANGE;
    };
    if (ce != null) moveOn(ce);
  }

  private static final List<String> SPREAD_KINDS = List.of("services", "replicasets", "statefulsets",
      "replicationcontrollers");

  /** The selector SelectorSpread / the default topology spread takes from a service or controller, or null. */
  private static LabelSelector spreadSelector(String plural, JsonObject obj) {
    JsonObject spec = obj.getJsonObject("spec", new JsonObject());
    if (plural.equals("services")) {
      JsonObject sel = spec.getJsonObject("selector");
      return sel == null || sel.isEmpty() ? null : new LabelSelector(null, Meta.stringMap(sel));
    }
    Object sel = spec.getValue("selector");
    if (!(sel instanceof JsonObject s) || s.isEmpty()) return null;
    try {
      return plural.equals("replicationcontrollers") ? new LabelSelector(null, Meta.stringMap(s))
          : MAPPER.readValue(s.encode(), LabelSelector.class);
    } catch (RuntimeException e) {
      LOG.warning("scheduler: the selector of " + plural + " " + Meta.namespace(obj) + "/" + Meta.name(obj)
          + " cannot be read: " + e.getMessage());
      return null;
    }
  }

  private void onNode(WatchEvent ev) {
    String name = Meta.name(ev.object());
    if (ev.type().equals(WatchEvent.DELETED)) {
      cache.removeNode(name);
      return;
    }
    boolean known = cache.node(name) != null && cache.node(name).node() != null;
    Node node;
    try {
      node = PodDecoder.decode(ev.object(), Node.class);
    } catch (RuntimeException e) {
      LOG.warning("scheduler: node " + name + " cannot be read: " + e.getMessage());
      return;
    }
    // Heartbeats change nothing a plugin looks at and move nothing.
    if (cache.upsertNode(node)) moveOn(known ? ClusterEvent.NODE_UPDATE : ClusterEvent.NODE_ADD);
  }

  private void onPod(WatchEvent ev) {
    JsonObject obj = ev.object();
    String key = Meta.namespace(obj) + "/" + Meta.name(obj);
    if (ev.type().equals(WatchEvent.DELETED)) {
      queue.delete(key);
      pending.remove(key);
      pendingObjects.remove(key);
      assumedObjects.remove(key);
      nominator.remove(key);
      if (cache.removePod(key)) moveOn(ClusterEvent.ASSIGNED_POD_DELETE);
      return;
    }
    JsonObject spec = obj.getJsonObject("spec", new JsonObject());
    String phase = obj.getJsonObject("status", new JsonObject()).getString("phase", "");
    if (spec.getString("nodeName") != null) {
      queue.delete(key);
      pending.remove(key);
      pendingObjects.remove(key);
      nominator.remove(key);
      if (phase.equals("Succeeded") || phase.equals("Failed")) {
        if (cache.removePod(key)) moveOn(ClusterEvent.ASSIGNED_POD_DELETE);
        return;
      }
      boolean wasAssumed = cache.isAssumed(key);
      PodInfo info = wasAssumed ? confirmed(key, obj) : null;
      if (info == null) info = podInfo(obj);
      if (info == null) return;
      if (cache.addPod(info) && !wasAssumed) moveOn(ClusterEvent.ASSIGNED_POD_ADD);
      else if (wasAssumed) moveOn(ClusterEvent.ASSIGNED_POD_ADD);
      return;
    }
    if (!profiles.containsKey(spec.getString("schedulerName", "default-scheduler"))) return;
    if (Meta.meta(obj).containsKey("deletionTimestamp")) {
      queue.delete(key);
      pending.remove(key);
      pendingObjects.remove(key);
      nominator.remove(key);
      return;
    }
    if (cache.isAssumed(key)) return; // our binding is on its way
    PodInfo info = podInfo(obj);
    if (info == null) return;
    PodInfo old = pending.put(key, info);
    pendingObjects.put(key, obj);
    nominator.update(old, info);
    boolean specChanged = old == null || !Objects.equals(old.pod().getSpec(), info.pod().getSpec())
        || !Objects.equals(old.labels(), info.labels());
    queue.addOrUpdate(info, System.currentTimeMillis(), specChanged);
    kick();
  }

  /**
   * The binding of a pod this scheduler assumed, seen on the watch: when only spec.nodeName (and status, metadata
   * the scheduler does not read) changed since the object it was scheduled from, the assumed PodInfo bound to
   * that node, without decoding the pod again; else null.
   */
  private PodInfo confirmed(String key, JsonObject obj) {
    JsonObject before = assumedObjects.remove(key);
    PodInfo assumed = cache.pod(key);
    if (before == null || assumed == null) return null;
    JsonObject spec = obj.getJsonObject("spec");
    String node = spec.getString("nodeName");
    if (node == null || !sameExceptNodeName(before.getJsonObject("spec"), spec)) return null;
    JsonObject m0 = Meta.meta(before);
    JsonObject m1 = Meta.meta(obj);
    for (String f : List.of("uid", "labels", "deletionTimestamp", "creationTimestamp", "namespace", "name")) {
      if (!Objects.equals(m0.getValue(f), m1.getValue(f))) return null;
    }
    return assumed.boundTo(node);
  }

  static boolean sameExceptNodeName(JsonObject a, JsonObject b) {
    if (a == null || b == null) return false;
    for (String k : a.fieldNames()) {
      if (!k.equals("nodeName") && !Objects.equals(a.getValue(k), b.getValue(k))) return false;
    }
    for (String k : b.fieldNames()) {
      if (!k.equals("nodeName") && !a.containsKey(k)) return false;
    }
    return true;
  }

  private PodInfo podInfo(JsonObject obj) {
    try {
      return new PodInfo(PodDecoder.decode(obj, Pod.class));
    } catch (RuntimeException e) {
      // An object stored before validation caught its mistake (a malformed quantity) must not stop the queue.
      LOG.warning("scheduler: pod " + Meta.namespace(obj) + "/" + Meta.name(obj) + " cannot be read: "
          + e.getMessage());
      return null;
    }
  }


  private void moveOn(ClusterEvent event) {
    if (queue.unschedulableSize() == 0) return;
    if (queue.onEvent(event, System.currentTimeMillis(), pluginEvents::get) > 0) kick();
  }

  private void flush() {
    long now = System.currentTimeMillis();
    queue.flushUnschedulableLeftover(now);
    if (queue.hasActive(now)) kick();
  }

  // ---- scheduling ----

  private void kick() {
    if (drainScheduled || !leading) return;
    drainScheduled = true;
    vertx.runOnContext(v -> drain());
  }

  private void drain() {
    drainScheduled = false;
    if (!leading) return;
    long until = System.nanoTime() + SLICE_NANOS;
    while (bindsInFlight < MAX_BINDS_IN_FLIGHT && System.nanoTime() < until) {
      SchedulingQueue.Entry e = queue.pop(System.currentTimeMillis());
      if (e == null) return;
      scheduleOne(e);
    }
    if (bindsInFlight < MAX_BINDS_IN_FLIGHT) kick();
  }

  private void scheduleOne(SchedulingQueue.Entry e) {
    PodInfo pod = e.pod();
    Framework fw = profiles.get(pod.spec().getSchedulerName() == null ? "default-scheduler"
        : pod.spec().getSchedulerName());
    if (fw == null || cache.placed(pod.key())) {
      queue.done(pod.key());
      return;
    }
    long start = System.nanoTime();
    Snapshot snapshot = cache.snapshot(listers);
    if (!nominator.isEmpty()) snapshot.withNominated(nominator.view());
    Scheduler.Result r;
    try {
      r = scheduler.schedule(fw, pod, snapshot);
    } catch (RuntimeException ex) {
      LOG.warning("scheduler: " + pod.key() + " failed: " + ex);
      r = new Scheduler.Result(null, "scheduling failed: " + ex.getMessage(), Set.of(), null, List.of(),
          new CycleState(), 0, 0);
      record(fw, "error", start);
      queue.backoff(e, System.currentTimeMillis());
      return;
    }
    if (!r.scheduled()) {
      record(fw, "unschedulable", start);
      queue.unschedulable(e, r.rejectors(), System.currentTimeMillis());
      LOG.info("scheduler: " + pod.key() + " unschedulable: " + r.message());
      if (r.nominatedNode() != null) {
        preempt(pod, r);
      } else if (nominator.nodeOf(pod.key()) != null) {
        // Preemption found nothing this time: the room kept on the nominated node is given back, as kube-scheduler
        // clears status.nominatedNodeName.
        nominator.remove(pod.key());
        cluster.nominate(pod.namespace(), pod.name(), null);
      }
      markUnschedulable(pod, fw, r.message());
      return;
    }
    String node = r.node();
    CycleState state = r.state();
    Status reserved = fw.runReserve(state, pod, node);
    Status permit = reserved.isSuccess() ? fw.runPermit(state, pod, node) : reserved;
    if (!permit.isSuccess()) {
      fw.runUnreserve(state, pod, node);
      record(fw, permit.isRejected() ? "unschedulable" : "error", start);
      if (permit.isRejected()) queue.unschedulable(e, Set.of(permit.plugin()), System.currentTimeMillis());
      else queue.backoff(e, System.currentTimeMillis());
      return;
    }
    cache.assume(pod, node);
    JsonObject scheduledFrom = pendingObjects.get(pod.key());
    if (scheduledFrom != null) assumedObjects.put(pod.key(), scheduledFrom);
    nominator.remove(pod.key()); // now counted on the node itself
    record(fw, "scheduled", start);
    bindsInFlight++;
    Future.fromCompletionStage(fw.runPreBindAndBind(state, pod, node, cluster), vertx.getOrCreateContext())
        .onComplete(ar -> {
          bindsInFlight--;
          Status s = ar.succeeded() ? ar.result() : null;
          if (s != null && s.isSuccess()) {
            queue.done(pod.key());
            pending.remove(pod.key());
            pendingObjects.remove(pod.key());
            nominator.remove(pod.key());
            event(pod, fw, "Normal", "Scheduled", "Successfully assigned " + pod.key() + " to " + node);
          } else {
            cache.forget(pod.key());
            assumedObjects.remove(pod.key());
            fw.runUnreserve(state, pod, node);
            Throwable cause = ar.failed() ? ar.cause() : null;
            if (cause != null && ApiError.is(unwrap(cause), ApiError.Reason.NotFound)) {
              queue.done(pod.key());
            } else if (cause != null && ApiError.is(unwrap(cause), ApiError.Reason.Conflict)) {
              // Someone else bound it; the pod watch will say where.
              queue.done(pod.key());
            } else {
              count(fw, "error");
              LOG.warning("scheduler: binding " + pod.key() + " to " + node + " failed: "
                  + (cause != null ? unwrap(cause).getMessage() : s.message()));
              queue.backoff(e, System.currentTimeMillis());
            }
          }
          kick();
        });
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof java.util.concurrent.CompletionException) && t.getCause() != null) t = t.getCause();
    return t;
  }

  private void preempt(PodInfo pod, Scheduler.Result r) {
    LOG.info("scheduler: " + pod.key() + " preempts " + r.victims() + " on " + r.nominatedNode());
    for (PodInfo v : r.victims()) {
      cluster.evict(v.namespace(), v.name(), "Preempted by pod " + pod.uid() + " on node " + r.nominatedNode());
      event(v, null, "Normal", "Preempted", "Preempted by pod " + pod.uid() + " on node " + r.nominatedNode());
    }
    nominator.nominate(pod, r.nominatedNode());
    cluster.nominate(pod.namespace(), pod.name(), r.nominatedNode());
  }

  // ---- writes ----

  private final class ApiCluster implements Cluster {
    @Override
    public CompletionStage<Void> bind(String namespace, String pod, String node) {
      return client.bind(namespace, pod, node).<Void>mapEmpty().toCompletionStage();
    }

    @Override
    public CompletionStage<Void> evict(String namespace, String pod, String reason) {
      return client.deleteDisrupted(namespace, pod, "PreemptionByScheduler", "Kubernetes default scheduler: "
              + "preempting to accommodate a higher priority pod", new JsonObject()).<Void>mapEmpty()
          .onFailure(e -> LOG.warning("scheduler: evicting " + namespace + "/" + pod + " failed: " + e.getMessage()))
          .toCompletionStage();
    }

    @Override
    public CompletionStage<Void> nominate(String namespace, String pod, String node) {
      return client.mergePatch(Resources.PODS, namespace, pod, "status",
          new JsonObject().put("status", new JsonObject().put("nominatedNodeName", node))).<Void>mapEmpty()
          .toCompletionStage();
    }

    @Override
    public CompletionStage<Void> selectNodeForClaim(String namespace, String claim, String node) {
      return client.mergePatch(Resources.builtIn("", "persistentvolumeclaims"), namespace, claim, null,
          new JsonObject().put("metadata", new JsonObject().put("annotations", new JsonObject()
              .put("volume.kubernetes.io/selected-node", node)))).<Void>mapEmpty().toCompletionStage();
    }
  }

  private void markUnschedulable(PodInfo pod, Framework fw, String message) {
    JsonObject condition = new JsonObject().put("type", "PodScheduled").put("status", "False")
        .put("reason", "Unschedulable").put("message", message).put("lastTransitionTime", Meta.now());
    JsonArray conditions = new JsonArray().add(condition);
    var status = pod.pod().getStatus();
    if (status != null && status.getConditions() != null) {
      for (var c : status.getConditions()) {
        if ("PodScheduled".equals(c.getType())) {
          if (message.equals(c.getMessage())) return; // nothing new to say
        } else {
          conditions.add(JsonObject.mapFrom(Map.of("type", c.getType(), "status", c.getStatus())));
        }
      }
    }
    client.mergePatch(Resources.PODS, pod.namespace(), pod.name(), "status",
        new JsonObject().put("status", new JsonObject().put("conditions", conditions)));
    event(pod, fw, "Warning", "FailedScheduling", message);
  }

  private void event(PodInfo pod, Framework fw, String type, String reason, String message) {
    String component = fw == null ? "default-scheduler" : fw.schedulerName();
    JsonObject about = new JsonObject().put("kind", "Pod").put("apiVersion", "v1").put("metadata", new JsonObject()
        .put("name", pod.name()).put("namespace", pod.namespace()).put("uid", pod.uid()));
    new EventRecorder(client, component).record(about, type, reason, message);
  }

  // ---- listers ----

  private final class ObjectListers implements Listers {
    @Override
    public PersistentVolumeClaim pvc(String namespace, String name) {
      return (PersistentVolumeClaim) objects.getOrDefault("persistentvolumeclaims", Map.of()).get(namespace + "/" + name);
    }

    @Override
    public PersistentVolume pv(String name) {
      return (PersistentVolume) objects.getOrDefault("persistentvolumes", Map.of()).get("/" + name);
    }

    @Override
    public List<PersistentVolume> pvs() {
      List<PersistentVolume> out = new ArrayList<>();
      for (Object o : objects.getOrDefault("persistentvolumes", Map.of()).values()) out.add((PersistentVolume) o);
      return out;
    }

    @Override
    public io.fabric8.kubernetes.api.model.storage.StorageClass storageClass(String name) {
      return (io.fabric8.kubernetes.api.model.storage.StorageClass) objects.getOrDefault("storageclasses", Map.of())
          .get("/" + name);
    }

    @Override
    public Map<String, String> namespaceLabels(String namespace) {
      Object ns = objects.getOrDefault("namespaces", Map.of()).get("/" + namespace);
      return ns == null ? Map.of() : Meta.labels((JsonObject) ns);
    }

    @Override
    public List<PodDisruptionBudget> pdbs(String namespace) {
      List<PodDisruptionBudget> out = new ArrayList<>();
      for (Map.Entry<String, Object> e : objects.getOrDefault("poddisruptionbudgets", Map.of()).entrySet()) {
        if (e.getKey().startsWith(namespace + "/")) out.add((PodDisruptionBudget) e.getValue());
      }
      return out;
    }

    @Override
    public List<LabelSelector> spreadSelectors(PodInfo pod) {
      List<LabelSelector> out = new ArrayList<>();
      String prefix = pod.namespace() + "/";
      for (String kind : SPREAD_KINDS) {
        for (Map.Entry<String, LabelSelector> e : selectors.getOrDefault(kind, Map.of()).entrySet()) {
          if (e.getKey().startsWith(prefix)) addIfMatches(out, e.getValue(), pod);
        }
      }
      return out;
    }

    private void addIfMatches(List<LabelSelector> out, LabelSelector sel, PodInfo pod) {
      if (io.kvx.scheduler.framework.Selectors.matches(sel, pod.labels())) out.add(sel);
    }
  }

  // ---- metrics ----

  private void registerGauges() {
    Gauge.builder("scheduler_pending_pods", queue, q -> q.activeSize()).tag("queue", "active").register(meters);
    Gauge.builder("scheduler_pending_pods", queue, q -> q.backoffSize()).tag("queue", "backoff").register(meters);
    Gauge.builder("scheduler_pending_pods", queue, q -> q.unschedulableSize()).tag("queue", "unschedulable")
        .register(meters);
    Gauge.builder("scheduler_pending_pods", queue, q -> 0).tag("queue", "gated").register(meters);
  }

  private void record(Framework fw, String result, long startNanos) {
    count(fw, result);
    // Looked up by profile, then by result (constant strings): no key built per attempt.
    timers.computeIfAbsent(fw, f -> new HashMap<>()).computeIfAbsent(result, k -> Timer
        .builder("scheduler_scheduling_attempt_duration_seconds").tag("result", result)
        .tag("profile", fw.schedulerName()).publishPercentileHistogram()
        .minimumExpectedValue(java.time.Duration.ofNanos(100_000))
        .maximumExpectedValue(java.time.Duration.ofSeconds(5)).register(meters))
        .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  private void count(Framework fw, String result) {
    counters.computeIfAbsent(fw, f -> new HashMap<>()).computeIfAbsent(result, k -> Counter
        .builder("scheduler_schedule_attempts_total").tag("result", result).tag("profile", fw.schedulerName())
        .register(meters)).increment();
  }

  private static <T> T orDefault(T v, T dflt) {
    return v != null ? v : dflt;
  }
}
