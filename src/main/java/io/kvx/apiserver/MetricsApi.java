package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.kvx.bus.Addresses;
import io.kvx.store.Store;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * metrics.k8s.io/v1beta1, as metrics-server serves it for `kubectl top`: NodeMetrics and PodMetrics
 * computed on request from each node agent's cgroup readings (asked over the bus), never stored.
 */
final class MetricsApi {

  private static final long NODE_TIMEOUT_MS = 5000;

  private final Vertx vertx;
  private final Store store;

  MetricsApi(Vertx vertx, Store store) {
    this.vertx = vertx;
    this.store = store;
  }

  Future<JsonObject> handle(ApiRequest r) {
    if (!r.verb().equals("get") && !r.verb().equals("list")) {
      return Future.failedFuture(ApiError.methodNotAllowed());
    }
    LabelSelector selector = LabelSelector.parse(r.param("labelSelector"));
    return store.list(Resources.NODES.storePrefix(), o -> true, 0, null).compose(nodes -> {
      List<Future<JsonObject>> asks = new ArrayList<>();
      for (JsonObject node : nodes.items()) {
        asks.add(nodeStats(vertx, Meta.name(node)).map(s -> s.put("nodeName", Meta.name(node))
            .put("labels", Meta.meta(node).getJsonObject("labels", new JsonObject())))
            .otherwise((JsonObject) null));
      }
      return Future.join(asks).transform(ar -> {
        List<JsonObject> items = new ArrayList<>();
        String now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        for (Future<JsonObject> f : asks) {
          JsonObject s = f.result();
          if (s == null) continue;
          if (r.type().plural().equals("nodes")) {
            if (!selector.matches(Meta.stringMap(s.getJsonObject("labels")))) continue;
            items.add(new JsonObject().put("kind", "NodeMetrics").put("apiVersion", "metrics.k8s.io/v1beta1")
                .put("metadata", new JsonObject().put("name", s.getString("nodeName"))
                    .put("labels", s.getJsonObject("labels")).put("creationTimestamp", now))
                .put("timestamp", now).put("window", "10s").put("usage", usage(s.getJsonObject("node"))));
          } else {
            for (Object o : s.getJsonArray("pods", new JsonArray())) {
              JsonObject p = (JsonObject) o;
              if (r.namespace() != null && !r.namespace().equals(p.getString("namespace"))) continue;
              JsonArray containers = new JsonArray();
              for (Object c : p.getJsonArray("containers")) {
                JsonObject cu = (JsonObject) c;
                containers.add(new JsonObject().put("name", cu.getString("name")).put("usage", usage(cu)));
              }
              items.add(new JsonObject().put("kind", "PodMetrics").put("apiVersion", "metrics.k8s.io/v1beta1")
                  .put("metadata", new JsonObject().put("name", p.getString("name"))
                      .put("namespace", p.getString("namespace")).put("creationTimestamp", now))
                  .put("timestamp", now).put("window", "10s").put("containers", containers));
            }
          }
        }
        if (r.type().plural().equals("pods") && !selector.isEmpty()) {
          return filterPodsByLabels(r, items, selector);
        }
        return Future.succeededFuture(reply(r, items));
      });
    });
  }

  private Future<JsonObject> filterPodsByLabels(ApiRequest r, List<JsonObject> items, LabelSelector selector) {
    String prefix = r.namespace() == null ? Resources.PODS.storePrefix() : Resources.PODS.storePrefix() + r.namespace()
        + "/";
    return store.list(prefix, o -> selector.matches(Meta.labels(o)), 0, null).map(pods -> {
      List<String> keys = pods.items().stream().map(p -> Meta.namespace(p) + "/" + Meta.name(p)).toList();
      return reply(r, items.stream().filter(i -> keys.contains(Meta.namespace(i) + "/" + Meta.name(i))).toList());
    });
  }

  /** One node agent's CPU and memory readings (its own and its pods'), asked over the bus. */
  static Future<JsonObject> nodeStats(Vertx vertx, String node) {
    return vertx.eventBus().<JsonObject>request(Addresses.nodeStats(node), new JsonObject(),
        new DeliveryOptions().setSendTimeout(NODE_TIMEOUT_MS)).map(Message::body);
  }

  private static JsonObject reply(ApiRequest r, List<JsonObject> items) {
    if (r.verb().equals("get")) {
      for (JsonObject i : items) {
        if (Meta.name(i).equals(r.name())) return i;
      }
      throw ApiError.notFound(Resources.METRICS_GROUP, r.type().plural(), r.name());
    }
    String kind = r.type().kind() + "List";
    return new JsonObject().put("kind", kind).put("apiVersion", "metrics.k8s.io/v1beta1")
        .put("metadata", new JsonObject()).put("items", new JsonArray(new ArrayList<>(items)));
  }

  private static JsonObject usage(JsonObject u) {
    return new JsonObject().put("cpu", u.getLong("cpu", 0L) + "n").put("memory", (u.getLong("memory", 0L) / 1024) + "Ki");
  }
}
