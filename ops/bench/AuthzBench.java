import io.kvx.rbac.Aggregation;
import io.kvx.rbac.BootstrapPolicy;
import io.kvx.rbac.Policy;
import io.kvx.rbac.PolicyRule;
import io.kvx.rbac.RequestAttributes;
import io.kvx.rbac.UserInfo;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The API server's authorization step per request, in-process (ops/bench/authz runs it): kube's RequestInfo
 * parse of the path and the RBAC decision, for the admin token (system:masters, decided without rules) and for a
 * ServiceAccount bound to view (aggregated from the bootstrap roles) and a pod-reading Role (its rules resolved
 * once, as RbacAuthorizer keeps them). Prints ns per request for each, ROUNDS times.
 */
public class AuthzBench {

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
    Map<String, JsonObject> clusterRoles = new HashMap<>();
    for (JsonObject r : BootstrapPolicy.clusterRoles()) clusterRoles.put(r.getJsonObject("metadata").getString("name"), r);
    for (JsonObject r : List.copyOf(clusterRoles.values())) {
      if (r.containsKey("aggregationRule")) r.put("rules", Aggregation.rules(r, clusterRoles.values()));
    }
    JsonObject podReader = new JsonObject().put("rules", new JsonArray()
        .add(new JsonObject("{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}")));
    JsonObject sa = new JsonObject().put("kind", "ServiceAccount").put("name", "viewer").put("namespace", "default");
    List<JsonObject> crbs = new java.util.ArrayList<>(BootstrapPolicy.clusterRoleBindings());
    crbs.add(new JsonObject().put("metadata", new JsonObject().put("name", "viewer-view"))
        .put("roleRef", new JsonObject().put("kind", "ClusterRole").put("name", "view"))
        .put("subjects", new JsonArray().add(sa)));
    Policy policy = new Policy(clusterRoles, Map.of("default/pod-reader", podReader), crbs, Map.of("default",
        List.of(new JsonObject().put("metadata", new JsonObject().put("name", "viewer-pods").put("namespace", "default"))
            .put("roleRef", new JsonObject().put("kind", "Role").put("name", "pod-reader"))
            .put("subjects", new JsonArray().add(sa)))));
    UserInfo admin = UserInfo.of("kvx-admin", List.of(UserInfo.MASTERS));
    UserInfo viewer = UserInfo.of("system:serviceaccount:default:viewer", List.of());
    List<PolicyRule> rules = policy.rulesFor(viewer, "default", null);
    long sink = 0;
    for (int round = 0; round < rounds; round++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        RequestAttributes r = RequestAttributes.fromHttp(admin, "POST", "/api/v1/namespaces/default/configmaps", null,
            null);
        if (r.user().in(UserInfo.MASTERS)) sink++;
      }
      long t1 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        RequestAttributes r = RequestAttributes.fromHttp(viewer, "GET", "/api/v1/namespaces/default/pods", null, null);
        if (Policy.allows(rules, r)) sink++;
      }
      long t2 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        RequestAttributes r = RequestAttributes.fromHttp(viewer, "GET", "/api/v1/namespaces/default/secrets", null,
            null);
        if (!Policy.allows(rules, r)) sink++;
      }
      long t3 = System.nanoTime();
      System.out.printf("admin create (masters): %4.0f ns   viewer list pods (%d rules, allowed): %4.0f ns   "
          + "viewer list secrets (denied, all rules tried): %4.0f ns%n", (t1 - t0) / (double) n, rules.size(),
          (t2 - t1) / (double) n, (t3 - t2) / (double) n);
    }
    if (sink == 42) System.out.println();
  }
}
