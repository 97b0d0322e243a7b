package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kubectl commands a user reaches for around a running pod, against `kvx up` with a real node:
 * `kubectl debug` (pods/ephemeralcontainers: an ephemeral container in the pod's network namespace,
 * its status, logs, and that updates of the pod leave it alone), and evictions under a
 * PodDisruptionBudget (the eviction subresource's 429 and `kubectl drain` held by the budget, the
 * disruption controller's counts), and `kubectl debug node/...` (a hostNetwork pod).
 * Own ports 18402/5402, bridge kvxe2, pods in 10.154.2.0/24.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubectlSweepIT {

  private static KvxProcess kvx;
  private static Kubectl kubectl;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-sweep");
    KvxProcess.prepareBusybox(home);
    kvx = KvxProcess.start("sweep", home, 18402, "up", "--cluster-port", "5402", "--secret", "it-sweep",
        "--node-name", "sweep-node", "--bridge", "kvxe2", "--pod-cidr", "10.154.2.0/24",
        "--roles", "sequencer,apiserver,scheduler,controller-manager,node");
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
    kubectl.ok("run", "box", "--image=busybox", "--", "httpd", "-f", "-p", "8080", "-h", "/tmp");
    kubectl.ok("wait", "--for=condition=Ready", "pod/box", "--timeout=60s");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  @Test
  @Order(1)
  void debugAddsAnEphemeralContainerInThePodsNetwork() throws Exception {
    kubectl.ok("exec", "box", "--", "sh", "-c", "echo served-to-debugger > /tmp/x.txt");
    // kubectl debug patches pods/box/ephemeralcontainers, waits for the container to run and attaches:
    // it shares box's network namespace, so box's httpd answers on 127.0.0.1.
    Kubectl.Result r = kubectl.run("debug", "box", "-i", "--image=busybox", "--profile=general",
        "--container=dbg", "--", "sh", "-c", "sleep 1; wget -qO- http://127.0.0.1:8080/x.txt");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("served-to-debugger"), r.out());
    String state = kubectl.await(Duration.ofSeconds(30), out -> out.contains("terminated"), "get", "pod", "box",
        "-o", "jsonpath={.status.ephemeralContainerStatuses[?(@.name==\"dbg\")].state}");
    assertTrue(state.contains("\"exitCode\":0"), state);
    assertTrue(kubectl.ok("logs", "box", "-c", "dbg").contains("served-to-debugger"));
    // Ephemeral containers come only through the subresource; an update of the pod leaves them as they are,
    // and the pod still counts one container as its own.
    kubectl.ok("label", "pod", "box", "debugged=yes");
    assertEquals("dbg", kubectl.ok("get", "pod", "box", "-o", "jsonpath={.spec.ephemeralContainers[*].name}").trim());
    assertEquals("1/1", kubectl.ok("get", "pod", "box", "--no-headers").trim().split("\\s+")[1]);
    // --target: the debugger joins box's PID namespace and sees its httpd.
    Kubectl.Result targeted = kubectl.run("debug", "box", "-i", "--image=busybox", "--profile=general",
        "--target=box", "--container=dbg-target", "--", "sh", "-c", "sleep 1; ps");
    assertEquals(0, targeted.code(), targeted.out());
    assertTrue(targeted.out().contains("httpd -f -p 8080"), targeted.out());
    // A pod cannot be created with ephemeral containers.
    Path withEphemeral = Files.createTempFile("ephemeral", ".yaml");
    Files.writeString(withEphemeral, """
        apiVersion: v1
        kind: Pod
        metadata: {name: born-debugged}
        spec:
          containers: [{name: a, image: busybox}]
          ephemeralContainers: [{name: e, image: busybox}]
        """);
    Kubectl.Result born = kubectl.run("create", "-f", withEphemeral.toString());
    assertTrue(born.code() != 0 && born.out().contains("spec.ephemeralContainers: Forbidden: cannot be set on create"),
        born.out());
    // Reusing the name patches the existing one (merge key "name"), which may not change: a 422 naming it.
    Kubectl.Result again = kubectl.run("debug", "box", "--image=busybox", "--profile=general", "--container=dbg",
        "--", "true");
    assertNotEquals(0, again.code());
    assertTrue(again.out().contains("spec.ephemeralContainers: Forbidden: existing ephemeral containers \"dbg\" may "
        + "not be changed"), again.out());
  }

  @Test
  @Order(2)
  void evictionHonoursThePodDisruptionBudget() throws Exception {
    // Bare pods: no controller brings a replacement that would count as healthy while the test looks.
    String[] pods = {"guarded-a", "guarded-b"};
    for (String pod : pods) {
      kubectl.ok("run", pod, "--image=busybox", "--labels=app=guarded", "--", "sleep", "3600");
    }
    kubectl.ok("create", "pdb", "guarded", "--selector=app=guarded", "--min-available=2");
    kubectl.ok("wait", "--for=condition=Ready", "pod/guarded-a", "pod/guarded-b", "--timeout=60s");
    // The disruption controller keeps the budget's status: 2 healthy of 2 needed, none allowed.
    kubectl.await(Duration.ofSeconds(20), out -> out.trim().equals("2 2 2 0 False"), "get", "pdb", "guarded", "-o",
        "jsonpath={.status.expectedPods} {.status.currentHealthy} {.status.desiredHealthy} "
            + "{.status.disruptionsAllowed} {.status.conditions[?(@.type==\"DisruptionAllowed\")].status}");
    Kubectl.Result blocked = evict(pods[0]);
    assertNotEquals(0, blocked.code());
    assertTrue(blocked.out().contains("TooManyRequests")
        && blocked.out().contains("Cannot evict pod as it would violate the pod's disruption budget."), blocked.out());

    // kubectl drain evicts, is told 429, retries until its timeout; the pods stay.
    Kubectl.Result drain = kubectl.run("drain", "sweep-node", "--pod-selector=app=guarded", "--force",
        "--timeout=7s");
    assertNotEquals(0, drain.code(), drain.out());
    assertTrue(drain.out().contains("(will retry after 5s): Cannot evict pod as it would violate the pod's "
        + "disruption budget.") && drain.out().contains("global timeout reached"), drain.out());
    assertEquals("Running Running", kubectl.ok("get", "pods", "-l", "app=guarded", "-o",
        "jsonpath={.items[*].status.phase}").trim());
    kubectl.ok("uncordon", "sweep-node");

    // One disruption allowed: the first eviction goes, the second is held (the first pod is terminating).
    kubectl.ok("patch", "pdb", "guarded", "--type=merge", "-p", "{\"spec\":{\"minAvailable\":1}}");
    kubectl.await(Duration.ofSeconds(20), out -> out.trim().equals("1"), "get", "pdb", "guarded", "-o",
        "jsonpath={.status.disruptionsAllowed}");
    Kubectl.Result first = evict(pods[0]);
    assertEquals(0, first.code(), first.out());
    Kubectl.Result second = evict(pods[1]);
    assertTrue(second.code() != 0 && second.out().contains("TooManyRequests"), second.out());
    kubectl.ok("delete", "pdb", "guarded");
    assertEquals(0, evict(pods[1]).code(), "without a budget the eviction goes");
  }

  @Test
  @Order(3)
  void debugOfANodeRunsInTheHostNetwork() throws Exception {
    // kubectl debug node/... makes a hostNetwork pod with the node's root at /host: it sees the node's
    // host name and addresses, not a pod network of its own.
    String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    Kubectl.Result r = kubectl.run("debug", "node/sweep-node", "-i", "--image=busybox", "--profile=general", "--",
        "sh", "-c", "sleep 1; echo host=$(hostname); test -d /host/proc && echo root-mounted");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("host=" + host) && r.out().contains("root-mounted"), r.out());
    String pod = kubectl.ok("get", "pods", "-o", "name").lines().filter(l -> l.contains("node-debugger-sweep-node"))
        .findFirst().orElseThrow().trim();
    String nodeIp = kubectl.ok("get", "node", "sweep-node", "-o",
        "jsonpath={.status.addresses[?(@.type==\"InternalIP\")].address}").trim();
    assertEquals(nodeIp, kubectl.ok("get", pod, "-o", "jsonpath={.status.podIP}").trim());
    kubectl.ok("delete", pod);
  }

  @Test
  @Order(4)
  void anExecWhoseClientClosesFirstStillGetsItsOutputAndStatus() throws Exception {
    // As kube-apiserver: the client's WebSocket close ends its input, the command runs on, and the server
    // sends the rest of the output and the exit status before it closes (fabric8 closes right after an
    // upload and then reads what its `wc -c` printed).
    String token = Files.readString(kvx.home.resolve("admin.token")).trim();
    StringBuilder stdout = new StringBuilder();
    StringBuilder status = new StringBuilder();
    java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
    java.io.ByteArrayOutputStream message = new java.io.ByteArrayOutputStream();
    java.net.http.WebSocket ws = KvxProcess.insecureClient().newWebSocketBuilder()
        .header("Authorization", "Bearer " + token).subprotocols("v5.channel.k8s.io")
        .buildAsync(java.net.URI.create("wss://127.0.0.1:18402/api/v1/namespaces/default/pods/box/exec?"
            + "command=sh&command=-c&command=sleep%201%3B%20echo%20late-output&stdin=true&stdout=true&stderr=true"),
            new java.net.http.WebSocket.Listener() {
              @Override
              public java.util.concurrent.CompletionStage<?> onBinary(java.net.http.WebSocket w,
                                                                     java.nio.ByteBuffer data, boolean last) {
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                message.writeBytes(bytes);
                if (last) {
                  byte[] m = message.toByteArray();
                  message.reset();
                  String text = new String(m, 1, m.length - 1, java.nio.charset.StandardCharsets.UTF_8);
                  if (m[0] == 1) stdout.append(text);
                  if (m[0] == 3) status.append(text);
                }
                w.request(1);
                return null;
              }

              @Override
              public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket w, int code, String r) {
                closed.complete(code);
                return null;
              }

              @Override
              public void onError(java.net.http.WebSocket w, Throwable error) {
                closed.completeExceptionally(error);
              }
            }).get(10, java.util.concurrent.TimeUnit.SECONDS);
    ws.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "").get(5, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(1000, closed.get(20, java.util.concurrent.TimeUnit.SECONDS));
    assertEquals("late-output\n", stdout.toString());
    assertTrue(status.toString().contains("\"status\":\"Success\""), status.toString());
  }

  private static Kubectl.Result evict(String pod) throws Exception {
    Path body = Files.createTempFile("eviction", ".json");
    Files.writeString(body, "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"" + pod
        + "\",\"namespace\":\"default\"}}");
    return kubectl.run("create", "--raw", "/api/v1/namespaces/default/pods/" + pod + "/eviction", "-f",
        body.toString());
  }
}
