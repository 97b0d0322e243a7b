package io.kvx.controller.rbac;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.client.ApiClient;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.kvx.rbac.Aggregation;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.function.Consumer;

/**
 * kube-controller-manager's clusterrole-aggregation controller: a ClusterRole with an aggregationRule gets the
 * rules of every ClusterRole its selectors match, kept in step as those change (admin, edit and view take in
 * the system:aggregate-to-* roles and any user role labelled rbac.authorization.k8s.io/aggregate-to-view etc.).
 */
public final class ClusterRoleAggregationReconciler implements Reconciler {

  private final Cache clusterRoles;
  private final ApiClient client;

  public ClusterRoleAggregationReconciler(Cache clusterRoles, ApiClient client, Consumer<String> enqueue) {
    this.clusterRoles = clusterRoles;
    this.client = client;
    // Any change may change what an aggregated role selects: look at each of them (there are few).
    clusterRoles.listen(c -> {
      for (JsonObject role : clusterRoles.all()) {
        if (role.containsKey("aggregationRule") && role.getValue("aggregationRule") != null) {
          enqueue.accept(Meta.name(role));
        }
      }
    });
  }

  @Override
  public String name() {
    return "clusterrole-aggregation";
  }

  @Override
  public Future<Result> reconcile(String name) {
    JsonObject role = clusterRoles.get(name);
    if (role == null || role.getJsonObject("aggregationRule") == null) return Future.succeededFuture(Result.DONE);
    JsonArray rules = Aggregation.rules(role, clusterRoles.all());
    if (rules.equals(role.getJsonArray("rules", new JsonArray()))) return Future.succeededFuture(Result.DONE);
    JsonObject updated = role.copy().put("rules", rules);
    return client.update(clusterRoles.type(), null, name, updated).map(Result.DONE)
        .recover(e -> ApiError.is(e, ApiError.Reason.NotFound) ? Future.succeededFuture(Result.DONE)
            : Future.failedFuture(e));
  }
}
