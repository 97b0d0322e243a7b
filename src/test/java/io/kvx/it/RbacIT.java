package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RBAC as kube-apiserver's --authorization-mode=RBAC, through the real kubectl against `kvx up` with a node: a
 * ServiceAccount bound by a RoleBinding to a Role reading pods may list pods but not secrets (kube's 403 message)
 * nor delete; a ClusterRoleBinding grants across namespaces; `kubectl auth can-i` (--as, --list) answers with the
 * real decision; a ClusterRole labelled aggregate-to-view shows up in view; a pod's mounted token is limited the
 * same way; the admin kubeconfig (system:masters) may do everything; the event-bus bridge decides the same.
 * Own ports 18410/5841, bridge kvxr1, pods 10.234.1.0/24.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RbacIT {

  private static final int PORT = 18410;
  private static final String VIEWER = "system:serviceaccount:default:viewer";
  private static KvxProcess kvx;
  private static Kubectl k;
  private static Path dir;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-rbac");
    dir = Files.createTempDirectory("kvx-it-rbac-files");
    KvxProcess.prepareBusybox(home);
    kvx = KvxProcess.start("rbac", home, PORT, "up", "--cluster-port", "5841", "--secret", "it-rbac",
        "--node-name", "rbac-node", "--bridge", "kvxr1", "--pod-cidr", "10.234.1.0/24", "--service-cidr",
        "10.184.0.0/16", "--proxy-metrics-address", "127.0.0.1:18411", "--roles",
        "sequencer,apiserver,scheduler,controller-manager,node");
    kvx.awaitReady(Duration.ofSeconds(60));
    k = new Kubectl(kvx.kubeconfig());
    k.await(Duration.ofSeconds(30), out -> out.contains(" Ready "), "get", "nodes");
    k.await(Duration.ofSeconds(30), out -> out.contains("default"), "get", "serviceaccounts");
    k.ok("create", "serviceaccount", "viewer");
    k.ok("create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods");
    k.ok("create", "rolebinding", "viewer-pods", "--role=pod-reader", "--serviceaccount=default:viewer");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  private static String token() throws Exception {
    return k.ok("create", "token", "viewer").trim();
  }

  @Test
  @Order(1)
  void aRoleBindingAllowsExactlyItsRules() throws Exception {
    String token = token();
    k.ok("--token=" + token, "get", "pods");
    Kubectl.Result secrets = k.run("--token=" + token, "get", "secrets");
    assertNotEquals(0, secrets.code());
    assertTrue(secrets.out().contains("Error from server (Forbidden): secrets is forbidden: User \"" + VIEWER
        + "\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""), secrets.out());
    Kubectl.Result delete = k.run("--token=" + token, "delete", "pod", "nothere");
    assertTrue(delete.out().contains("pods \"nothere\" is forbidden: User \"" + VIEWER + "\" cannot delete resource "
        + "\"pods\" in API group \"\" in the namespace \"default\""), delete.out());
    Kubectl.Result elsewhere = k.run("--token=" + token, "get", "pods", "-n", "kube-system");
    assertTrue(elsewhere.out().contains("in the namespace \"kube-system\""), "a RoleBinding is for its namespace: "
        + elsewhere.out());
    Kubectl.Result status = k.run("--token=" + token, "get", "--raw", "/api/v1/namespaces/default/secrets");
    assertTrue(status.out().contains("\"kind\":\"Status\"") || status.out().contains("Forbidden"), status.out());
  }

  @Test
  @Order(2)
  void canIAnswersWithTheRealDecision() throws Exception {
    assertEquals("yes", k.run("auth", "can-i", "list", "pods", "--as=" + VIEWER).out().trim());
    assertEquals("no", k.run("auth", "can-i", "delete", "pods", "--as=" + VIEWER).out().trim());
    assertEquals("no", k.run("auth", "can-i", "get", "secrets", "--as=" + VIEWER).out().trim());
    assertEquals("yes", k.run("auth", "can-i", "*", "*").out().trim(), "the admin kubeconfig is system:masters");
    String list = k.ok("auth", "can-i", "--list", "--as=" + VIEWER);
    assertTrue(list.lines().anyMatch(l -> l.startsWith("pods ") && l.contains("[get list watch]")), list);
    assertTrue(list.contains("selfsubjectaccessreviews.authorization.k8s.io"), "system:basic-user: " + list);
    assertTrue(list.contains("[/apis/*]"), "system:discovery: " + list);
    assertTrue(list.lines().noneMatch(l -> l.startsWith("secrets")), list);
    Path sar = dir.resolve("sar.yaml");
    Files.writeString(sar, """
        apiVersion: authorization.k8s.io/v1
        kind: SubjectAccessReview
        spec:
          user: system:serviceaccount:default:viewer
          groups: [system:serviceaccounts, system:serviceaccounts:default, system:authenticated]
          resourceAttributes: {namespace: default, verb: watch, resource: pods}
        """);
    assertEquals("true RBAC: allowed by RoleBinding \"viewer-pods/default\" of Role \"pod-reader\" to ServiceAccount "
        + "\"viewer/default\"", k.ok("create", "-f", sar.toString(), "-o",
        "jsonpath={.status.allowed} {.status.reason}").trim());
    String token = token();
    Kubectl.Result impersonate = k.run("--token=" + token, "get", "pods", "--as=alice");
    assertTrue(impersonate.out().contains("users \"alice\" is forbidden: User \"" + VIEWER + "\" cannot impersonate "
        + "resource \"users\" in API group \"\" at the cluster scope"), impersonate.out());
  }

  @Test
  @Order(3)
  void clusterRoleBindingsAndAggregation() throws Exception {
    assertEquals("no", k.run("auth", "can-i", "list", "deployments.apps", "-n", "kube-system", "--as=" + VIEWER)
        .out().trim());
    k.ok("create", "clusterrolebinding", "viewer-view", "--clusterrole=view", "--serviceaccount=default:viewer");
    k.await(Duration.ofSeconds(10), out -> out.trim().equals("yes"), "auth", "can-i", "list", "deployments.apps",
        "-n", "kube-system", "--as=" + VIEWER);
    assertEquals("no", k.run("auth", "can-i", "list", "secrets", "-n", "kube-system", "--as=" + VIEWER).out().trim(),
        "view never reads secrets");
    assertEquals("no", k.run("auth", "can-i", "list", "podtemplates", "--as=" + VIEWER).out().trim());
    Path crd = dir.resolve("podtemplate-reader.yaml");
    Files.writeString(crd, """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: podtemplate-reader
          labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
        rules:
        - {apiGroups: [""], resources: [podtemplates], verbs: [get, list, watch]}
        """);
    k.ok("apply", "-f", crd.toString());
    k.await(Duration.ofSeconds(20), out -> out.contains("podtemplates"), "get", "clusterrole", "view", "-o", "yaml");
    k.await(Duration.ofSeconds(20), out -> out.contains("podtemplates"), "get", "clusterrole", "admin", "-o", "yaml");
    k.await(Duration.ofSeconds(10), out -> out.trim().equals("yes"), "auth", "can-i", "list",
        "podtemplates", "-n", "default", "--as=" + VIEWER);
    k.ok("delete", "clusterrolebinding", "viewer-view");
    long deadline = System.currentTimeMillis() + 10_000;
    String answer;
    // can-i exits 1 when the answer is no.
    while (!(answer = k.run("auth", "can-i", "list", "deployments.apps", "-n", "kube-system", "--as=" + VIEWER)
        .out().trim()).equals("no") && System.currentTimeMillis() < deadline) {
      Thread.sleep(300);
    }
    assertEquals("no", answer, "the ClusterRoleBinding's grant ends with it");
  }

  @Test
  @Order(4)
  void aPodsMountedTokenIsLimitedByRbac() throws Exception {
    // The API from inside the pod: the node's bridge gateway (10.234.1.1) reaches the API server's port.
    String script = "T=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token); for p in pods secrets; do "
        + "wget -q -O- --no-check-certificate --header \\\"Authorization: Bearer $T\\\" "
        + "https://10.234.1.1:" + PORT + "/api/v1/namespaces/default/$p >/dev/null 2>/tmp/err && echo $p allowed "
        + "|| echo $p refused $(cat /tmp/err); done; sleep 3600";
    k.ok("run", "incluster", "--image=busybox", "--overrides", "{\"spec\":{\"serviceAccountName\":\"viewer\","
        + "\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"incluster\",\"image\":\"busybox\","
        + "\"command\":[\"sh\",\"-c\",\"" + script + "\"]}]}}");
    String logs = k.await(Duration.ofSeconds(60), out -> out.contains("secrets "), "logs", "incluster");
    assertTrue(logs.contains("pods allowed"), logs);
    assertTrue(logs.contains("secrets refused") && logs.contains("403"), logs);
    k.ok("delete", "pod", "incluster", "--wait=false");
  }

  @Test
  @Order(5)
  void theAdminMayDoEverything() throws Exception {
    k.ok("create", "secret", "generic", "s1", "--from-literal=a=b");
    k.ok("get", "secrets", "-A");
    k.ok("get", "--raw", "/metrics");
    k.ok("create", "namespace", "rbac-admin");
    k.ok("delete", "namespace", "rbac-admin", "--wait=false");
    k.ok("delete", "secret", "s1");
    String whoami = k.ok("auth", "whoami", "-o", "json");
    assertTrue(whoami.contains("system:masters"), whoami);
  }

  @Test
  @Order(6)
  void rolesAndBindingsGrantOnlyWhatTheWriterHolds() throws Exception {
    k.ok("create", "role", "role-writer", "--verb=create,get,list", "--resource=roles.rbac.authorization.k8s.io,"
        + "rolebindings.rbac.authorization.k8s.io");
    k.ok("create", "rolebinding", "viewer-writes-roles", "--role=role-writer", "--serviceaccount=default:viewer");
    String token = token();
    k.ok("--token=" + token, "create", "role", "pod-lister", "--verb=list", "--resource=pods");
    Kubectl.Result more = k.run("--token=" + token, "create", "role", "secret-reader", "--verb=get",
        "--resource=secrets");
    assertTrue(more.out().contains("roles.rbac.authorization.k8s.io \"secret-reader\" is forbidden: user \"" + VIEWER
        + "\" (groups=[\"system:serviceaccounts\" \"system:serviceaccounts:default\" \"system:authenticated\"]) is "
        + "attempting to grant RBAC permissions not currently held:") && more.out().contains(
        "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"), more.out());
    k.ok("--token=" + token, "create", "rolebinding", "lister", "--role=pod-lister", "--user=bob");
    Kubectl.Result edit = k.run("--token=" + token, "create", "rolebinding", "editor", "--clusterrole=edit",
        "--user=bob");
    assertTrue(edit.out().contains("rolebindings.rbac.authorization.k8s.io \"editor\" is forbidden")
        && edit.out().contains("attempting to grant RBAC permissions not currently held"), edit.out());
    k.ok("create", "rolebinding", "viewer-binds-edit", "--clusterrole=viewer-binds", "--serviceaccount=default:viewer");
    k.ok("create", "clusterrole", "viewer-binds", "--verb=bind", "--resource=clusterroles.rbac.authorization.k8s.io",
        "--resource-name=edit");
    k.await(Duration.ofSeconds(10), out -> out.contains("editor"), "--token=" + token, "create", "rolebinding",
        "editor", "--clusterrole=edit", "--user=bob");
  }

  @Test
  @Order(7)
  void theEventBusBridgeDecidesTheSame() throws Exception {
    String token = token();
    try (Socket s = new Socket("127.0.0.1", PORT + 1000)) {
      s.setSoTimeout(10_000);
      JsonObject pods = send(s, token, "r1", new JsonObject().put("verb", "list").put("resource", "pods")
          .put("namespace", "default"));
      assertTrue(pods.getJsonObject("body", new JsonObject()).getString("kind", "").equals("PodList"), pods.encode());
      JsonObject secrets = send(s, token, "r2", new JsonObject().put("verb", "list").put("resource", "secrets")
          .put("namespace", "default"));
      assertEquals(403, secrets.getInteger("failureCode"), secrets.encode());
      JsonObject status = new JsonObject(secrets.getString("message"));
      assertEquals("secrets is forbidden: User \"" + VIEWER + "\" cannot list resource \"secrets\" in API group \"\" "
          + "in the namespace \"default\"", status.getString("message"));
      // A watch of pods delivered to this connection's address: allowed; then another connection may neither take
      // the address nor end the watch.
      write(s, new JsonObject().put("type", "register").put("address", "kvx.watch.rbac-1")
          .put("headers", new JsonObject().put("authorization", "Bearer " + token)));
      JsonObject watch = send(s, token, "r3", new JsonObject().put("verb", "watch").put("resource", "pods")
          .put("namespace", "default").put("address", "kvx.watch.rbac-1"));
      assertTrue(watch.getJsonObject("body", new JsonObject()).containsKey("resourceVersion"), watch.encode());
      try (Socket other = new Socket("127.0.0.1", PORT + 1000)) {
        other.setSoTimeout(10_000);
        JsonObject unwatch = send(other, token, "r4", new JsonObject().put("verb", "unwatch")
            .put("address", "kvx.watch.rbac-1"));
        assertEquals(403, unwatch.getInteger("failureCode"), unwatch.encode());
      }
    }
  }

  private static JsonObject send(Socket s, String token, String reply, JsonObject body) throws Exception {
    write(s, new JsonObject().put("type", "send").put("address", "kvx.api").put("replyAddress", reply)
        .put("headers", new JsonObject().put("authorization", "Bearer " + token)).put("body", body));
    while (true) {
      byte[] len = s.getInputStream().readNBytes(4);
      JsonObject frame = new JsonObject(new String(s.getInputStream().readNBytes(ByteBuffer.wrap(len).getInt()),
          StandardCharsets.UTF_8));
      if (reply.equals(frame.getString("address")) || "err".equals(frame.getString("type"))) return frame;
    }
  }

  private static void write(Socket s, JsonObject frame) throws Exception {
    byte[] data = frame.encode().getBytes(StandardCharsets.UTF_8);
    OutputStream out = s.getOutputStream();
    out.write(ByteBuffer.allocate(4).putInt(data.length).array());
    out.write(data);
    out.flush();
  }
}
