package io.kvx.controller.serviceaccount;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.function.Consumer;

/**
 * Every active namespace has a "default" ServiceAccount and the "kube-root-ca.crt" ConfigMap with
 * the cluster CA, as the serviceaccount and root-ca-cert-publisher controllers keep them.
 */
public final class ServiceAccountReconciler implements Reconciler {

  /** Already there, or the namespace began terminating meanwhile: nothing to do. */
  private static final java.util.function.Function<Throwable, Future<JsonObject>> EXISTS =
      ApiError.ignoring(ApiError.Reason.AlreadyExists, ApiError.Reason.Forbidden);

  private final Cache namespaces;
  private final Cache accounts;
  private final Cache configMaps;
  private final ApiClient client;
  private final String caPem;

  public ServiceAccountReconciler(Cache namespaces, Cache accounts, Cache configMaps, ApiClient client, String caPem,
                                  Consumer<String> enqueue) {
    this.namespaces = namespaces;
    this.accounts = accounts;
    this.configMaps = configMaps;
    this.client = client;
    this.caPem = caPem;
    namespaces.listen(c -> {
      if (c.current() != null) enqueue.accept(Meta.name(c.current()));
    });
    accounts.listen(c -> {
      if (c.current() == null && "default".equals(Meta.name(c.old()))) enqueue.accept(Meta.namespace(c.old()));
    });
    configMaps.listen(c -> {
      if (c.current() == null && "kube-root-ca.crt".equals(Meta.name(c.old()))) enqueue.accept(Meta.namespace(c.old()));
    });
  }

  @Override
  public String name() {
    return "serviceaccount";
  }

  @Override
  public Future<Result> reconcile(String namespace) {
    JsonObject ns = namespaces.get(namespace);
    if (ns == null || Meta.meta(ns).containsKey("deletionTimestamp")) return Future.succeededFuture(Result.DONE);
    Future<?> sa = accounts.get(namespace, "default") != null ? Future.succeededFuture()
        : client.create(Resources.builtIn("", "serviceaccounts"), namespace, new JsonObject()
            .put("metadata", new JsonObject().put("name", "default"))).recover(EXISTS);
    Future<?> cm = caPem == null || configMaps.get(namespace, "kube-root-ca.crt") != null ? Future.succeededFuture()
        : client.create(Resources.builtIn("", "configmaps"), namespace, new JsonObject()
            .put("metadata", new JsonObject().put("name", "kube-root-ca.crt"))
            .put("data", new JsonObject().put("ca.crt", caPem))).recover(EXISTS);
    return Future.all(sa, cm).map(Result.DONE);
  }

}
