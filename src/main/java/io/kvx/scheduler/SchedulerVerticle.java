package io.kvx.scheduler;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.kvx.bus.Services;
import io.kvx.client.ApiClient;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.Resource;
import io.kvx.scheduler.plugins.nodeaffinity.NodeAffinity;
import io.kvx.scheduler.plugins.nodename.NodeName;
import io.kvx.scheduler.plugins.noderesources.NodeResourcesFit;
import io.kvx.scheduler.plugins.nodeunschedulable.NodeUnschedulable;
import io.kvx.client.Informer;
import io.kvx.store.WatchEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * kube-scheduler's job: watches nodes and pods, queues pods with no node for this scheduler's name,
 * runs a {@link Scheduler} cycle per pod and binds through pods/binding. Pods that fit nowhere wait
 * in the unschedulable set until a node or pod change may have made room.
 */
public final class SchedulerVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(SchedulerVerticle.class.getName());

  private final Map<String, JsonObject> nodes = new HashMap<>();
  private final Map<String, JsonObject> pods = new HashMap<>();
  /** Pod key → node it counts against (bound or assumed). */
  private final Map<String, String> placed = new HashMap<>();
  private final ArrayDeque<String> active = new ArrayDeque<>();
  private final Set<String> queued = new LinkedHashSet<>();
  private final Set<String> unschedulable = new LinkedHashSet<>();
  private ApiClient client;
  private Scheduler scheduler;
  private String schedulerName;
  private boolean cycling;
  private Informer nodeWatch;
  private Informer podWatch;
  private MeterRegistry meters;

  @Override
  public Future<?> start() {
    Services services = Services.of(vertx);
    meters = services.metrics();
    client = new ApiClient(vertx, services.store());
    schedulerName = config().getString("schedulerName", "default-scheduler");
    NodeResourcesFit fit = new NodeResourcesFit();
    scheduler = new Scheduler(List.of(new NodeUnschedulable(), new NodeName(), new NodeAffinity(), fit),
        List.of(new Scheduler.WeightedScore(fit, 1)));
    return client.watch(Resources.NODES, o -> true, this::onNode).compose(w -> {
      nodeWatch = w;
      return client.watch(Resources.PODS, o -> true, this::onPod);
    }).onSuccess(w -> podWatch = w);
  }

  @Override
  public Future<?> stop() {
    if (nodeWatch != null) nodeWatch.stop();
    if (podWatch != null) podWatch.stop();
    return Future.succeededFuture();
  }

  private void onNode(WatchEvent ev) {
    String name = Meta.name(ev.object());
    if (ev.type().equals(WatchEvent.DELETED)) nodes.remove(name);
    else nodes.put(name, ev.object());
    retryUnschedulable();
  }

  private void onPod(WatchEvent ev) {
    JsonObject pod = ev.object();
    String key = Meta.namespace(pod) + "/" + Meta.name(pod);
    if (ev.type().equals(WatchEvent.DELETED)) {
      pods.remove(key);
      if (placed.remove(key) != null) retryUnschedulable();
      unschedulable.remove(key);
      return;
    }
    pods.put(key, pod);
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    String node = spec.getString("nodeName");
    String phase = pod.getJsonObject("status", new JsonObject()).getString("phase", "");
    if (node != null) {
      unschedulable.remove(key);
      if (phase.equals("Succeeded") || phase.equals("Failed")) {
        if (placed.remove(key) != null) retryUnschedulable();
      } else {
        placed.put(key, node);
      }
      return;
    }
    if (!schedulerName.equals(spec.getString("schedulerName", "default-scheduler"))
        || Meta.meta(pod).containsKey("deletionTimestamp")) {
      return;
    }
    if (!unschedulable.contains(key)) enqueue(key);
  }

  private void enqueue(String key) {
    if (queued.add(key)) active.add(key);
    vertx.runOnContext(v -> cycle());
  }

  private void retryUnschedulable() {
    List<String> again = List.copyOf(unschedulable);
    unschedulable.clear();
    again.forEach(this::enqueue);
  }

  private void cycle() {
    if (cycling || active.isEmpty()) return;
    String key = active.poll();
    queued.remove(key);
    JsonObject pod = pods.get(key);
    if (pod == null || pod.getJsonObject("spec").getString("nodeName") != null || placed.containsKey(key)) {
      cycle();
      return;
    }
    Scheduler.Decision d = decide(pod);
    if (d.node() == null) {
      count("unschedulable");
      unschedulable.add(key);
      LOG.info("scheduler: " + key + " unschedulable: " + d.message());
      markUnschedulable(pod, d.message());
      vertx.runOnContext(v -> cycle());
      return;
    }
    cycling = true;
    placed.put(key, d.node());
    client.bind(Meta.namespace(pod), Meta.name(pod), d.node()).onComplete(ar -> {
      cycling = false;
      if (ar.succeeded()) {
        count("scheduled");
        LOG.info("scheduler: bound " + key + " to " + d.node());
        event(pod, "Normal", "Scheduled", "Successfully assigned " + key + " to " + d.node());
      } else {
        count("error");
        placed.remove(key);
        if (!ApiError.is(ar.cause(), ApiError.Reason.NotFound, ApiError.Reason.Conflict)) {
          LOG.warning("scheduler: binding " + key + " failed: " + ar.cause().getMessage());
          vertx.setTimer(1000, t -> enqueue(key));
        }
      }
      cycle();
    });
  }

  private Scheduler.Decision decide(JsonObject pod) {
    try {
      return scheduler.schedule(pod, snapshot().values());
    } catch (RuntimeException e) {
      // An object stored before validation caught its mistake (a malformed quantity) must not stop the queue.
      return new Scheduler.Decision(null, "cannot schedule: " + e.getMessage());
    }
  }

  /** Every node with what the pods bound or assumed on it request. */
  private Map<String, NodeInfo> snapshot() {
    Map<String, NodeInfo> infos = new HashMap<>();
    nodes.forEach((n, obj) -> infos.put(n, new NodeInfo(n, obj, Resource.ofNode(obj), Resource.ZERO)));
    placed.forEach((podKey, node) -> {
      NodeInfo info = infos.get(node);
      JsonObject p = pods.get(podKey);
      if (info != null && p != null) infos.put(node, info.withPod(Resource.ofPod(p)));
    });
    return infos;
  }

  private void count(String result) {
    Counter.builder("scheduler_schedule_attempts_total").tag("result", result).tag("profile", schedulerName)
        .register(meters).increment();
  }

  private void markUnschedulable(JsonObject pod, String message) {
    JsonObject condition = new JsonObject().put("type", "PodScheduled").put("status", "False")
        .put("reason", "Unschedulable").put("message", message).put("lastTransitionTime", Meta.now());
    JsonArray conditions = new JsonArray().add(condition);
    for (Object o : pod.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      if ("PodScheduled".equals(c.getString("type"))) {
        if (message.equals(c.getString("message"))) return; // nothing new to say
      } else {
        conditions.add(c);
      }
    }
    client.mergePatch(Resources.PODS, Meta.namespace(pod), Meta.name(pod), "status",
        new JsonObject().put("status", new JsonObject().put("conditions", conditions)));
    event(pod, "Warning", "FailedScheduling", message);
  }

  private void event(JsonObject pod, String type, String reason, String message) {
    String now = Meta.now();
    JsonObject ev = new JsonObject()
        .put("metadata", new JsonObject().put("generateName", Meta.name(pod) + ".").put("namespace", Meta.namespace(pod)))
        .put("involvedObject", new JsonObject().put("kind", "Pod").put("apiVersion", "v1")
            .put("namespace", Meta.namespace(pod)).put("name", Meta.name(pod)).put("uid", Meta.uid(pod)))
        .put("reason", reason).put("message", message).put("type", type)
        .put("source", new JsonObject().put("component", schedulerName))
        .put("reportingComponent", schedulerName).put("firstTimestamp", now).put("lastTimestamp", now).put("count", 1);
    client.create(Resources.EVENTS, Meta.namespace(pod), ev);
  }
}
