package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes on one machine, as DESIGN §4 describes them: a control-plane JVM in the host's network
 * namespace on a bridge the test makes (kvxm0, 10.174.0.1/24), and two node JVMs, each in its own
 * network namespace (kvxm-n1 at 10.174.0.11, kvxm-n2 at 10.174.0.12) joined to that bridge by a veth
 * pair, each with its own CNI pod bridge, proxy (its own nftables ruleset) and cluster DNS. The
 * controller manager gives each node a block of the cluster CIDR (10.74.0.0/23: exactly two /24s);
 * each node agent routes the other's block through its InternalIP. Shown: pod to pod across nodes by
 * pod IP, a ClusterIP whose only backend is on the other node (from a pod, from the node itself, and
 * as a NodePort on the first node's address), both backends of a service from the other node, cluster
 * DNS from a pod on each node,
 * hostPort through CNI portmap on the node's address, a full range leaving a new node without a block
 * until a deleted node frees one, and nothing of kvx left in a node's namespace after it stops.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiNodeIT {

  private static final String HOST_BRIDGE = "kvxm0";
  private static final String HOST_IP = "10.174.0.1";
  private static final String CLUSTER_CIDR = "10.74.0.0/23";
  private static final int API_PORT = 17743;
  private static final String[] NETNS = {"kvxm-n1", "kvxm-n2"};
  private static final String[] NODE_IP = {"10.174.0.11", "10.174.0.12"};
  private static final int HOST_PORT = 18080;

  private static KvxProcess cp;
  private static final KvxProcess[] nodes = new KvxProcess[2];
  private static Kubectl kubectl;
  private static Path dir;
  private static final String[] podCidr = new String[2];
  private static final String[] ipForwardBefore = new String[2];

  @BeforeAll
  static void up() throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/lib/cni/portmap"))
        && Files.isExecutable(Path.of("/usr/bin/nsenter")), "SKIPPED: needs root, CNI plugins and nsenter");
    dir = Files.createTempDirectory("kvx-it-multinode");
    removeNetwork();
    sh("ip", "link", "add", HOST_BRIDGE, "type", "bridge");
    sh("ip", "addr", "add", HOST_IP + "/24", "dev", HOST_BRIDGE);
    sh("ip", "link", "set", HOST_BRIDGE, "up");
    for (int i = 0; i < 2; i++) {
      String ns = NETNS[i];
      String veth = "kvxm" + (i + 1);
      sh("ip", "netns", "add", ns);
      sh("ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "p");
      sh("ip", "link", "set", veth + "p", "netns", ns);
      sh("ip", "link", "set", veth, "master", HOST_BRIDGE, "up");
      sh("ip", "-n", ns, "addr", "add", NODE_IP[i] + "/24", "dev", veth + "p");
      sh("ip", "-n", ns, "link", "set", veth + "p", "up");
      sh("ip", "-n", ns, "link", "set", "lo", "up");
      // A new namespace may inherit the host's setting (net.core.devconf_inherit_init_net).
      ipForwardBefore[i] = inNode(i, "cat", "/proc/sys/net/ipv4/ip_forward").trim();
    }
    String secret = "it-multinode";
    cp = KvxProcess.start("multinode-cp", dir.resolve("cp"), API_PORT, "server", "--cluster-port", "5751",
        "--bind", HOST_IP, "--advertise-address", HOST_IP, "--cluster-cidr", CLUSTER_CIDR, "--secret", secret);
    cp.awaitReady(Duration.ofSeconds(90));
    kubectl = new Kubectl(cp.kubeconfig());
    for (int i = 0; i < 2; i++) {
      Path home = dir.resolve("n" + (i + 1));
      KvxProcess.prepareBusybox(home);
      nodes[i] = KvxProcess.startIn(NETNS[i], "multinode-n" + (i + 1), home, API_PORT + 1 + i, "node",
          "--join", HOST_IP + ":5751", "--cluster-port", String.valueOf(5752 + i), "--bind", NODE_IP[i],
          "--node-name", NETNS[i], "--bridge", "kvxmb" + (i + 1), "--cluster-cidr", CLUSTER_CIDR, "--secret", secret);
    }
    for (int i = 0; i < 2; i++) nodes[i].awaitLog("node " + NETNS[i] + ": ready", Duration.ofSeconds(90));
  }

  @AfterAll
  static void down() throws Exception {
    for (KvxProcess p : nodes) {
      if (p != null) p.close();
    }
    if (cp != null) cp.close();
    if (dir != null) removeNetwork();
  }

  /** Deleting the namespaces takes their veth ends (and so the pairs) with them. */
  private static void removeNetwork() throws Exception {
    for (String ns : NETNS) {
      if (Files.exists(Path.of("/var/run/netns", ns))) sh("ip", "netns", "del", ns);
    }
    if (Files.exists(Path.of("/sys/class/net", HOST_BRIDGE))) sh("ip", "link", "del", HOST_BRIDGE);
  }

  private static String sh(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  /** A command's output inside a node's namespace. */
  private static String inNode(int i, String... cmd) throws Exception {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", NETNS[i]));
    full.addAll(List.of(cmd));
    return sh(full.toArray(String[]::new));
  }

  /** What a command prints in a pod, retried until it contains {@code expected} (rules and routes converge). */
  private static String inPod(String pod, String expected, String... cmd) throws Exception {
    List<String> args = new ArrayList<>(List.of("exec", pod, "--"));
    args.addAll(List.of(cmd));
    long deadline = System.currentTimeMillis() + 30_000;
    String last = "";
    while (System.currentTimeMillis() < deadline) {
      last = kubectl.run(args.toArray(String[]::new)).out();
      if (last.contains(expected)) return last;
      Thread.sleep(500);
    }
    throw new AssertionError("kubectl exec " + pod + " -- " + String.join(" ", cmd) + " never printed " + expected
        + "; last: " + last);
  }

  @Test
  @Order(1)
  void eachNodeGetsItsOwnBlockAndRoutesToTheOther() throws Exception {
    kubectl.await(Duration.ofSeconds(60), out -> out.lines().filter(l -> l.contains(" Ready ")).count() == 2,
        "get", "nodes");
    for (int i = 0; i < 2; i++) {
      podCidr[i] = kubectl.ok("get", "node", NETNS[i], "-o", "jsonpath={.spec.podCIDR}").trim();
      assertEquals(NODE_IP[i], kubectl.ok("get", "node", NETNS[i], "-o",
          "jsonpath={.status.addresses[?(@.type==\"InternalIP\")].address}").trim(), "InternalIP is the netns address");
    }
    assertEquals(Set.of("10.74.0.0/24", "10.74.1.0/24"), Set.of(podCidr[0], podCidr[1]),
        "two distinct /24 blocks of " + CLUSTER_CIDR);
    for (int i = 0; i < 2; i++) {
      int other = 1 - i;
      String route = sh("ip", "-n", NETNS[i], "route", "show", podCidr[other]);
      assertTrue(route.contains("via " + NODE_IP[other]), NETNS[i] + " routes " + podCidr[other] + " through "
          + NODE_IP[other] + ": " + route);
    }
  }

  @Test
  @Order(2)
  void podsOnTwoNodesReachEachOtherByPodIp() throws Exception {
    Path yaml = dir.resolve("pods.yaml");
    Files.writeString(yaml, """
        apiVersion: v1
        kind: Pod
        metadata: {name: a, labels: {app: a}}
        spec:
          nodeName: kvxm-n1
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: busybox
            command: [sh, -c, "mkdir -p /www && echo from-a > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: b, labels: {app: b}}
        spec:
          nodeName: kvxm-n2
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: busybox
            command: [sh, -c, "mkdir -p /www && echo from-b > /www/index.html && exec httpd -f -p 8080 -h /www"]
            ports: [{containerPort: 8080, hostPort: %d}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: b}
        spec:
          selector: {app: b}
          ports: [{port: 80, targetPort: 8080}]
        """.formatted(HOST_PORT));
    kubectl.ok("apply", "-f", yaml.toString());
    kubectl.ok("wait", "--for=condition=Ready", "pod/a", "pod/b", "--timeout=90s");
    String ipA = kubectl.ok("get", "pod", "a", "-o", "jsonpath={.status.podIP}").trim();
    String ipB = kubectl.ok("get", "pod", "b", "-o", "jsonpath={.status.podIP}").trim();
    assertTrue(ipA.startsWith(podCidr[0].substring(0, podCidr[0].lastIndexOf('.'))), ipA + " in " + podCidr[0]);
    assertTrue(ipB.startsWith(podCidr[1].substring(0, podCidr[1].lastIndexOf('.'))), ipB + " in " + podCidr[1]);
    // busybox's wget -T crashes; timeout(1) bounds it instead.
    inPod("a", "from-b", "timeout", "10", "wget", "-q", "-O-", "http://" + ipB + ":8080/");
    inPod("b", "from-a", "timeout", "10", "wget", "-q", "-O-", "http://" + ipA + ":8080/");
  }

  @Test
  @Order(3)
  void aClusterIpWhoseOnlyBackendIsOnTheOtherNodeAnswers() throws Exception {
    String ip = kubectl.ok("get", "svc", "b", "-o", "jsonpath={.spec.clusterIP}").trim();
    kubectl.await(Duration.ofSeconds(30), out -> !out.isBlank(), "get", "endpoints", "b", "-o",
        "jsonpath={.subsets[*].addresses[*].ip}");
    // Each node's proxy programs its own namespace's ruleset.
    assertTrue(inNode(0, "nft", "list", "table", "ip", "kvx").contains(ip), "node 1's own kvx table has the service");
    inPod("a", "from-b", "timeout", "10", "wget", "-q", "-O-", "http://" + ip + "/");
    // From node 1 itself (host traffic in its namespace) too.
    long deadline = System.currentTimeMillis() + 20_000;
    String fromNode = "";
    while (!fromNode.contains("from-b") && System.currentTimeMillis() < deadline) {
      try {
        fromNode = inNode(0, "busybox", "timeout", "5", "busybox", "wget", "-q", "-O-", "http://" + ip + "/");
      } catch (IllegalStateException e) {
        Thread.sleep(500);
      }
    }
    assertEquals("from-b", fromNode.trim(), "node 1's own traffic to the cluster IP reaches node 2's pod");

    // A NodePort on node 1's address, from the host: the only backend is on node 2.
    kubectl.ok("patch", "svc", "b", "-p", "{\"spec\":{\"type\":\"NodePort\"}}");
    String nodePort = kubectl.ok("get", "svc", "b", "-o", "jsonpath={.spec.ports[0].nodePort}").trim();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    String body = "";
    deadline = System.currentTimeMillis() + 20_000;
    while (!body.contains("from-b") && System.currentTimeMillis() < deadline) {
      try {
        body = http.send(HttpRequest.newBuilder(URI.create("http://" + NODE_IP[0] + ":" + nodePort + "/"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
      } catch (java.io.IOException e) {
        Thread.sleep(500);
      }
    }
    assertEquals("from-b", body.trim(), "NodePort " + nodePort + " on node 1 forwards to node 2's pod");

    // A second backend on node 1: from node 2's pod, the service reaches both, local and remote.
    kubectl.ok("run", "b1", "--image=busybox", "--labels=app=b", "--overrides",
        "{\"spec\":{\"nodeName\":\"kvxm-n1\",\"terminationGracePeriodSeconds\":1}}", "--", "sh", "-c",
        "mkdir -p /www && echo from-b1 > /www/index.html && exec httpd -f -p 8080 -h /www");
    kubectl.ok("wait", "--for=condition=Ready", "pod/b1", "--timeout=90s");
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().split(" ").length == 2, "get", "endpoints", "b", "-o",
        "jsonpath={.subsets[*].addresses[*].ip}");
    String both = inPod("b", "from-b1", "sh", "-c", "for i in $(seq 30); do timeout 5 wget -q -O- http://" + ip
        + "/; done");
    assertTrue(both.contains("from-b\n") && both.contains("from-b1"), "both backends answered: " + both);
    kubectl.ok("delete", "pod", "b1", "--grace-period=1");
  }

  @Test
  @Order(4)
  void clusterDnsResolvesFromAPodOnEachNode() throws Exception {
    String ip = kubectl.ok("get", "svc", "b", "-o", "jsonpath={.spec.clusterIP}").trim();
    for (String pod : List.of("a", "b")) {
      String out = inPod(pod, "Address: " + ip, "nslookup", "b.default.svc.cluster.local");
      assertTrue(out.contains("b.default.svc.cluster.local"), out);
    }
    inPod("a", "from-b", "timeout", "10", "wget", "-q", "-O-", "http://b.default.svc.cluster.local/");
  }

  @Test
  @Order(5)
  void hostPortAnswersOnTheNodesAddress() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + NODE_IP[1] + ":" + HOST_PORT + "/"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("from-b", r.body().trim(), "from the host, through portmap on node 2's address");
    inPod("a", "from-b", "timeout", "10", "wget", "-q", "-O-", "http://" + NODE_IP[1] + ":" + HOST_PORT + "/");
  }

  @Test
  @Order(6)
  void aFullRangeLeavesANewNodeWaitingUntilADeletedNodeFreesItsBlock() throws Exception {
    Path yaml = dir.resolve("n3.yaml");
    Files.writeString(yaml, """
        apiVersion: v1
        kind: Node
        metadata: {name: kvxm-n3}
        """);
    kubectl.ok("apply", "-f", yaml.toString());
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("CIDRNotAvailable"), "get", "events",
        "--field-selector", "involvedObject.name=kvxm-n3");
    assertEquals("", kubectl.ok("get", "node", "kvxm-n3", "-o", "jsonpath={.spec.podCIDR}").trim(),
        "both blocks of " + CLUSTER_CIDR + " are taken");

    // Node 2's agent stops: it leaves nothing behind in its namespace.
    nodes[1].stop();
    assertNodeNamespaceClean(1);

    kubectl.ok("delete", "node", NETNS[1]);
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().equals(podCidr[1]), "get", "node", "kvxm-n3", "-o",
        "jsonpath={.spec.podCIDR}");
    // Node 1 drops its route to the deleted node's block, and routes it to nobody (n3 has no address).
    long deadline = System.currentTimeMillis() + 10_000;
    String route = "";
    while (System.currentTimeMillis() < deadline) {
      route = sh("ip", "-n", NETNS[0], "route", "show", podCidr[1]);
      if (route.isBlank()) break;
      Thread.sleep(200);
    }
    assertEquals("", route.trim(), "node 1's route to the deleted node's block is gone");
    kubectl.ok("delete", "node", "kvxm-n3");
  }

  @Test
  @Order(7)
  void aStoppedNodeLeavesNothingInItsNamespace() throws Exception {
    kubectl.ok("delete", "pod", "a", "--grace-period=1");
    nodes[0].stop();
    assertNodeNamespaceClean(0);
  }

  private static void assertNodeNamespaceClean(int i) throws Exception {
    String routes = sh("ip", "-n", NETNS[i], "route");
    assertFalse(routes.contains("10.74."), "no pod CIDR routes or pod bridge left: " + routes);
    String links = sh("ip", "-n", NETNS[i], "-br", "link");
    assertFalse(links.contains("kvxmb" + (i + 1)), "the pod bridge is gone: " + links);
    assertFalse(links.contains("veth"), "no pod veth left: " + links);
    String ruleset = inNode(i, "nft", "list", "ruleset");
    assertFalse(ruleset.contains("table ip kvx"), "the proxy's table is gone: " + ruleset);
    assertFalse(ruleset.contains("CNI-") || ruleset.contains("table ip nat"), "portmap's chains and table are gone: "
        + ruleset);
    assertEquals(ipForwardBefore[i], inNode(i, "cat", "/proc/sys/net/ipv4/ip_forward").trim(), "ip_forward restored");
  }
}
