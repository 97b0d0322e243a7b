package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Resources;
import io.kvx.store.Store;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * v1 ComponentStatus (`kubectl get componentstatuses`), deprecated in Kubernetes since 1.19 but still
 * served: computed on request, never stored. The scheduler and the controller manager are Healthy
 * while their leader Lease is renewed in time; etcd-0 stands for kvx's store and is Healthy when it
 * answers a read.
 */
final class ComponentStatuses {

  static final String DEPRECATED = "v1 ComponentStatus is deprecated in v1.19+";
  private static final List<String> LEADERS = List.of("scheduler:kube-scheduler",
      "controller-manager:kube-controller-manager");

  private final Store store;

  ComponentStatuses(Store store) {
    this.store = store;
  }

  Future<JsonObject> handle(ApiRequest r) {
    if (!r.verb().equals("get") && !r.verb().equals("list")) {
      return Future.failedFuture(ApiError.methodNotAllowed());
    }
    r.warnings().add(DEPRECATED);
    List<Future<JsonObject>> checks = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (String c : LEADERS) {
      String name = c.substring(0, c.indexOf(':'));
      String lease = c.substring(c.indexOf(':') + 1);
      checks.add(store.get(Resources.LEASES.key("kube-system", lease))
          .map(l -> status(name, leaseProblem(l, now)))
          .otherwise(e -> status(name, "the store did not answer: " + e.getMessage())));
    }
    checks.add(store.get(Resources.NAMESPACES.key(null, "default")).map(ns -> status("etcd-0", null))
        .otherwise(e -> status("etcd-0", "the store did not answer: " + e.getMessage())));
    return Future.all(checks).map(all -> {
      List<JsonObject> items = new ArrayList<>();
      for (Future<JsonObject> f : checks) items.add(f.result());
      if (r.verb().equals("get")) {
        return items.stream().filter(i -> i.getJsonObject("metadata").getString("name").equals(r.name())).findFirst()
            .orElseThrow(() -> ApiError.notFound("", "componentstatuses", r.name()));
      }
      return new JsonObject().put("kind", "ComponentStatusList").put("apiVersion", "v1")
          .put("metadata", new JsonObject()).put("items", new JsonArray(new ArrayList<>(items)));
    });
  }

  /** Why a leader Lease says its component is not healthy, or null when it is renewed in time. Pure. */
  static String leaseProblem(JsonObject lease, long nowMs) {
    if (lease == null) return "no leader has taken its Lease";
    JsonObject spec = lease.getJsonObject("spec", new JsonObject());
    String renew = spec.getString("renewTime");
    if (renew == null) return "its Lease was never renewed";
    long expires = Instant.parse(renew).toEpochMilli() + spec.getInteger("leaseDurationSeconds", 15) * 1000L;
    return expires >= nowMs ? null : "its leader Lease expired at " + Instant.ofEpochMilli(expires);
  }

  /** A ComponentStatus: Healthy "ok", or Unhealthy with the error. Pure. */
  static JsonObject status(String name, String error) {
    JsonObject condition = new JsonObject().put("type", "Healthy").put("status", error == null ? "True" : "False");
    if (error == null) condition.put("message", "ok");
    else condition.put("error", error);
    return new JsonObject().put("kind", "ComponentStatus").put("apiVersion", "v1")
        .put("metadata", new JsonObject().put("name", name)).put("conditions", new JsonArray().add(condition));
  }
}
