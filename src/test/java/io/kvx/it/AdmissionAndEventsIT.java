package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 7 points 7 and 10 through kubectl against `kvx up` with the controller manager and scheduler (no node: pods
 * stay Pending, which is all quota accounting and the controllers' events need): ResourceQuota status.used follows
 * creates and deletes, an over-quota create gets Kubernetes' 403 "exceeded quota" (also right after the quota is
 * created), a quota on compute resources makes pods say what they request, LimitRange defaults and min/max; the
 * controllers' Events in `kubectl describe` and their workqueue_depth/workqueue_adds_total.
 * Own ports 18404/5404.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdmissionAndEventsIT {

  private static final int PORT = 18404;
  private static KvxProcess kvx;
  private static Kubectl k;
  private static ApiHttp api;
  private static Path dir;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-admission");
    dir = Files.createTempDirectory("kvx-it-admission-files");
    kvx = KvxProcess.start("admission", home, PORT, "up", "--cluster-port", "5404", "--secret", "it-admission",
        "--roles", "sequencer,apiserver,scheduler,controller-manager");
    kvx.awaitReady(Duration.ofSeconds(60));
    k = new Kubectl(kvx.kubeconfig());
    api = new ApiHttp(kvx);
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

  private static String[] runPod(String ns, String name, String resources) {
    String overrides = "{\"spec\":{\"containers\":[{\"name\":\"" + name + "\",\"image\":\"busybox\""
        + (resources == null ? "" : ",\"resources\":" + resources) + "}]}}";
    return new String[] {"run", name, "-n", ns, "--image=busybox", "--overrides=" + overrides};
  }

  @Test
  @Order(1)
  void quotaUsageFollowsCreatesAndDeletesAndRefusesWhatWouldExceedIt() throws Exception {
    k.ok("create", "namespace", "team");
    k.ok("create", "quota", "compute", "-n", "team",
        "--hard=pods=2,configmaps=3,requests.cpu=1,requests.memory=1Gi,limits.memory=2Gi");
    // every namespace has its kube-root-ca.crt configmap, which counts
    String used = "{.status.used.pods} {.status.used.configmaps} {.status.used.requests\\.cpu}";
    k.await(Duration.ofSeconds(10), out -> out.equals("0 1 0"), "get", "quota", "compute", "-n", "team", "-o",
        "jsonpath=" + used);

    String sized = "{\"requests\":{\"cpu\":\"400m\",\"memory\":\"256Mi\"},\"limits\":{\"memory\":\"512Mi\"}}";
    k.ok(runPod("team", "p1", sized));
    k.await(Duration.ofSeconds(10), out -> out.equals("1 1 400m"), "get", "quota", "compute", "-n", "team", "-o",
        "jsonpath=" + used);
    k.ok(runPod("team", "p2", sized));
    k.await(Duration.ofSeconds(10), out -> out.equals("2 1 800m"), "get", "quota", "compute", "-n", "team", "-o",
        "jsonpath=" + used);
    String described = k.ok("describe", "quota", "compute", "-n", "team");
    assertTrue(described.matches("(?s).*requests\\.cpu\\s+800m\\s+1\\n.*") && described.matches(
        "(?s).*limits\\.memory\\s+1Gi\\s+2Gi\\n.*"), described);

    Kubectl.Result over = k.run(runPod("team", "p3", sized));
    assertNotEquals(0, over.code());
    assertEquals("Error from server (Forbidden): pods \"p3\" is forbidden: exceeded quota: compute, requested: "
        + "pods=1,requests.cpu=400m, used: pods=2,requests.cpu=800m, limited: pods=2,requests.cpu=1", over.out().trim());
    // a quota on cpu and memory makes every container say how much it wants, before any counting
    Kubectl.Result bare = k.run(runPod("team", "bare", null));
    assertEquals("Error from server (Forbidden): pods \"bare\" is forbidden: failed quota: compute: must specify "
        + "limits.memory for: bare; requests.cpu for: bare; requests.memory for: bare", bare.out().trim());
    assertTrue(k.ok("get", "pods", "-n", "team", "-o", "name").lines().toList().equals(List.of("pod/p1", "pod/p2")));

    // used falls when a pod goes, and what did not fit fits
    k.ok("delete", "pod", "p1", "-n", "team", "--wait=false");
    k.await(Duration.ofSeconds(10), out -> out.equals("1 1 400m"), "get", "quota", "compute", "-n", "team", "-o",
        "jsonpath=" + used);
    k.ok(runPod("team", "p3", sized));

    // object counts: configmaps
    k.ok("create", "configmap", "c1", "-n", "team");
    k.ok("create", "configmap", "c2", "-n", "team");
    Kubectl.Result cm = k.run("create", "configmap", "c3", "-n", "team");
    assertEquals("error: failed to create configmap: configmaps \"c3\" is forbidden: exceeded quota: compute, "
        + "requested: configmaps=1, used: configmaps=3, limited: configmaps=3", cm.out().trim());
    k.await(Duration.ofSeconds(10), out -> out.equals("2 3 800m"), "get", "quota", "compute", "-n", "team", "-o",
        "jsonpath=" + used);
    k.ok("delete", "configmap", "c1", "-n", "team");
    k.await(Duration.ofSeconds(10), out -> out.equals("2 2 800m"), "get", "quota", "compute", "-n", "team", "-o",
        "jsonpath=" + used);
    k.ok("create", "configmap", "c3", "-n", "team");
  }

  @Test
  @Order(2)
  void aQuotaJustCreatedHoldsForTheVeryNextCreate() throws Exception {
    // Kubernetes' quota admission looks a namespace's quotas up live when its cache has none; so must kvx's: a
    // create right after the quota's own create (no pause, the same client) is already held to it.
    for (int i = 0; i < 5; i++) {
      String ns = "fresh-" + i;
      assertEquals(201, api.send("POST", "/api/v1/namespaces", new JsonObject().put("metadata",
          new JsonObject().put("name", ns))).code());
      // the namespace's kube-root-ca.crt is one configmap; the quota allows none more
      k.await(Duration.ofSeconds(10), out -> out.contains("kube-root-ca.crt"), "get", "configmaps", "-n", ns);
      ApiHttp.Reply quota = api.send("POST", "/api/v1/namespaces/" + ns + "/resourcequotas", new JsonObject()
          .put("metadata", new JsonObject().put("name", "one")).put("spec", new JsonObject().put("hard",
              new JsonObject().put("configmaps", "1"))));
      assertEquals(201, quota.code(), quota.body().encode());
      ApiHttp.Reply cm = api.send("POST", "/api/v1/namespaces/" + ns + "/configmaps", new JsonObject()
          .put("metadata", new JsonObject().put("name", "extra")));
      assertEquals(403, cm.code(), "namespace " + ns + ": " + cm.body().encode());
      assertEquals("configmaps \"extra\" is forbidden: exceeded quota: one, requested: configmaps=1, used: "
          + "configmaps=1, limited: configmaps=1", cm.body().getString("message"));
      assertEquals("Forbidden", cm.body().getString("reason"));
    }
    // the same for a LimitRange: the pod created right after it gets its defaults
    for (int i = 0; i < 3; i++) {
      String ns = "fresh-" + i;
      assertEquals(201, api.send("POST", "/api/v1/namespaces/" + ns + "/limitranges", new JsonObject()
          .put("metadata", new JsonObject().put("name", "defaults")).put("spec", new JsonObject().put("limits",
              new io.vertx.core.json.JsonArray().add(new JsonObject().put("type", "Container")
                  .put("default", new JsonObject().put("cpu", "200m")))))).code());
      ApiHttp.Reply pod = api.send("POST", "/api/v1/namespaces/" + ns + "/pods", new JsonObject()
          .put("metadata", new JsonObject().put("name", "p")).put("spec", new JsonObject().put("containers",
              new io.vertx.core.json.JsonArray().add(new JsonObject().put("name", "c").put("image", "busybox")))));
      assertEquals(201, pod.code(), pod.body().encode());
      assertEquals("{\"limits\":{\"cpu\":\"200m\"},\"requests\":{\"cpu\":\"200m\"}}", pod.body().getJsonObject("spec")
          .getJsonArray("containers").getJsonObject(0).getJsonObject("resources").encode(), "namespace " + ns);
    }
  }

  @Test
  @Order(3)
  void limitRangeDefaultsAndBounds() throws Exception {
    k.ok("create", "namespace", "bounded");
    k.ok("create", "-f", file("limitrange.yaml", """
        apiVersion: v1
        kind: LimitRange
        metadata: {name: bounds, namespace: bounded}
        spec:
          limits:
          - type: Container
            default: {cpu: 300m, memory: 128Mi}
            defaultRequest: {cpu: 100m}
            max: {cpu: 500m}
            min: {cpu: 50m}
        """).toString());
    // stored as Kubernetes defaults it: the memory request defaults to the memory limit
    String lr = k.ok("describe", "limitrange", "bounds", "-n", "bounded");
    assertTrue(lr.matches("(?s).*Container\\s+cpu\\s+50m\\s+500m\\s+100m\\s+300m\\s+-.*")
        && lr.matches("(?s).*Container\\s+memory\\s+-\\s+-\\s+128Mi\\s+128Mi\\s+-.*"), lr);

    k.ok(runPod("bounded", "plain", null));
    assertEquals("{\"limits\":{\"cpu\":\"300m\",\"memory\":\"128Mi\"},\"requests\":{\"cpu\":\"100m\",\"memory\":"
        + "\"128Mi\"}}", k.ok("get", "pod", "plain", "-n", "bounded", "-o",
        "jsonpath={.spec.containers[0].resources}"));
    assertEquals("LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container "
        + "plain", k.ok("get", "pod", "plain", "-n", "bounded", "-o",
        "jsonpath={.metadata.annotations.kubernetes\\.io/limit-ranger}"));
    String described = k.ok("describe", "pod", "plain", "-n", "bounded");
    assertTrue(described.matches("(?s).*Limits:\\s+cpu:\\s+300m\\s+memory:\\s+128Mi\\s+Requests:\\s+cpu:\\s+100m\\s+"
        + "memory:\\s+128Mi.*") && described.matches("(?s).*QoS Class:\\s+Burstable\n.*"), described);
    // a limit without a request: the request is the limit (pod defaulting), the LimitRange's defaultRequest is not used
    k.ok(runPod("bounded", "limited", "{\"limits\":{\"cpu\":\"400m\"}}"));
    assertEquals("400m 400m 128Mi", k.ok("get", "pod", "limited", "-n", "bounded", "-o",
        "jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.cpu} "
            + "{.spec.containers[0].resources.limits.memory}"));

    Kubectl.Result big = k.run(runPod("bounded", "big", "{\"limits\":{\"cpu\":\"1\"}}"));
    assertEquals("Error from server (Forbidden): pods \"big\" is forbidden: maximum cpu usage per Container is 500m, "
        + "but limit is 1", big.out().trim());
    Kubectl.Result tiny = k.run(runPod("bounded", "tiny", "{\"requests\":{\"cpu\":\"10m\"}}"));
    assertEquals("Error from server (Forbidden): pods \"tiny\" is forbidden: minimum cpu usage per Container is 50m, "
        + "but request is 10m", tiny.out().trim());
    assertEquals(List.of("pod/limited", "pod/plain"), k.ok("get", "pods", "-n", "bounded", "-o", "name").lines()
        .sorted().toList());
  }

  @Test
  @Order(4)
  void controllersRecordEventsShownByDescribeAndCountTheirWork() throws Exception {
    k.ok("create", "namespace", "events");
    k.ok("create", "deployment", "web", "-n", "events", "--image=busybox", "--replicas=2");
    k.ok("create", "job", "once", "-n", "events", "--image=busybox", "--", "true");
    k.ok("apply", "-n", "events", "-f", file("workloads.yaml", """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec: {replicas: 1, serviceName: db, selector: {matchLabels: {app: db}},
               template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: busybox}]}}}
        ---
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: legacy}
        spec: {replicas: 1, selector: {app: legacy},
               template: {metadata: {labels: {app: legacy}}, spec: {containers: [{name: c, image: busybox}]}}}
        """).toString());

    String deployment = k.await(Duration.ofSeconds(20), out -> out.contains("ScalingReplicaSet"), "describe",
        "deployment", "web", "-n", "events");
    String rs = k.ok("get", "rs", "-n", "events", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}");
    assertTrue(deployment.matches("(?s).*Normal\\s+ScalingReplicaSet\\s+\\S+\\s+deployment-controller\\s+Scaled up "
        + "replica set " + rs + " from 0 to 2.*"), deployment);
    String replicaSet = k.await(Duration.ofSeconds(20), out -> out.split("SuccessfulCreate").length > 2, "describe",
        "rs", rs, "-n", "events");
    assertTrue(replicaSet.matches("(?s).*Normal\\s+SuccessfulCreate\\s+\\S+\\s+replicaset-controller\\s+Created "
        + "pod: " + rs + "-\\w{5}.*"), replicaSet);
    String job = k.await(Duration.ofSeconds(20), out -> out.contains("SuccessfulCreate"), "describe", "job", "once",
        "-n", "events");
    assertTrue(job.matches("(?s).*Normal\\s+SuccessfulCreate\\s+\\S+\\s+job-controller\\s+Created pod: once-\\w{5}.*"),
        job);
    String sts = k.await(Duration.ofSeconds(20), out -> out.contains("SuccessfulCreate"), "describe", "statefulset",
        "db", "-n", "events");
    assertTrue(sts.matches("(?s).*Normal\\s+SuccessfulCreate\\s+\\S+\\s+statefulset-controller\\s+create Pod db-0 in "
        + "StatefulSet db successful.*"), sts);
    String rc = k.await(Duration.ofSeconds(20), out -> out.contains("SuccessfulCreate"), "describe", "rc", "legacy",
        "-n", "events");
    assertTrue(rc.matches("(?s).*Normal\\s+SuccessfulCreate\\s+\\S+\\s+replication-controller\\s+Created pod: "
        + "legacy-\\w{5}.*"), rc);
    // the scheduler records why a pod waits (this cluster has no node), in Kubernetes' words
    String pod = k.await(Duration.ofSeconds(20), out -> out.contains("FailedScheduling"), "describe", "pod", "db-0",
        "-n", "events");
    assertTrue(pod.matches("(?s).*Warning\\s+FailedScheduling\\s+\\S+\\s+default-scheduler\\s+no nodes available "
        + "to schedule pods.*"), pod);
    // the disruption controller says when a budget covers no pod
    k.ok("create", "pdb", "guard", "-n", "events", "--selector=app=nothing", "--min-available=1");
    String pdb = k.await(Duration.ofSeconds(20), out -> out.contains("NoPods"), "describe", "pdb", "guard", "-n",
        "events");
    assertTrue(pdb.matches("(?s).*Normal\\s+NoPods\\s+\\S+( \\(x\\d+ over \\S+\\))?\\s+controllermanager\\s+No matching pods "
        + "found.*"), pdb);
    // kubectl get events lists them all, with the objects they are about
    String events = k.ok("get", "events", "-n", "events");
    for (String object : List.of("deployment/web", "replicaset/" + rs, "job/once", "statefulset/db",
        "replicationcontroller/legacy", "pod/db-0", "poddisruptionbudget/guard")) {
      assertTrue(events.contains(object), object + " in " + events);
    }

    // the garbage collector takes the deployment's ReplicaSet and pods with it
    k.ok("delete", "deployment", "web", "-n", "events", "--wait=false");
    k.await(Duration.ofSeconds(20), out -> !out.contains("web-"), "get", "rs,pods", "-n", "events", "-o", "name");

    // each controller has its work queue's depth and adds; those that had work here counted it
    String token = Files.readString(kvx.home.resolve("admin.token")).trim();
    String metrics = KvxProcess.insecureClient().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + PORT
        + "/metrics")).header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body();
    for (String controller : List.of("deployment", "replicasets", "job", "statefulset", "replicationcontrollers",
        "namespace", "serviceaccount", "resourcequota", "garbagecollector")) {
      assertTrue(ApiSurfaceIT.sum(metrics, "workqueue_adds_total", Map.of("name", controller)) > 0,
          "workqueue_adds_total for " + controller);
    }
    for (String controller : List.of("deployment", "replicasets", "job", "statefulset", "replicationcontrollers",
        "daemonset", "cronjob", "endpoints", "namespace", "serviceaccount", "resourcequota", "garbagecollector",
        "disruption", "horizontalpodautoscaler", "nodelifecycle", "nodeipam", "persistentvolume-binder")) {
      assertTrue(metrics.contains("workqueue_depth{name=\"" + controller + "\"}"), "workqueue_depth for " + controller);
    }
  }
}
