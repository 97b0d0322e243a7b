package io.kvx.controller.podautoscaler;

import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.kvx.api.Quantities;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.bus.Addresses;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.kvx.controller.Workloads;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The horizontal pod autoscaler (autoscaling/v2): every sync period it reads the target's pods' CPU
 * and memory usage from their nodes (as metrics-server would), compares the average utilization of
 * their requests with the target, and sets the target's scale. Status carries the current metrics.
 */
public final class HorizontalPodAutoscalerReconciler implements Reconciler {

  private static final long SYNC_MS = 15_000;

  private final Vertx vertx;
  private final Cache hpas;
  private final Cache pods;
  private final ApiClient client;
  private final EventRecorder events;

  public HorizontalPodAutoscalerReconciler(Vertx vertx, Cache hpas, Cache pods, ApiClient client,
                                            EventRecorder events, Consumer<String> enqueue) {
    this.vertx = vertx;
    this.hpas = hpas;
    this.pods = pods;
    this.client = client;
    this.events = events;
    hpas.listen(c -> enqueue.accept(Cache.key(c.object())));
  }

  @Override
  public String name() {
    return "horizontalpodautoscaler";
  }

  private static ResourceType targetType(String kind) {
    return switch (kind) {
      case "Deployment" -> Resources.builtIn("apps", "deployments");
      case "ReplicaSet" -> Resources.builtIn("apps", "replicasets");
      case "StatefulSet" -> Resources.builtIn("apps", "statefulsets");
      case "ReplicationController" -> Resources.builtIn("", "replicationcontrollers");
      default -> null;
    };
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject hpa = hpas.get(key);
    if (hpa == null) return Future.succeededFuture(Result.DONE);
    String ns = Meta.namespace(hpa);
    JsonObject spec = hpa.getJsonObject("spec", new JsonObject());
    JsonObject ref = spec.getJsonObject("scaleTargetRef", new JsonObject());
    ResourceType type = targetType(ref.getString("kind", ""));
    if (type == null) return Future.succeededFuture(Result.after(SYNC_MS));
    int min = spec.getInteger("minReplicas", 1);
    int max = spec.getInteger("maxReplicas", min);
    return client.get(type, ns, ref.getString("name")).compose(target -> {
      int current = target.getJsonObject("spec", new JsonObject()).getInteger("replicas", 1);
      Object sel = target.getJsonObject("spec", new JsonObject()).getValue("selector");
      LabelSelector selector = !(sel instanceof JsonObject s) ? LabelSelector.EVERYTHING
          : type.kind().equals("ReplicationController") ? LabelSelector.fromMatchLabels(s) : LabelSelector.fromJson(s);
      List<JsonObject> selected = pods.list(ns).stream().filter(p -> selector.matches(Meta.labels(p))
          && Workloads.isActive(p) && p.getJsonObject("spec", new JsonObject()).getString("nodeName") != null).toList();
      return usage(selected).compose(usage -> {
        JsonArray currentMetrics = new JsonArray();
        // Each metric proposes a size; the largest wins, as in Kubernetes.
        List<Integer> proposals = new ArrayList<>();
        for (Object o : spec.getJsonArray("metrics", defaultMetrics())) {
          JsonObject m = (JsonObject) o;
          if (!"Resource".equals(m.getString("type"))) continue;
          JsonObject res = m.getJsonObject("resource", new JsonObject());
          String name = res.getString("name", "cpu");
          Integer targetUtil = res.getJsonObject("target", new JsonObject()).getInteger("averageUtilization");
          long requested = 0;
          long used = 0;
          for (JsonObject p : selected) {
            requested += requests(p, name);
            used += usage.getOrDefault(Meta.namespace(p) + "/" + Meta.name(p), Map.of()).getOrDefault(name, 0L);
          }
          if (targetUtil == null || requested == 0 || selected.isEmpty()) continue;
          int utilization = (int) Math.round(used * 100.0 / requested);
          String average = name.equals("cpu") ? (used / selected.size()) + "m" : (used / selected.size()) + "";
          currentMetrics.add(new JsonObject().put("type", "Resource").put("resource", new JsonObject()
              .put("name", name).put("current", new JsonObject().put("averageUtilization", utilization)
                  .put("averageValue", average))));
          proposals.add(Autoscaling.desired(current, utilization, targetUtil, min, max));
        }
        int desired = Math.max(min, Math.min(max, proposals.stream().max(Integer::compare).orElse(current)));
        JsonObject status = new JsonObject().put("currentReplicas", current).put("desiredReplicas", desired)
            .put("currentMetrics", currentMetrics)
            .put("observedGeneration", Meta.meta(hpa).getLong("generation", 1L));
        JsonObject old = hpa.getJsonObject("status", new JsonObject());
        if (old.getString("lastScaleTime") != null) status.put("lastScaleTime", old.getString("lastScaleTime"));
        Future<?> scaled = Future.succeededFuture();
        if (desired != current) {
          int to = desired;
          status.put("lastScaleTime", Meta.now());
          scaled = client.mergePatch(type, ns, ref.getString("name"), "scale", new JsonObject().put("spec",
              new JsonObject().put("replicas", to))).onSuccess(x -> events.normal(hpa, "SuccessfulRescale",
              "New size: " + to + "; reason: " + (to > current ? "cpu resource utilization (percentage of request) "
                  + "above target" : "All metrics below target")));
        }
        status.put("conditions", new JsonArray().add(new JsonObject().put("type", "AbleToScale").put("status", "True")
            .put("reason", "ReadyForNewScale").put("lastTransitionTime", Meta.now())));
        return scaled.compose(x -> client.mergePatch(Resources.builtIn("autoscaling", "horizontalpodautoscalers"), ns,
            Meta.name(hpa), "status", new JsonObject().put("status", status)));
      });
    }).map(Result.after(SYNC_MS));
  }

