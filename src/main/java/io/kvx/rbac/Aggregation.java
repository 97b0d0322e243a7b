package io.kvx.rbac;

import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * What kube-controller-manager's clusterrole-aggregation controller computes: the rules of a ClusterRole with an
 * aggregationRule are those of every other ClusterRole any of its clusterRoleSelectors matches, in name order,
 * each rule once.
 */
public final class Aggregation {

  private Aggregation() {
  }

  public static JsonArray rules(JsonObject aggregated, Collection<JsonObject> clusterRoles) {
    JsonArray selectors = aggregated.getJsonObject("aggregationRule", new JsonObject())
        .getJsonArray("clusterRoleSelectors", new JsonArray());
    List<LabelSelector> parsed = new ArrayList<>();
    for (int i = 0; i < selectors.size(); i++) parsed.add(LabelSelector.fromJson(selectors.getJsonObject(i)));
    List<JsonObject> sorted = new ArrayList<>(clusterRoles);
    sorted.sort(Comparator.comparing(Meta::name));
    JsonArray out = new JsonArray();
    String self = Meta.name(aggregated);
    for (JsonObject role : sorted) {
      if (Meta.name(role).equals(self)) continue;
      boolean selected = false;
      for (LabelSelector s : parsed) {
        if (!s.isEmpty() && s.matches(Meta.labels(role))) {
          selected = true;
          break;
        }
      }
      if (!selected) continue;
      for (Object r : role.getJsonArray("rules", new JsonArray())) {
        if (!out.contains(r)) out.add(r);
      }
    }
    return out;
  }
}
