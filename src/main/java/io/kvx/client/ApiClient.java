package io.kvx.client;

import io.kvx.api.ApiError;
import io.kvx.api.ResourceType;
import io.kvx.bus.Addresses;
import io.kvx.store.Store;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.function.Predicate;

/**
 * How components talk to the cluster: writes go through the API server over the event bus (so
 * validation and admission always apply), reads are list+watch of this JVM's store cache.
 */
public final class ApiClient {

  private static final long TIMEOUT_MS = 15_000;

  private final Vertx vertx;
  private final Store store;

  public ApiClient(Vertx vertx, Store store) {
    this.vertx = vertx;
    this.store = store;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Future<JsonObject> get(ResourceType type, String namespace, String name) {
    return call(type, "get", namespace, name, null, null, null);
  }

  public Future<JsonObject> create(ResourceType type, String namespace, JsonObject body) {
    return call(type, "create", namespace, null, null, body, null);
  }

  public Future<JsonObject> update(ResourceType type, String namespace, String name, JsonObject body) {
    return call(type, "update", namespace, name, null, body, null);
  }

  public Future<JsonObject> updateStatus(ResourceType type, String namespace, String name, JsonObject body) {
    return call(type, "update", namespace, name, "status", body, null);
  }

  public Future<JsonObject> mergePatch(ResourceType type, String namespace, String name, String subresource,
                                       JsonObject patch) {
    return call(type, "patch", namespace, name, subresource, patch, "application/merge-patch+json");
  }

  /**
   * Deletes a pod for a disruption as kube's controllers do: its DisruptionTarget condition first (best effort: the
   * pod may be going already), so that Jobs' podFailurePolicy and users see why it went, then the delete.
   */
  public Future<JsonObject> deleteDisrupted(String namespace, String pod, String reason, String message,
                                            JsonObject options) {
    return call(io.kvx.api.Resources.PODS, "patch", namespace, pod, "status", io.kvx.api.PodDisruption
            .disruptionTarget(reason, message, io.kvx.api.Meta.now()), "application/strategic-merge-patch+json")
        .<Object>map(x -> x).otherwise(e -> null)
        .compose(x -> delete(io.kvx.api.Resources.PODS, namespace, pod, options));
  }

  public Future<JsonObject> delete(ResourceType type, String namespace, String name, JsonObject options) {
    return call(type, "delete", namespace, name, null, options, null);
  }

  /** POST to a subresource (serviceaccounts/token, pods/eviction, ...). */
  public Future<JsonObject> createSubresource(ResourceType type, String namespace, String name, String subresource,
                                              JsonObject body) {
    return call(type, "create", namespace, name, subresource, body, null);
  }

  public Future<JsonObject> deleteCollection(ResourceType type, String namespace) {
    return call(type, "deletecollection", namespace, null, null, null, null);
  }

  /** The objects of a type in a namespace (null: all), from this JVM's store cache. */
  public Future<java.util.List<JsonObject>> list(ResourceType type, String namespace) {
    String prefix = type.namespaced() && namespace != null ? type.storePrefix() + namespace + "/" : type.storePrefix();
    return store.list(prefix, o -> true, 0, null).map(r -> r.items());
  }

  public Future<JsonObject> bind(String namespace, String pod, String node) {
    JsonObject binding = new JsonObject().put("apiVersion", "v1").put("kind", "Binding")
        .put("metadata", new JsonObject().put("name", pod).put("namespace", namespace))
        .put("target", new JsonObject().put("apiVersion", "v1").put("kind", "Node").put("name", node));
    return call(io.kvx.api.Resources.PODS, "create", namespace, pod, "binding", binding, null);
  }

  /**
   * An informer's feed: the current objects of a type as ADDED, then every change, in order, on the
   * caller's context.
   */
  public Future<Informer> watch(ResourceType type, Predicate<JsonObject> filter, Handler<WatchEvent> handler) {
    return new Informer(vertx, store, type, filter, handler).start();
  }

  private Future<JsonObject> call(ResourceType type, String verb, String namespace, String name, String sub,
                                  JsonObject body, String patchType) {
    JsonObject msg = new JsonObject().put("verb", verb).put("group", type.group()).put("version", type.version())
        .put("resource", type.plural()).put("namespace", namespace).put("name", name).put("subresource", sub)
        .put("body", body).put("patchType", patchType);
    // This JVM's own API server first: a call then never waits on a member that just died (the bus
    // keeps routing to it until the cluster notices, seconds later). Without one, any API server.
    return vertx.eventBus().<JsonObject>request(Addresses.API, msg,
            new DeliveryOptions().setSendTimeout(TIMEOUT_MS).setLocalOnly(true))
        .recover(e -> e instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS
            ? vertx.eventBus().<JsonObject>request(Addresses.API, msg, new DeliveryOptions().setSendTimeout(TIMEOUT_MS))
            : Future.failedFuture(e))
        .map(m -> m.body())
        .recover(e -> {
          ApiError carried = ApiError.fromReplyFailure(e);
          if (carried != null) return Future.failedFuture(carried);
          return Future.failedFuture(new ApiError(ApiError.Reason.ServiceUnavailable, "no API server answered: "
              + e.getMessage()));
        });
  }

}
