package io.kvx.rbac;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The default roles and bindings kube-apiserver creates at start (its RBAC bootstrap policy), the part kvx
 * serves: cluster-admin (bound to system:masters), the aggregated admin/edit/view with the
 * system:aggregate-to-* roles that fill them, system:discovery, system:basic-user, system:public-info-viewer,
 * and system:auth-delegator. Each carries rbac.authorization.kubernetes.io/autoupdate: "true"; see
 * {@link #reconcile}.
 */
public final class BootstrapPolicy {

  public static final String AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate";
  public static final String AGGREGATE_PREFIX = "rbac.authorization.k8s.io/aggregate-to-";

  private static final List<String> READ = List.of("get", "list", "watch");
  private static final List<String> WRITE = List.of("create", "delete", "deletecollection", "patch", "update");
  private static final List<String> ALL = List.of("create", "delete", "deletecollection", "get", "list", "patch",
      "update", "watch");

  private BootstrapPolicy() {
  }

  private static JsonObject rule(List<String> verbs, String group, String... resources) {
    return new JsonObject().put("verbs", new JsonArray(verbs)).put("apiGroups", new JsonArray().add(group))
        .put("resources", new JsonArray(List.of(resources)));
  }

  private static JsonObject urls(List<String> verbs, String... urls) {
    return new JsonObject().put("verbs", new JsonArray(verbs)).put("nonResourceURLs", new JsonArray(List.of(urls)));
  }

  private static JsonObject meta(String name, JsonObject labels) {
    return new JsonObject().put("name", name)
        .put("labels", labels.copy().put("kubernetes.io/bootstrapping", "rbac-defaults"))
        .put("annotations", new JsonObject().put(AUTOUPDATE, "true"));
  }

  private static JsonObject clusterRole(String name, JsonObject labels, JsonObject... rules) {
    return new JsonObject().put("apiVersion", "rbac.authorization.k8s.io/v1").put("kind", "ClusterRole")
        .put("metadata", meta(name, labels)).put("rules", new JsonArray(List.of((Object[]) rules)));
  }

  private static JsonObject aggregated(String name, JsonObject labels, String aggregateFrom) {
    return new JsonObject().put("apiVersion", "rbac.authorization.k8s.io/v1").put("kind", "ClusterRole")
        .put("metadata", meta(name, labels))
        .put("aggregationRule", new JsonObject().put("clusterRoleSelectors", new JsonArray().add(new JsonObject()
            .put("matchLabels", new JsonObject().put(AGGREGATE_PREFIX + aggregateFrom, "true")))))
        .put("rules", new JsonArray());
  }

  private static JsonObject binding(String name, String role, String... groups) {
    JsonArray subjects = new JsonArray();
    for (String g : groups) {
      subjects.add(new JsonObject().put("kind", "Group").put("apiGroup", "rbac.authorization.k8s.io").put("name", g));
    }
    return new JsonObject().put("apiVersion", "rbac.authorization.k8s.io/v1").put("kind", "ClusterRoleBinding")
        .put("metadata", meta(name, new JsonObject()))
        .put("roleRef", new JsonObject().put("apiGroup", "rbac.authorization.k8s.io").put("kind", "ClusterRole")
            .put("name", role))
        .put("subjects", subjects);
  }

  private static JsonObject label(String key) {
    return new JsonObject().put(AGGREGATE_PREFIX + key, "true");
  }

  public static List<JsonObject> clusterRoles() {
    List<JsonObject> out = new ArrayList<>();
    out.add(clusterRole("cluster-admin", new JsonObject(), rule(List.of("*"), "*", "*"), urls(List.of("*"), "*")));
    out.add(clusterRole("system:discovery", new JsonObject(), urls(List.of("get"), "/api", "/api/*", "/apis",
        "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/")));
    out.add(clusterRole("system:public-info-viewer", new JsonObject(), urls(List.of("get"), "/healthz", "/livez",
        "/readyz", "/version", "/version/")));
    out.add(clusterRole("system:basic-user", new JsonObject(),
        rule(List.of("create"), "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
        rule(List.of("create"), "authentication.k8s.io", "selfsubjectreviews")));
    out.add(clusterRole("system:auth-delegator", new JsonObject(),
        rule(List.of("create"), "authentication.k8s.io", "tokenreviews"),
        rule(List.of("create"), "authorization.k8s.io", "subjectaccessreviews")));
    out.add(clusterRole("system:monitoring", new JsonObject(), urls(List.of("get"), "/healthz", "/healthz/*",
        "/livez", "/livez/*", "/metrics", "/readyz", "/readyz/*")));
    out.add(aggregated("admin", new JsonObject(), "admin"));
    out.add(aggregated("edit", label("admin"), "edit"));
    out.add(aggregated("view", label("edit"), "view"));
    out.add(clusterRole("system:aggregate-to-view", label("view"),
        rule(READ, "", "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
            "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),
        rule(READ, "", "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
            "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"),
        rule(READ, "", "namespaces"),
        rule(READ, "discovery.k8s.io", "endpointslices"),
        rule(READ, "apps", "controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
            "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status",
            "statefulsets", "statefulsets/scale", "statefulsets/status"),
        rule(READ, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
        rule(READ, "batch", "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
        rule(READ, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
        rule(READ, "networking.k8s.io", "ingresses", "ingresses/status", "networkpolicies")));
    out.add(clusterRole("system:aggregate-to-edit", label("edit"),
        rule(List.of("impersonate"), "", "serviceaccounts"),
        rule(WRITE, "", "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"),
        rule(List.of("create"), "", "pods/eviction"),
        rule(WRITE, "", "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
            "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"),
        rule(List.of("create"), "", "serviceaccounts/token"),
        rule(WRITE, "apps", "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
            "replicasets/scale", "statefulsets", "statefulsets/scale"),
        rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
        rule(WRITE, "batch", "cronjobs", "jobs"),
        rule(WRITE, "policy", "poddisruptionbudgets"),
        rule(WRITE, "networking.k8s.io", "ingresses", "networkpolicies"),
        rule(WRITE, "discovery.k8s.io", "endpointslices"),
        rule(READ, "", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy")));
    out.add(clusterRole("system:aggregate-to-admin", label("admin"),
        rule(List.of("create"), "authorization.k8s.io", "localsubjectaccessreviews"),
        rule(ALL, "rbac.authorization.k8s.io", "rolebindings", "roles")));
    return out;
  }

  public static List<JsonObject> clusterRoleBindings() {
    return List.of(binding("cluster-admin", "cluster-admin", UserInfo.MASTERS),
        binding("system:discovery", "system:discovery", UserInfo.AUTHENTICATED),
        binding("system:basic-user", "system:basic-user", UserInfo.AUTHENTICATED),
        binding("system:public-info-viewer", "system:public-info-viewer", UserInfo.AUTHENTICATED,
            UserInfo.UNAUTHENTICATED),
        binding("system:monitoring", "system:monitoring", "system:monitoring"));
  }

  /**
   * kube's reconciliation of a default object against what the store holds: null when nothing is to be written
   * (it is there and either already covers the default or has autoupdate "false"), otherwise the object to
   * write: the stored one with the default's missing rules (or subjects, labels, annotations, aggregation
   * selectors) added. A user's additions stay; nothing is taken away.
   */
  public static JsonObject reconcile(JsonObject wanted, JsonObject stored) {
    if (stored == null) return wanted.copy();
    JsonObject meta = stored.getJsonObject("metadata", new JsonObject());
    if ("false".equals(meta.getJsonObject("annotations", new JsonObject()).getString(AUTOUPDATE))) return null;
    JsonObject out = stored.copy();
    boolean changed = false;
    JsonObject outMeta = out.getJsonObject("metadata");
    for (String part : List.of("labels", "annotations")) {
      JsonObject have = outMeta.getJsonObject(part);
      if (have == null) outMeta.put(part, have = new JsonObject());
      for (var e : wanted.getJsonObject("metadata").getJsonObject(part, new JsonObject())) {
        if (!have.containsKey(e.getKey())) {
          have.put(e.getKey(), e.getValue());
          changed = true;
        }
      }
    }
    for (String list : List.of("subjects")) {
      if (!wanted.containsKey(list)) continue;
      JsonArray have = out.getJsonArray(list);
      if (have == null) out.put(list, have = new JsonArray());
      for (Object o : wanted.getJsonArray(list)) {
        if (!have.contains(o)) {
          have.add(o);
          changed = true;
        }
      }
    }
    if (wanted.containsKey("aggregationRule")) {
      JsonObject rule = out.getJsonObject("aggregationRule");
      if (rule == null) out.put("aggregationRule", rule = new JsonObject());
      JsonArray have = rule.getJsonArray("clusterRoleSelectors");
      if (have == null) rule.put("clusterRoleSelectors", have = new JsonArray());
      for (Object o : wanted.getJsonObject("aggregationRule").getJsonArray("clusterRoleSelectors")) {
        if (!have.contains(o)) {
          have.add(o);
          changed = true;
        }
      }
    } else if (wanted.containsKey("rules")) {
      JsonArray have = out.getJsonArray("rules");
      if (have == null) out.put("rules", have = new JsonArray());
      List<PolicyRule> covering = have.stream().map(r -> PolicyRule.fromJson((JsonObject) r)).toList();
      for (Object o : wanted.getJsonArray("rules")) {
        if (!covering.contains(PolicyRule.fromJson((JsonObject) o))) {
          have.add(o);
          changed = true;
        }
      }
    }
    return changed ? out : null;
  }
}
