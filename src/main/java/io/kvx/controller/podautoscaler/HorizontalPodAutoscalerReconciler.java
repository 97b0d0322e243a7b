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
 * The horizontal pod autoscaler (autoscaling/v2): every sync period (15 s, as kube-controller-manager's
 * --horizontal-pod-autoscaler-sync-period) it reads the target's pods' CPU and memory usage from their
 * nodes (as metrics-server would), lets {@link Autoscaling} propose a size per metric (the largest wins),
 * stabilises and rate-limits it by spec.behavior, sets the target's scale, and writes status with
 * currentMetrics and the AbleToScale, ScalingActive and ScalingLimited conditions. Recommendation and
 * scale-event history is kept in memory, as Kubernetes keeps it.
 */
public final class HorizontalPodAutoscalerReconciler implements Reconciler {

  private final Vertx vertx;
  private final Cache hpas;
  private final Cache pods;
  private final ApiClient client;
  private final EventRecorder events;
  private final long syncMs;
  private final Map<String, List<Autoscaling.Point>> recommendations = new HashMap<>();
  private final Map<String, List<Autoscaling.Point>> changes = new HashMap<>();

  public HorizontalPodAutoscalerReconciler(Vertx vertx, Cache hpas, Cache pods, ApiClient client,
                                            EventRecorder events, long syncMs, Consumer<String> enqueue) {
    this.vertx = vertx;
    this.hpas = hpas;
    this.pods = pods;
    this.client = client;
    this.events = events;
    this.syncMs = syncMs;
    // New HPAs and spec changes sync at once; the controller's own status writes don't (the period does).
    hpas.listen(c -> {
      if (c.old() == null || c.current() == null || !Meta.meta(c.old()).getValue("generation", 0)
          .equals(Meta.meta(c.current()).getValue("generation", 0))) {
        enqueue.accept(Cache.key(c.object()));
      }
      if (c.current() == null) {
        recommendations.remove(Cache.key(c.object()));
        changes.remove(Cache.key(c.object()));
      }
    });
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
    JsonObject old = hpa.getJsonObject("status", new JsonObject());
    if (type == null) {
      return writeStatus(hpa, old.copy().put("conditions", conditions(old, condition("AbleToScale", "False",
          "FailedGetScale", "the HPA controller was unable to get the target's current scale: no scale subresource "
              + "known for kind \"" + ref.getString("kind", "") + "\"")))).map(Result.after(syncMs));
    }
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
        List<Integer> proposals = new ArrayList<>();
        String invalid = null;
        String valid = null;
        for (Object o : spec.getJsonArray("metrics", defaultMetrics())) {
          JsonObject m = (JsonObject) o;
          if (!"Resource".equals(m.getString("type"))) {
            invalid = "the HPA was unable to compute the replica count: kvx serves no " + m.getString("type")
                + " metrics API (only Resource metrics from the nodes)";
            continue;
          }
          JsonObject res = m.getJsonObject("resource", new JsonObject());
          String name = res.getString("name", "cpu");
          JsonObject tgt = res.getJsonObject("target", new JsonObject());
          Integer targetUtil = tgt.getInteger("averageUtilization");
          Object targetValue = tgt.getValue("averageValue");
          List<Autoscaling.Sample> samples = new ArrayList<>();
          for (JsonObject p : selected) {
            long request = requests(p, name);
            if (targetUtil != null && request == 0) {
              samples = null;
              invalid = "the HPA was unable to compute the replica count: failed to get " + name
                  + " utilization: missing request for " + name + " in container of pod " + Meta.name(p);
              break;
            }
            long due = targetUtil != null ? request * targetUtil / 100 : amount(name, targetValue);
            long fallback = targetUtil != null ? request * Math.max(100, targetUtil) / 100 : due;
            Long used = usage.getOrDefault(Meta.namespace(p) + "/" + Meta.name(p), Map.of()).get(name);
            samples.add(new Autoscaling.Sample(due, fallback, used, !name.equals("cpu") || Workloads.isReady(p)));
          }
          if (samples == null || (targetUtil == null && targetValue == null)) continue;
          Autoscaling.Proposal pr = Autoscaling.propose(current, samples);
          if (!pr.valid()) {
            invalid = "the HPA was unable to compute the replica count: failed to get " + name + " utilization: "
                + "did not receive metrics for targeted pods (pods might be unready)";
            continue;
          }
          JsonObject cur = new JsonObject().put("averageValue", name.equals("cpu") ? pr.averageUsage() + "m"
              : String.valueOf(pr.averageUsage()));
          if (targetUtil != null) cur.put("averageUtilization", (int) Math.round(pr.measured() * targetUtil));
          currentMetrics.add(new JsonObject().put("type", "Resource").put("resource", new JsonObject()
              .put("name", name).put("current", cur)));
          proposals.add(pr.replicas());
          valid = "the HPA was able to successfully calculate a replica count from " + name + " resource "
              + (targetUtil != null ? "utilization (percentage of request)" : "");
        }
        JsonObject status = new JsonObject().put("currentReplicas", current)
            .put("currentMetrics", currentMetrics)
            .put("observedGeneration", Meta.meta(hpa).getLong("generation", 1L));
        if (old.getString("lastScaleTime") != null) status.put("lastScaleTime", old.getString("lastScaleTime"));
        if (proposals.isEmpty()) {
          status.put("desiredReplicas", current).put("conditions", conditions(old,
              condition("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's "
                  + "current scale"),
              condition("ScalingActive", "False", "FailedGetResourceMetric", invalid == null
                  ? "the HPA was unable to compute the replica count: no metrics" : invalid)));
          return writeStatus(hpa, status);
        }
        int proposed = proposals.stream().max(Integer::compare).orElse(current);
        JsonObject behavior = spec.getJsonObject("behavior", new JsonObject());
        Autoscaling.Decision d = Autoscaling.normalize(current, proposed, min, max,
            rules(behavior.getJsonObject("scaleUp"), Autoscaling.Rules.DEFAULT_UP),
            rules(behavior.getJsonObject("scaleDown"), Autoscaling.Rules.DEFAULT_DOWN),
            recommendations.computeIfAbsent(key, k -> new ArrayList<>()),
            changes.computeIfAbsent(key, k -> new ArrayList<>()), System.currentTimeMillis());
        int desired = d.replicas();
        status.put("desiredReplicas", desired);
        JsonObject able = condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size");
        Future<?> scaled = Future.succeededFuture();
        if (desired != current) {
          status.put("lastScaleTime", Meta.now());
          able = condition("AbleToScale", "True", "SucceededRescale",
              "the HPA controller was able to update the target scale to " + desired);
          String why = desired > current ? proposalReason(currentMetrics) + " above target" : "All metrics below target";
          scaled = client.mergePatch(type, ns, ref.getString("name"), "scale", new JsonObject().put("spec",
              new JsonObject().put("replicas", desired))).onSuccess(x -> events.normal(hpa, "SuccessfulRescale",
              "New size: " + desired + "; reason: " + why));
        }
        JsonObject limited = d.limitReason() == null
            ? condition("ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range")
            : condition("ScalingLimited", "True", d.limitReason(), d.limitMessage());
        status.put("conditions", conditions(old, able,
            condition("ScalingActive", "True", "ValidMetricFound", valid), limited));
        return scaled.compose(x -> writeStatus(hpa, status));
      });
    }).map(Result.after(syncMs));
  }

  private static String proposalReason(JsonArray currentMetrics) {
    JsonObject first = currentMetrics.getJsonObject(0).getJsonObject("resource");
    return first.getString("name") + " resource " + (first.getJsonObject("current").containsKey("averageUtilization")
        ? "utilization (percentage of request)" : "");
  }

  private Future<Object> writeStatus(JsonObject hpa, JsonObject status) {
    return client.mergePatch(Resources.builtIn("autoscaling", "horizontalpodautoscalers"), Meta.namespace(hpa),
        Meta.name(hpa), "status", new JsonObject().put("status", status)).map(x -> null);
  }

  private static JsonObject condition(String type, String status, String reason, String message) {
    return new JsonObject().put("type", type).put("status", status).put("reason", reason).put("message", message);
  }

  /** New conditions, keeping each one's lastTransitionTime when its status did not change. */
  private static JsonArray conditions(JsonObject oldStatus, JsonObject... now) {
    JsonArray out = new JsonArray();
    for (JsonObject c : now) {
      String since = Meta.now();
      for (Object o : oldStatus.getJsonArray("conditions", new JsonArray())) {
        JsonObject prev = (JsonObject) o;
        if (c.getString("type").equals(prev.getString("type")) && c.getString("status").equals(prev.getString("status"))
            && prev.getString("lastTransitionTime") != null) {
          since = prev.getString("lastTransitionTime");
        }
      }
      out.add(c.copy().put("lastTransitionTime", since));
    }
    return out;
  }

  /** spec.behavior.scaleUp/scaleDown over the defaults: fields given replace the default's. */
  static Autoscaling.Rules rules(JsonObject rules, Autoscaling.Rules dflt) {
    if (rules == null) return dflt;
    List<Autoscaling.Policy> policies = dflt.policies();
    JsonArray given = rules.getJsonArray("policies");
    if (given != null) {
      policies = new ArrayList<>();
      for (Object o : given) {
        JsonObject p = (JsonObject) o;
        policies.add(new Autoscaling.Policy(p.getString("type", "Pods"), p.getInteger("value", 1),
            p.getInteger("periodSeconds", 15)));
      }
    }
    return new Autoscaling.Rules(rules.getInteger("stabilizationWindowSeconds", dflt.stabilizationSeconds()),
        rules.getString("selectPolicy", dflt.selectPolicy()), policies);
  }

  private static long amount(String resource, Object quantity) {
    if (quantity == null) return 0;
    return resource.equals("cpu") ? Quantities.milli(String.valueOf(quantity)) : Quantities.bytes(String.valueOf(quantity));
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
      sum += amount(resource, v);
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
