package io.kvx.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The controller manager, the service proxy and custom resources through the real kubectl, against
 * `kvx up`: a rolling update never drops below replicas - maxUnavailable ready pods, rollback reuses
 * the old ReplicaSet, a service's ClusterIP balances across its pods, deletion cascades (and orphans
 * when asked), a deleted namespace is emptied, and a CRD's objects are served with its schema.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControllersIT {

  private static final String BRIDGE = "kvxt3";
  private static final String NEW_IMAGE = "registry.kvx.test/busybox:v2";
  private static KvxProcess kvx;
  private static Kubectl kubectl;
  private static HttpClient http;
  private static String token;
  private static Path dir;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-controllers");
    dir = Files.createTempDirectory("kvx-it-controllers-files");
    KvxProcess.prepareBusybox(home);
    // A second reference to the same busybox, so that a rollout can really change a template's image.
    KvxProcess.kvxCli("image", "import", Path.of("target", "busybox-oci.tar").toAbsolutePath().toString(),
        "--tag", NEW_IMAGE, "--home", home.toString());
    kvx = KvxProcess.start("controllers", home, 17491, "up", "--cluster-port", "5841", "--secret", "it-controllers",
        "--node-name", "ctl-node", "--bridge", BRIDGE, "--pod-cidr", "10.89.3.0/24");
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
    http = KvxProcess.insecureClient();
    token = Files.readString(home.resolve("admin.token")).trim();
    kubectl.await(Duration.ofSeconds(30), out -> out.contains(" Ready "), "get", "nodes");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  private static Path file(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  private static JsonObject api(String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + kvx.apiPort + path))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body());
  }

  /** Pods of the app that are Ready and not being deleted. */
  private static int readyPods(String app) throws Exception {
    JsonArray items = api("/api/v1/namespaces/default/pods?labelSelector=app%3D" + app).getJsonArray("items");
    int ready = 0;
    for (Object o : items) {
      JsonObject pod = (JsonObject) o;
      if (pod.getJsonObject("metadata").containsKey("deletionTimestamp")) continue;
      for (Object c : pod.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray())) {
        JsonObject cond = (JsonObject) c;
        if ("Ready".equals(cond.getString("type")) && "True".equals(cond.getString("status"))) ready++;
      }
    }
    return ready;
  }

  private static final String SERVE_HOSTNAME = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www";

  /**
   * Watches the app's pods from the state of a list on (the API's watch, not polling) and keeps the
   * lowest number of Ready pods not being deleted seen after any event.
   */
  private static final class ReadyWatch implements AutoCloseable {
    private final Map<String, Boolean> ready = new HashMap<>();
    private final AtomicInteger min = new AtomicInteger(Integer.MAX_VALUE);
    private final AtomicInteger events = new AtomicInteger();
    private final java.util.concurrent.CompletableFuture<?> stream;
    private volatile java.util.stream.Stream<String> lines;

    ReadyWatch(String app) throws Exception {
      JsonObject list = api("/api/v1/namespaces/default/pods?labelSelector=app%3D" + app);
      for (Object o : list.getJsonArray("items")) apply("ADDED", (JsonObject) o, false);
      sample();
      String rv = list.getJsonObject("metadata").getString("resourceVersion");
      stream = http.sendAsync(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + kvx.apiPort
              + "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3D" + app + "&resourceVersion=" + rv))
          .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofLines())
          .thenAccept(r -> {
            lines = r.body();
            lines.forEach(line -> {
              if (line.isBlank()) return;
              JsonObject e = new JsonObject(line);
              apply(e.getString("type"), e.getJsonObject("object"), true);
            });
          });
    }

    private synchronized void apply(String type, JsonObject pod, boolean sample) {
      if ("BOOKMARK".equals(type) || "ERROR".equals(type)) return;
      String name = pod.getJsonObject("metadata").getString("name");
      boolean isReady = !"DELETED".equals(type) && !pod.getJsonObject("metadata").containsKey("deletionTimestamp");
      boolean condition = false;
      for (Object c : pod.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray())) {
        JsonObject cond = (JsonObject) c;
        if ("Ready".equals(cond.getString("type")) && "True".equals(cond.getString("status"))) condition = true;
      }
      ready.put(name, isReady && condition);
      if (sample) {
        events.incrementAndGet();
        sample();
      }
    }

    private synchronized void sample() {
      min.accumulateAndGet((int) ready.values().stream().filter(b -> b).count(), Math::min);
    }

    int min() {
      return min.get();
    }

    int events() {
      return events.get();
    }

    @Override
    public void close() {
      // Closing the body's stream cancels the watch request.
      if (lines != null) lines.close();
      stream.cancel(true);
    }
  }

  @Test
  @Order(1)
  void rollingUpdateKeepsMinimumAvailabilityAndRollsBack() throws Exception {
    Path yaml = file("roll.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: roll}
        spec:
          replicas: 4
          selector: {matchLabels: {app: roll}}
          strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 1}}
          template:
            metadata: {labels: {app: roll}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: web
                image: busybox
                command: [sh, -c, "%s"]
                readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
        """.formatted(SERVE_HOSTNAME));
    kubectl.ok("apply", "-f", yaml.toString());
    kubectl.ok("rollout", "status", "deployment/roll", "--timeout=90s");
    String firstRs = kubectl.ok("get", "rs", "-l", "app=roll", "-o", "jsonpath={.items[0].metadata.name}").trim();
    assertEquals(4, readyPods("roll"));

    // A new image: the rollout replaces every pod; the watch sees Ready go true only once the probe
    // answers in the new container.
    long t0 = System.nanoTime();
    int min;
    int seen;
    try (ReadyWatch watch = new ReadyWatch("roll")) {
      kubectl.ok("set", "image", "deployment/roll", "web=" + NEW_IMAGE);
      String status = kubectl.ok("rollout", "status", "deployment/roll", "--timeout=120s");
      assertTrue(status.contains("successfully rolled out"), status);
      Thread.sleep(500);
      min = watch.min();
      seen = watch.events();
    }
    System.out.println("rolling update of 4 replicas to a new image: " + (System.nanoTime() - t0) / 1_000_000
        + " ms, lowest Ready count " + min + " over " + seen + " watch events");
    assertTrue(seen >= 4 * 3, "the watch saw the rollout: " + seen + " events");
    assertTrue(min >= 3, "ready pods dropped to " + min + " during the rollout (4 replicas, maxUnavailable 1)");
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().equals(String.join(" ", java.util.Collections.nCopies(4,
        NEW_IMAGE))), "get", "pods", "-l", "app=roll", "-o", "jsonpath={.items[*].spec.containers[0].image}");
    String running = kubectl.ok("get", "pods", "-l", "app=roll", "-o",
        "jsonpath={range .items[*]}{.status.containerStatuses[0].image} {.status.containerStatuses[0].ready}{\"\\n\"}{end}");
    assertEquals(4, running.lines().filter(l -> l.contains("busybox:v2 true")).count(), running);
    assertEquals("0 0", kubectl.ok("get", "rs", firstRs, "-o", "jsonpath={.spec.replicas} {.status.replicas}").trim(),
        "the old ReplicaSet is scaled to zero");
    String rs = kubectl.ok("get", "rs", "-l", "app=roll");
    assertTrue(rs.contains("DESIRED") && rs.lines().count() == 3, rs);
    String history = kubectl.ok("rollout", "history", "deployment/roll");
    assertTrue(history.contains("1 ") && history.contains("2 "), history);

    kubectl.ok("rollout", "undo", "deployment/roll");
    kubectl.ok("rollout", "status", "deployment/roll", "--timeout=120s");
    String active = kubectl.ok("get", "rs", firstRs, "-o", "jsonpath={.spec.replicas} {.metadata.annotations}");
    assertTrue(active.startsWith("4 ") && active.contains("\"deployment.kubernetes.io/revision\":\"3\""),
        "the first ReplicaSet is reused as revision 3: " + active);
    kubectl.ok("scale", "deployment/roll", "--replicas=2");
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().equals("2"), "get", "deployment", "roll", "-o",
        "jsonpath={.status.replicas}");

    // Paused: a template change makes no new ReplicaSet until the rollout is resumed.
    kubectl.ok("rollout", "pause", "deployment/roll");
    kubectl.ok("set", "env", "deployment/roll", "VERSION=4");
    Thread.sleep(2000);
    assertEquals(2, kubectl.ok("get", "rs", "-l", "app=roll", "-o", "name").lines().count(),
        "no new ReplicaSet while paused");
    assertTrue(kubectl.ok("get", "deployment", "roll", "-o",
        "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}").contains("DeploymentPaused"));
    kubectl.ok("rollout", "resume", "deployment/roll");
    kubectl.ok("rollout", "status", "deployment/roll", "--timeout=120s");
    assertEquals(3, kubectl.ok("get", "rs", "-l", "app=roll", "-o", "name").lines().count(),
        "the resumed rollout made its ReplicaSet");
  }

  @Test
  @Order(2)
  void serviceClusterIpBalancesAcrossReadyPods() throws Exception {
    kubectl.ok("expose", "deployment/roll", "--port=80", "--target-port=8080");
    String ip = kubectl.ok("get", "svc", "roll", "-o", "jsonpath={.spec.clusterIP}").trim();
    assertTrue(ip.startsWith("10."), "allocated from the service CIDR: " + ip);
    kubectl.await(Duration.ofSeconds(20), out -> out.trim().split(" ").length == 2, "get", "endpoints", "roll", "-o",
        "jsonpath={.subsets[*].addresses[*].ip}");
    Map<String, Integer> hits = new HashMap<>();
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.currentTimeMillis() + 30_000;
    int answered = 0;
    while (answered < 40 && System.currentTimeMillis() < deadline) {
      try {
        HttpResponse<String> r = plain.send(HttpRequest.newBuilder(URI.create("http://" + ip + "/"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        hits.merge(r.body().trim(), 1, Integer::sum);
        answered++;
      } catch (java.io.IOException e) {
        Thread.sleep(200);
      }
    }
    assertEquals(40, answered, "every request through the cluster IP answered: " + hits);
    assertEquals(2, hits.size(), "both pods served: " + hits);

    // A service without a selector and hand-written Endpoints: mirrored into an EndpointSlice, which the
    // proxy reads like any other.
    // (a ready pod's address, from the roll service's own Endpoints: the pod list may still hold terminating ones)
    Kubectl.Result warned = kubectl.run(Map.of(Kubectl.KEEP_WARNINGS, "1"), "get", "endpoints", "roll");
    assertTrue(warned.out().startsWith(Kubectl.ENDPOINTS_WARNING + "\n"), warned.out());
    String podIp = kubectl.ok("get", "endpoints", "roll", "-o", "jsonpath={.subsets[0].addresses[0].ip}").trim();
    String podName = kubectl.ok("get", "endpoints", "roll", "-o",
        "jsonpath={.subsets[0].addresses[0].targetRef.name}").trim();
    kubectl.ok("apply", "-f", file("manual.yaml", """
        apiVersion: v1
        kind: Service
        metadata: {name: manual}
        spec: {ports: [{name: web, port: 8081, targetPort: 8080}]}
        ---
        apiVersion: v1
        kind: Endpoints
        metadata: {name: manual}
        subsets: [{addresses: [{ip: "%s"}], ports: [{name: web, port: 8080}]}]
        """.formatted(podIp)).toString());
    kubectl.await(Duration.ofSeconds(20), out -> out.trim().equals(podIp), "get", "endpointslices", "-l",
        "kubernetes.io/service-name=manual", "-o", "jsonpath={.items[*].endpoints[*].addresses[*]}");
    String manualIp = kubectl.ok("get", "svc", "manual", "-o", "jsonpath={.spec.clusterIP}").trim();
    String manualBody = null;
    for (long until = System.currentTimeMillis() + 20_000; manualBody == null && System.currentTimeMillis() < until; ) {
      try {
        manualBody = plain.send(HttpRequest.newBuilder(URI.create("http://" + manualIp + ":8081/"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body().trim();
      } catch (java.io.IOException e) {
        Thread.sleep(200);
      }
    }
    assertEquals(podName, manualBody, "the selectorless service reaches the hand-written endpoint");
    kubectl.ok("delete", "svc", "manual");

    // Cluster DNS: a pod resolves the service by its short name through its resolv.conf search path.
    kubectl.ok("run", "resolver", "--image=busybox", "--restart=Never", "--", "sh", "-c",
        "nslookup roll; sleep 3600");
    String resolved = kubectl.await(Duration.ofSeconds(60), out -> out.contains("Address: " + ip), "logs", "resolver");
    assertTrue(resolved.contains("roll.default.svc.cluster.local"), resolved);
    kubectl.ok("delete", "pod", "resolver", "--grace-period=1");

    // A taken ClusterIP and an out-of-range nodePort are refused with the field named.
    Kubectl.Result taken = kubectl.run("create", "service", "clusterip", "again", "--tcp=80:80", "--clusterip=" + ip);
    assertTrue(taken.code() != 0 && taken.out().contains("already allocated"), taken.out());
    Kubectl.Result badPort = kubectl.run("create", "service", "nodeport", "np", "--tcp=80:80", "--node-port=80");
    assertTrue(badPort.code() != 0 && badPort.out().contains("nodePort"), badPort.out());
    kubectl.ok("create", "service", "nodeport", "np", "--tcp=80:80");
    String port = kubectl.ok("get", "svc", "np", "-o", "jsonpath={.spec.ports[0].nodePort}").trim();
    int nodePort = Integer.parseInt(port);
    assertTrue(nodePort >= 30000 && nodePort <= 32767, port);
  }

  @Test
  @Order(3)
  void deletionCascadesOrOrphans() throws Exception {
    kubectl.ok("create", "deployment", "orphan", "--image=busybox", "--", "sleep", "3600");
    kubectl.await(Duration.ofSeconds(30), out -> !out.isBlank(), "get", "rs", "-l", "app=orphan", "-o",
        "name");
    kubectl.ok("delete", "deployment", "orphan", "--cascade=orphan");
    Thread.sleep(2000);
    String left = kubectl.ok("get", "rs", "-l", "app=orphan", "-o", "jsonpath={.items[0].metadata.ownerReferences}");
    assertTrue(left.isBlank(), "the orphaned ReplicaSet stays, without its owner: " + left);
    String orphaned = kubectl.ok("get", "rs", "-l", "app=orphan", "-o", "name").trim();
    // The same deployment again adopts the orphan (its template is the deployment's) instead of making one.
    kubectl.ok("create", "deployment", "orphan", "--image=busybox", "--", "sleep", "3600");
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().equals("Deployment/orphan true true"), "get", orphaned,
        "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} "
            + "{.metadata.ownerReferences[0].controller} {.metadata.ownerReferences[0].blockOwnerDeletion}");
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().equals("1"), "get", "deployment", "orphan", "-o",
        "jsonpath={.status.availableReplicas}");
    Thread.sleep(1000);
    assertEquals(orphaned, kubectl.ok("get", "rs", "-l", "app=orphan", "-o", "name").trim(), "no second ReplicaSet");
    kubectl.ok("delete", "deployment", "orphan");
    kubectl.await(Duration.ofSeconds(30), out -> out.isBlank(), "get", "rs", "-l", "app=orphan", "-o", "name");
    // Its pods go too (terminating: `sleep` as PID 1 ignores SIGTERM and waits out its 30 s grace).
    kubectl.await(Duration.ofSeconds(30), out -> out.lines().noneMatch(String::isBlank), "get", "pods", "-l",
        "app=orphan", "-o", "jsonpath={range .items[*]}{.metadata.deletionTimestamp}{\"\\n\"}{end}");

    kubectl.ok("delete", "deployment", "roll");
    kubectl.await(Duration.ofSeconds(30), out -> out.isBlank(), "get", "rs,pods", "-l", "app=roll", "-o", "name");
  }

  @Test
  @Order(4)
  void deletedNamespaceIsEmptiedAndGoes() throws Exception {
    kubectl.ok("create", "namespace", "doomed");
    kubectl.await(Duration.ofSeconds(10), out -> out.contains("default"), "-n", "doomed", "get", "serviceaccounts");
    kubectl.ok("-n", "doomed", "create", "deployment", "d", "--image=busybox", "--", "sleep", "3600");
    kubectl.ok("-n", "doomed", "create", "configmap", "c", "--from-literal=a=b");
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("Running"), "-n", "doomed", "get", "pods");
    kubectl.ok("-n", "doomed", "patch", "configmap", "c", "--type=merge", "-p",
        "{\"metadata\":{\"finalizers\":[\"example.com/hold\"]}}");
    kubectl.ok("delete", "namespace", "doomed", "--wait=false");
    // What holds it is said in the namespace's conditions, in Kubernetes' words.
    String held = kubectl.await(Duration.ofSeconds(30), out -> out.contains("NamespaceFinalizersRemaining=True"), "get",
        "namespace", "doomed", "-o", "jsonpath={range .status.conditions[*]}{.type}={.status} {.message}{\"\\n\"}{end}");
    assertTrue(held.contains("Some content in the namespace has finalizers remaining: example.com/hold in 1 resource "
        + "instances") && held.contains("NamespaceContentRemaining=True Some resources are remaining: configmaps has 1 "
        + "resource instances"), held);
    kubectl.ok("-n", "doomed", "patch", "configmap", "c", "--type=merge", "-p", "{\"metadata\":{\"finalizers\":null}}");
    long deadline = System.currentTimeMillis() + 90_000;
    Kubectl.Result gone = kubectl.run("get", "namespace", "doomed");
    while (!gone.out().contains("NotFound") && System.currentTimeMillis() < deadline) {
      Thread.sleep(500);
      gone = kubectl.run("get", "namespace", "doomed");
    }
    assertTrue(gone.out().contains("NotFound"), gone.out());
  }

  @Test
  @Order(5)
  void customResourcesAreServedWithTheirSchema() throws Exception {
    Path crd = file("crd.yaml", """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
          versions:
          - name: v1
            served: true
            storage: true
            subresources:
              status: {}
              scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
            additionalPrinterColumns:
            - {name: Size, type: string, jsonPath: .spec.size}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    required: [size]
                    properties:
                      size: {type: string, enum: [small, large]}
                      replicas: {type: integer, minimum: 0}
                      color: {type: string, default: blue}
        """);
    kubectl.ok("apply", "-f", crd.toString());
    Path widget = file("w1.yaml", """
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: w1}
        spec: {size: small, replicas: 1}
        """);
    kubectl.await(Duration.ofSeconds(20), out -> true, "apply", "-f", widget.toString());
    String table = kubectl.ok("get", "wd");
    assertTrue(table.contains("SIZE") && table.contains("small"), table);
    assertEquals("blue", kubectl.ok("get", "widget", "w1", "-o", "jsonpath={.spec.color}").trim(), "schema default");
    kubectl.ok("scale", "widget", "w1", "--replicas=3");
    assertEquals("3", kubectl.ok("get", "widget", "w1", "-o", "jsonpath={.spec.replicas}").trim());
    Path bad = file("bad.yaml", """
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: bad}
        spec: {size: huge}
        """);
    Kubectl.Result invalid = kubectl.run("create", "-f", bad.toString());
    assertTrue(invalid.code() != 0 && invalid.out().contains("spec.size"), invalid.out());
    // Custom resources own and are owned as any object: the collector follows their ownerReferences.
    for (String owner : java.util.List.of("w-bg", "w-fg")) {
      kubectl.ok("apply", "-f", file(owner + ".yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: "
          + owner + "}\nspec: {size: small}\n").toString());
      String uid = kubectl.ok("get", "widget", owner, "-o", "jsonpath={.metadata.uid}").trim();
      kubectl.ok("apply", "-f", file(owner + "-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + owner
          + "-child\n  ownerReferences: [{apiVersion: example.com/v1, kind: Widget, name: " + owner + ", uid: " + uid
          + ", controller: true, blockOwnerDeletion: true}]\n").toString());
    }
    kubectl.ok("delete", "widget", "w-bg");
    kubectl.await(Duration.ofSeconds(20), out -> !out.contains("w-bg-child"), "get", "configmaps", "-o", "name");
    kubectl.ok("delete", "widget", "w-fg", "--cascade=foreground", "--wait=false");
    kubectl.await(Duration.ofSeconds(20), out -> !out.contains("w-fg-child") && !out.contains("w-fg"), "get",
        "configmaps,widgets", "-o", "name");
    kubectl.ok("delete", "crd", "widgets.example.com");
    kubectl.await(Duration.ofSeconds(20), out -> !out.contains("widgets"), "api-resources", "--api-group=example.com");
  }

  private static String helm(String... args) throws Exception {
    Path kubectlBinary = Path.of(System.getProperty("kvx.kubectl", System.getenv().getOrDefault("KVX_KUBECTL", "")));
    Path binary = kubectlBinary.resolveSibling("helm");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(binary), "helm is not next to kubectl");
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(binary.toString(), "--kubeconfig",
        kvx.kubeconfig().toString()));
    cmd.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "helm " + String.join(" ", args) + " hung");
    assertEquals(0, p.exitValue(), "helm " + String.join(" ", args) + ": " + out);
    return out;
  }

  @Test
  @Order(6)
  void helmInstallsUpgradesAndUninstallsAChart() throws Exception {
    helm("create", "demo");
    Path values = dir.resolve("demo/values.yaml");
    Files.writeString(values, Files.readString(values).replace("repository: nginx", "repository: busybox")
        .replace("tag: \"\"", "tag: \"latest\""));
    assertTrue(helm("install", "demo", "./demo").contains("STATUS: deployed"));
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("demo"), "get", "deployment,service,serviceaccount");
    assertTrue(helm("upgrade", "demo", "./demo", "--set", "replicaCount=2").contains("REVISION: 2"));
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().equals("2"), "get", "deployment", "demo", "-o",
        "jsonpath={.spec.replicas}");
    assertTrue(helm("uninstall", "demo").contains("uninstalled"));
    kubectl.await(Duration.ofSeconds(30), out -> !out.contains("demo"), "get", "deployment,service,secrets");
  }

  @Test
  @Order(7)
  void replicationControllerKeepsItsReplicasAndScales() throws Exception {
    kubectl.ok("apply", "-f", file("rc.yaml", """
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: legacy}
        spec:
          replicas: 2
          selector: {app: legacy}
          template:
            metadata: {labels: {app: legacy}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: busybox, command: ["sleep", "3600"]}]
        """).toString());
    kubectl.await(Duration.ofSeconds(60), out -> out.trim().equals("2"), "get", "rc", "legacy", "-o",
        "jsonpath={.status.readyReplicas}");
    // A pod deleted by hand is replaced; the scale subresource resizes it.
    String victim = kubectl.ok("get", "pods", "-l", "app=legacy", "-o", "jsonpath={.items[0].metadata.name}").trim();
    kubectl.ok("delete", "pod", victim, "--wait=false");
    kubectl.ok("scale", "rc", "legacy", "--replicas=3");
    kubectl.await(Duration.ofSeconds(60), out -> out.trim().equals("3"), "get", "rc", "legacy", "-o",
        "jsonpath={.status.readyReplicas}");
    String owners = kubectl.ok("get", "pods", "-l", "app=legacy", "-o",
        "jsonpath={range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {end}");
    assertTrue(owners.contains("ReplicationController/legacy"), owners);
    kubectl.await(Duration.ofSeconds(30), out -> !out.contains(victim), "get", "pods", "-l", "app=legacy", "-o", "name");
    kubectl.await(Duration.ofSeconds(60), out -> out.trim().equals("3 3"), "get", "rc", "legacy", "-o",
        "jsonpath={.status.replicas} {.status.readyReplicas}");
    kubectl.ok("delete", "rc", "legacy");
  }

  /** "name kind/owner controller blockOwnerDeletion" per pod of the selector, one a line. */
  private static String owners(String selector) throws Exception {
    return kubectl.ok("get", "pods", "-l", selector, "-o", "jsonpath={range .items[*]}{.metadata.name} "
        + "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} "
        + "{.metadata.ownerReferences[0].controller} {.metadata.ownerReferences[0].blockOwnerDeletion}"
        + "{.metadata.deletionTimestamp}{\"\\n\"}{end}");
  }

  private static long ownedBy(String owners, String owner) {
    return owners.lines().filter(l -> l.endsWith(" " + owner + " true true")).count();
  }

  /** Polls {@code read} until its output satisfies {@code condition}; fails with the last output. */
  private static String until(Duration timeout, java.util.concurrent.Callable<String> read,
                              java.util.function.Predicate<String> condition) throws Exception {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    String last = read.call();
    while (!condition.test(last)) {
      if (System.currentTimeMillis() > deadline) throw new AssertionError("timed out; last: " + last);
      Thread.sleep(300);
      last = read.call();
    }
    return last;
  }

  private static String replicaSet(String name, int replicas, String matchLabels, String labels) {
    return """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: %s}
        spec:
          replicas: %d
          selector: {matchLabels: {%s}}
          template:
            metadata: {labels: {%s}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: busybox, command: ["sleep", "3600"]}]
        """.formatted(name, replicas, matchLabels, labels);
  }

  @Test
  @Order(9)
  void componentStatusesReportTheLeadersAndTheStore() throws Exception {
    Kubectl.Result cs = kubectl.run("get", "componentstatuses");
    assertEquals(0, cs.code(), cs.out());
    assertTrue(cs.out().contains("Warning: v1 ComponentStatus is deprecated in v1.19+"), cs.out());
    for (String c : List.of("scheduler", "controller-manager", "etcd-0")) {
      assertTrue(cs.out().lines().anyMatch(l -> l.matches(c + "\\s+Healthy\\s+ok\\s*")), cs.out());
    }
  }

  @Test
  @Order(8)
  void replicaSetAdoptsMatchingOrphansAndReleasesRelabelledPods() throws Exception {
    // Another controller's pod whose labels also match the selector below: never adopted.
    kubectl.ok("apply", "-f", file("other.yaml", replicaSet("other", 1, "app: adopt, owner: other",
        "app: adopt, owner: other")).toString());
    String other = until(Duration.ofSeconds(30), () -> owners("owner=other"),
        out -> ownedBy(out, "ReplicaSet/other") == 1).lines().findFirst().orElseThrow().split(" ")[0];
    // A bare pod, created before its future owner.
    kubectl.ok("apply", "-f", file("bare.yaml", """
        apiVersion: v1
        kind: Pod
        metadata: {name: bare, labels: {app: adopt}}
        spec:
          terminationGracePeriodSeconds: 1
          containers: [{name: c, image: busybox, command: ["sleep", "3600"]}]
        """).toString());
    kubectl.ok("apply", "-f", file("adopt.yaml", replicaSet("adopt", 2, "app: adopt", "app: adopt")).toString());
    kubectl.await(Duration.ofSeconds(60), out -> out.trim().equals("2"), "get", "rs", "adopt", "-o",
        "jsonpath={.status.readyReplicas}");
    Thread.sleep(2000);
    String claimed = owners("app=adopt");
    assertEquals(3, claimed.lines().count(), "the bare pod counts toward replicas, one pod created: " + claimed);
    assertTrue(claimed.lines().anyMatch(l -> l.equals("bare ReplicaSet/adopt true true")),
        "adopted as controller, blocking the owner's deletion: " + claimed);
    assertEquals(2, ownedBy(claimed, "ReplicaSet/adopt"), claimed);
    assertTrue(claimed.lines().anyMatch(l -> l.equals(other + " ReplicaSet/other true true")),
        "the other controller's pod is left alone: " + claimed);
    String events = kubectl.ok("get", "events", "--field-selector", "involvedObject.name=adopt");
    assertEquals(1, events.lines().filter(l -> l.contains("SuccessfulCreate")).count(),
        "one pod created for two replicas: " + events);

    // Relabelled out of the selector: released (no owner left) and replaced.
    kubectl.ok("label", "pod", "bare", "app=gone", "--overwrite");
    kubectl.await(Duration.ofSeconds(30), out -> out.isBlank(), "get", "pod", "bare", "-o",
        "jsonpath={.metadata.ownerReferences}");
    String after = until(Duration.ofSeconds(60), () -> owners("app=adopt"),
        out -> ownedBy(out, "ReplicaSet/adopt") == 2 && !out.contains("bare "));
    assertEquals(3, after.lines().count(), after);
    kubectl.await(Duration.ofSeconds(60), out -> out.trim().equals("2 2"), "get", "rs", "adopt", "-o",
        "jsonpath={.status.replicas} {.status.readyReplicas}");

    // A set being deleted (held by a finalizer) adopts nothing; relabelled back, the pod stays an orphan.
    kubectl.ok("patch", "rs", "adopt", "--type=merge", "-p", "{\"metadata\":{\"finalizers\":[\"example.com/hold\"]}}");
    kubectl.ok("delete", "rs", "adopt", "--cascade=orphan", "--wait=false");
    until(Duration.ofSeconds(30), () -> owners("app=adopt"), out -> ownedBy(out, "ReplicaSet/adopt") == 0);
    kubectl.ok("label", "pod", "bare", "app=adopt", "--overwrite");
    Thread.sleep(3000);
    String held = owners("app=adopt");
    assertEquals(0, ownedBy(held, "ReplicaSet/adopt"), "a set being deleted adopts nothing: " + held);
    assertEquals(4, held.lines().count(), "and creates nothing: " + held);
    kubectl.ok("patch", "rs", "adopt", "--type=merge", "-p", "{\"metadata\":{\"finalizers\":null}}");
    kubectl.await(Duration.ofSeconds(30), out -> !out.contains("adopt"), "get", "rs", "-o", "name");
    kubectl.ok("delete", "rs", "other");
    kubectl.ok("delete", "pods", "-l", "app=adopt", "--wait=false");
  }

  @Test
  @Order(10)
  void aReplicaSetWhosePodsAreRefusedSaysWhy() throws Exception {
    kubectl.ok("create", "namespace", "quota-rs");
    kubectl.ok("-n", "quota-rs", "create", "quota", "cpu", "--hard=requests.cpu=1");
    kubectl.ok("-n", "quota-rs", "create", "deployment", "nocpu", "--image=busybox", "--", "sleep", "3600");
    String condition = kubectl.await(Duration.ofSeconds(30), out -> out.contains("FailedCreate"), "-n", "quota-rs",
        "get", "rs", "-l", "app=nocpu", "-o", "jsonpath={range .items[0].status.conditions[*]}{.type} {.status} "
            + "{.reason} {.message}{end} replicas={.items[0].status.replicas}");
    assertTrue(condition.startsWith("ReplicaFailure True FailedCreate pods \"nocpu-") && condition.contains(
        "is forbidden: failed quota: cpu: must specify requests.cpu") && condition.endsWith("replicas=0"), condition);
    kubectl.ok("delete", "namespace", "quota-rs", "--wait=false");
  }
}
