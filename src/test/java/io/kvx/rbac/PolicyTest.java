package io.kvx.rbac;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolicyTest {

  private static final UserInfo VIEWER = UserInfo.of("system:serviceaccount:default:viewer", List.of());
  private static final UserInfo ALICE = UserInfo.of("alice", List.of("devs"));

  private static RequestAttributes http(UserInfo u, String method, String path) {
    return RequestAttributes.fromHttp(u, method, path, null, null);
  }

  private static JsonObject rule(String json) {
    return new JsonObject(json);
  }

  private static boolean allows(String rule, RequestAttributes r) {
    return PolicyRule.fromJson(rule(rule)).allows(r);
  }

  @Test
  void requestInfoReadsPathsAsKube() {
    RequestAttributes list = http(VIEWER, "GET", "/api/v1/namespaces/default/secrets");
    assertEquals(List.of("list", "", "secrets", "", "default", ""), List.of(list.verb(), list.apiGroup(),
        list.resource(), list.subresource(), list.namespace(), list.name()));
    RequestAttributes del = http(VIEWER, "DELETE", "/api/v1/namespaces/default/pods/p");
    assertEquals("delete", del.verb());
    assertEquals("p", del.name());
    assertEquals("deletecollection", http(VIEWER, "DELETE", "/api/v1/namespaces/default/pods").verb());
    assertEquals("watch", RequestAttributes.fromHttp(VIEWER, "GET", "/api/v1/pods", "true", null).verb());
    assertEquals("watch", http(VIEWER, "GET", "/api/v1/watch/namespaces/a/pods").verb());
    RequestAttributes byName = RequestAttributes.fromHttp(VIEWER, "GET", "/api/v1/namespaces/a/pods", "1",
        "metadata.name=x");
    assertEquals("x", byName.name(), "a watch of one name is for that name");
    RequestAttributes log = http(VIEWER, "GET", "/api/v1/namespaces/a/pods/p/log");
    assertEquals(List.of("get", "pods", "log", "p"), List.of(log.verb(), log.resource(), log.subresource(), log.name()));
    RequestAttributes proxied = http(VIEWER, "GET", "/api/v1/namespaces/a/services/s/proxy/x/y");
    assertEquals(List.of("services", "proxy", "s"), List.of(proxied.resource(), proxied.subresource(),
        proxied.name()));
    RequestAttributes deploy = http(VIEWER, "PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale");
    assertEquals(List.of("patch", "apps", "deployments", "scale"), List.of(deploy.verb(), deploy.apiGroup(),
        deploy.resource(), deploy.subresource()));
    RequestAttributes ns = http(VIEWER, "GET", "/api/v1/namespaces/a");
    assertEquals(List.of("namespaces", "a", "a"), List.of(ns.resource(), ns.name(), ns.namespace()));
    RequestAttributes finalize = http(VIEWER, "PUT", "/api/v1/namespaces/a/finalize");
    assertEquals(List.of("namespaces", "finalize", "a"), List.of(finalize.resource(), finalize.subresource(),
        finalize.name()));
    RequestAttributes nodes = http(VIEWER, "GET", "/api/v1/nodes");
    assertEquals(List.of("list", "nodes", ""), List.of(nodes.verb(), nodes.resource(), nodes.namespace()));
    for (String p : List.of("/api", "/apis", "/api/v1", "/apis/apps", "/apis/apps/v1", "/openapi/v2", "/metrics")) {
      RequestAttributes r = http(VIEWER, "GET", p);
      assertFalse(r.resourceRequest(), p);
      assertEquals("get", r.verb());
    }
    assertEquals("post", http(VIEWER, "POST", "/logs").verb());
  }

  @Test
  void rulesMatchVerbsGroupsResourcesNamesAndUrls() {
    RequestAttributes listPods = http(VIEWER, "GET", "/api/v1/namespaces/default/pods");
    String readPods = "{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}";
    assertTrue(allows(readPods, listPods));
    assertFalse(allows(readPods, http(VIEWER, "GET", "/api/v1/namespaces/default/secrets")));
    assertFalse(allows(readPods, http(VIEWER, "DELETE", "/api/v1/namespaces/default/pods/p")));
    assertFalse(allows(readPods, http(VIEWER, "GET", "/api/v1/namespaces/default/pods/p/log")),
        "pods does not cover pods/log");
    assertFalse(allows(readPods, http(VIEWER, "GET", "/apis/apps/v1/namespaces/default/deployments")));
    assertTrue(allows("{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}",
        http(VIEWER, "DELETE", "/apis/apps/v1/namespaces/x/deployments/d")));
    assertTrue(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*/log\"]}",
        http(VIEWER, "GET", "/api/v1/namespaces/default/pods/p/log")));
    String named = "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"resourceNames\":[\"a\"]}";
    assertTrue(allows(named, http(VIEWER, "GET", "/api/v1/namespaces/default/configmaps/a")));
    assertFalse(allows(named, http(VIEWER, "GET", "/api/v1/namespaces/default/configmaps/b")));
    assertFalse(allows(named, http(VIEWER, "GET", "/api/v1/namespaces/default/configmaps")),
        "resourceNames never allow a list of everything");
    String urls = "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\",\"/apis/*\"]}";
    assertTrue(allows(urls, http(VIEWER, "GET", "/healthz")));
    assertTrue(allows(urls, http(VIEWER, "GET", "/apis/apps/v1")));
    assertFalse(allows(urls, http(VIEWER, "GET", "/healthz/etcd")));
    assertFalse(allows(urls, http(VIEWER, "GET", "/api/v1/namespaces/a/pods")), "URLs never cover resources");
    assertFalse(allows(readPods, http(VIEWER, "GET", "/api")), "resources never cover URLs");
  }

  private static JsonObject binding(String ns, String kind, String role, JsonObject... subjects) {
    JsonObject meta = new JsonObject().put("name", "b-" + role);
    if (ns != null) meta.put("namespace", ns);
    return new JsonObject().put("metadata", meta).put("roleRef", new JsonObject().put("kind", kind).put("name", role))
        .put("subjects", new JsonArray(List.of((Object[]) subjects)));
  }

  private static JsonObject subject(String kind, String name, String ns) {
    JsonObject s = new JsonObject().put("kind", kind).put("name", name);
    if (ns != null) s.put("namespace", ns);
    return s;
  }

  private static JsonObject role(String rules) {
    return new JsonObject().put("rules", new JsonArray(rules));
  }

  @Test
  void bindingsApplyToUsersGroupsAndServiceAccountsInTheirScope() {
    Map<String, JsonObject> clusterRoles = Map.of(
        "reader", role("[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"]}]"),
        "nodes", role("[{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"nodes\"]}]"));
    Map<String, JsonObject> roles = Map.of("default/pod-reader",
        role("[{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]"));
    Policy policy = new Policy(clusterRoles, roles,
        List.of(binding(null, "ClusterRole", "nodes", subject("Group", "system:serviceaccounts:default", null))),
        Map.of("default", List.of(
            binding("default", "Role", "pod-reader", subject("ServiceAccount", "viewer", null)),
            binding("default", "ClusterRole", "reader", subject("Group", "devs", null)),
            binding("default", "Role", "missing", subject("User", "alice", null)))));
    List<PolicyRule> viewer = policy.rulesFor(VIEWER, "default", null);
    assertTrue(Policy.allows(viewer, http(VIEWER, "GET", "/api/v1/namespaces/default/pods")));
    assertFalse(Policy.allows(viewer, http(VIEWER, "GET", "/api/v1/namespaces/default/secrets")));
    assertFalse(Policy.allows(policy.rulesFor(VIEWER, "other", null), http(VIEWER, "GET",
        "/api/v1/namespaces/other/pods")), "a RoleBinding grants only in its namespace");
    assertTrue(Policy.allows(policy.rulesFor(VIEWER, "", null), http(VIEWER, "GET", "/api/v1/nodes")),
        "a ClusterRoleBinding to the ServiceAccount's namespace group");
    UserInfo otherSa = UserInfo.of("system:serviceaccount:other:viewer", List.of());
    assertFalse(Policy.allows(policy.rulesFor(otherSa, "default", null), http(otherSa, "GET",
        "/api/v1/namespaces/default/pods")), "a subject without namespace is the binding's namespace's");
    List<String> errors = new ArrayList<>();
    List<PolicyRule> alice = policy.rulesFor(ALICE, "default", errors);
    assertTrue(Policy.allows(alice, http(ALICE, "GET", "/api/v1/namespaces/default/configmaps")));
    assertEquals(List.of("role.rbac.authorization.k8s.io \"missing\" not found"), errors);
    assertEquals("RoleBinding \"b-pod-reader/default\" of Role \"pod-reader\" to ServiceAccount \"viewer/default\"",
        policy.grantsFor(VIEWER, "default", null).stream().filter(g -> g.rule().allows(http(VIEWER, "GET",
            "/api/v1/namespaces/default/pods"))).findFirst().orElseThrow().source(), "kube's words for the source");
    assertEquals("ClusterRoleBinding \"b-nodes\" of ClusterRole \"nodes\" to Group \"system:serviceaccounts:default\"",
        policy.grantsFor(VIEWER, "", null).getFirst().source());
  }

  @Test
  void serviceAccountsAndAnonymousGetKubesGroups() {
    assertEquals(List.of("system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"),
        VIEWER.groups());
    assertEquals(List.of("system:unauthenticated"), UserInfo.of("system:anonymous", List.of()).groups());
    assertEquals(List.of("devs", "system:authenticated"), ALICE.groups());
  }

  @Test
  void forbiddenMessagesAreKubes() {
    assertEquals("User \"system:serviceaccount:default:viewer\" cannot list resource \"secrets\" in API group \"\" "
        + "in the namespace \"default\"", http(VIEWER, "GET", "/api/v1/namespaces/default/secrets").forbiddenMessage());
    assertEquals("User \"alice\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"a\"",
        http(ALICE, "GET", "/api/v1/namespaces/a/pods/p/log").forbiddenMessage());
    assertEquals("User \"alice\" cannot list resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" "
        + "at the cluster scope", http(ALICE, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles")
        .forbiddenMessage());
    assertEquals("User \"alice\" cannot get path \"/metrics\"", http(ALICE, "GET", "/metrics").forbiddenMessage());
  }

  @Test
  void aggregationTakesTheSelectedRolesRulesOnce() {
    JsonObject view = BootstrapPolicy.clusterRoles().stream()
        .filter(r -> r.getJsonObject("metadata").getString("name").equals("view")).findFirst().orElseThrow();
    JsonObject mine = new JsonObject().put("metadata", new JsonObject().put("name", "crontabs-view")
            .put("labels", new JsonObject().put("rbac.authorization.k8s.io/aggregate-to-view", "true")))
        .put("rules", new JsonArray("[{\"verbs\":[\"get\"],\"apiGroups\":[\"x.io\"],\"resources\":[\"crontabs\"]}]"));
    JsonObject twin = mine.copy();
    twin.getJsonObject("metadata").put("name", "crontabs-view-2");
    JsonObject unlabelled = mine.copy();
    unlabelled.getJsonObject("metadata").put("name", "other").remove("labels");
    List<JsonObject> all = new ArrayList<>(BootstrapPolicy.clusterRoles());
    all.addAll(List.of(mine, twin, unlabelled));
    JsonArray rules = Aggregation.rules(view, all);
    List<PolicyRule> parsed = rules.stream().map(r -> PolicyRule.fromJson((JsonObject) r)).toList();
    UserInfo u = UserInfo.of("u", List.of());
    assertTrue(Policy.allows(parsed, http(u, "GET", "/apis/x.io/v1/namespaces/a/crontabs/c")));
    assertTrue(Policy.allows(parsed, http(u, "GET", "/api/v1/namespaces/a/pods")));
    assertFalse(Policy.allows(parsed, http(u, "GET", "/api/v1/namespaces/a/secrets")), "view never reads secrets");
    assertEquals(1, rules.stream().filter(r -> r.equals(mine.getJsonArray("rules").getJsonObject(0))).count());
  }

  @Test
  void reconcileAddsWhatIsMissingAndKeepsUserEdits() {
    JsonObject wanted = BootstrapPolicy.clusterRoles().getFirst();
    assertEquals(wanted, BootstrapPolicy.reconcile(wanted, null), "missing: created as is");
    assertNull(BootstrapPolicy.reconcile(wanted, wanted.copy()), "already covered: nothing to write");
    JsonObject edited = wanted.copy();
    edited.getJsonArray("rules").add(new JsonObject("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/x\"]}"));
    edited.getJsonArray("rules").remove(0);
    JsonObject out = BootstrapPolicy.reconcile(wanted, edited);
    assertEquals(3, out.getJsonArray("rules").size(), "the removed default rule is back, the user's stays");
    JsonObject frozen = edited.copy();
    frozen.getJsonObject("metadata").getJsonObject("annotations").put(BootstrapPolicy.AUTOUPDATE, "false");
    assertNull(BootstrapPolicy.reconcile(wanted, frozen), "autoupdate false: left alone");
  }

  @Test
  void escalationFindsWhatTheWriterDoesNotHold() {
    List<PolicyRule> held = List.of(PolicyRule.fromJson(rule(
        "{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"configmaps\"]}")),
        PolicyRule.fromJson(rule("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/apis/*\"]}")));
    assertTrue(Escalation.notCovered(ALICE, held, new JsonArray(
        "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"a\"]},"
            + "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/apis/apps\"]}]")).isEmpty());
    List<PolicyRule> missing = Escalation.notCovered(ALICE, held, new JsonArray(
        "[{\"verbs\":[\"get\",\"delete\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"secrets\"]},"
            + "{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"]}]"));
    assertEquals(4, missing.size(), "delete pods, get secrets, delete secrets, * configmaps: " + missing);
    assertEquals("user \"alice\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC "
        + "permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}",
        Escalation.message(ALICE, List.of(missing.get(0))));
  }
}