  private static JsonArray defaultMetrics() {
    return new JsonArray().add(new JsonObject().put("type", "Resource").put("resource", new JsonObject()
        .put("name", "cpu").put("target", new JsonObject().put("type", "Utilization").put("averageUtilization", 80))));
  }

  private static long requests(JsonObject pod, String resource) {
    long sum = 0;
    for (Object o : pod.getJsonObject("spec", new JsonObject()).getJsonArray("containers", new JsonArray())) {
      Object v = ((JsonObject) o).getJsonObject("resources", new JsonObject()).getJsonObject("requests",
          new JsonObject()).getValue(resource);
      if (v != null) sum += resource.equals("cpu") ? Quantities.milli(String.valueOf(v)) : Quantities.bytes(String.valueOf(v));
    }
    return sum;
  }

  /** "ns/pod" → {cpu: millicores, memory: bytes}, asked from the nodes the pods run on. */
  private Future<Map<String, Map<String, Long>>> usage(List<JsonObject> selected) {
    Set<String> nodes = new HashSet<>();
    for (JsonObject p : selected) nodes.add(p.getJsonObject("spec").getString("nodeName"));
    Map<String, Map<String, Long>> out = new HashMap<>();
    List<Future<?>> asks = new ArrayList<>();
    for (String node : nodes) {
      asks.add(vertx.eventBus().<JsonObject>request(Addresses.nodeStats(node), new JsonObject(),
          new DeliveryOptions().setSendTimeout(5000)).onSuccess(m -> {
            for (Object o : m.body().getJsonArray("pods", new JsonArray())) {
              JsonObject p = (JsonObject) o;
              long cpu = 0;
              long mem = 0;
              for (Object c : p.getJsonArray("containers", new JsonArray())) {
                cpu += ((JsonObject) c).getLong("cpu", 0L) / 1_000_000;
                mem += ((JsonObject) c).getLong("memory", 0L);
              }
              out.put(p.getString("namespace") + "/" + p.getString("name"), Map.of("cpu", cpu, "memory", mem));
            }
          }));
    }
    return Future.join(asks).transform(ar -> Future.succeededFuture(out));
  }
}
