package io.kvx.it;

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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler as a kubectl user meets it, on three KWOK-like fake nodes (32 CPUs each): node selectors and
 * taints steer pods, a pod that fits nowhere stays Pending with Kubernetes' FailedScheduling words and is
 * scheduled as soon as a node change makes room (no polling), a high-priority pod preempts exactly one
 * low-priority pod, and pods for another schedulerName wait for a second scheduler process that serves it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SchedulerIT {

  private static KvxProcess kvx;
  private static KvxProcess second;
  private static Kubectl k;

  @BeforeAll
  static void up() throws Exception {
    kvx = KvxProcess.start("scheduler", Files.createTempDirectory("kvx-it-sched"), 17611, "server", "--roles",
        "sequencer,apiserver,scheduler,controller-manager,node", "--cluster-port", "5891", "--secret", "it-sched",
        "--fake-nodes", "3", "--node-name", "sch");
    kvx.awaitReady(Duration.ofSeconds(60));
    k = new Kubectl(kvx.kubeconfig());
    k.await(Duration.ofSeconds(30), out -> out.contains("sch-2") && !out.contains("NotReady")
        && out.split(" Ready").length == 4, "get", "nodes");
  }

  @AfterAll
  static void down() throws Exception {
    if (second != null) second.close();
    if (kvx != null) kvx.close();
  }

  private static String nodeOf(String pod) throws Exception {
    return k.await(Duration.ofSeconds(30), out -> !out.isBlank(), "get", "pod", pod, "-o",
        "jsonpath={.spec.nodeName}").trim();
  }

  private static void apply(String yaml) throws Exception {
    Path f = Files.createTempFile("kvx-sched", ".yaml");
    Files.writeString(f, yaml);
    k.ok("apply", "-f", f.toString());
  }

  /** A pod running one sleeping busybox container (requesting cpu when cpu is not null) plus extra spec fields. */
  private static String pod(String name, String extraSpec) {
    return pod(name, null, extraSpec);
  }

  private static String pod(String name, String cpu, String extraSpec) {
    return """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          labels: {app: %s}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: c
            image: busybox
            command: ["sleep", "3600"]
            resources: {requests: {%s}}
        %s""".formatted(name, name, cpu == null ? "" : "cpu: \"" + cpu + "\"", extraSpec.indent(2));
  }

  @Test
  @Order(1)
  void nodeSelectorAndTaintsSteerPods() throws Exception {
    k.ok("label", "node", "sch-1", "disk=ssd");
    apply(pod("on-ssd", "nodeSelector: {disk: ssd}"));
    assertEquals("sch-1", nodeOf("on-ssd"));

    k.ok("taint", "node", "sch-0", "dedicated=gpu:NoSchedule");
    k.ok("create", "deployment", "spread", "--image=busybox", "--replicas=6", "--", "sleep", "3600");
    k.await(Duration.ofSeconds(60), out -> out.lines().filter(l -> l.startsWith("sch-")).count() == 6,
        "get", "pods", "-l", "app=spread", "-o", "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}");
    String nodes = k.ok("get", "pods", "-l", "app=spread", "-o",
        "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}");
    assertFalse(nodes.contains("sch-0"), "no untolerating pod lands on the tainted node: " + nodes);
    assertTrue(nodes.contains("sch-1") && nodes.contains("sch-2"), "spread over both other nodes: " + nodes);

    apply(pod("tolerant", """
        nodeSelector: {kubernetes.io/hostname: sch-0}
        tolerations:
        - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
        """));
    assertEquals("sch-0", nodeOf("tolerant"));
    k.ok("delete", "deployment", "spread", "--wait=false");
  }

  @Test
  @Order(2)
  void unschedulablePodIsExplainedAndRetriedOnNodeChange() throws Exception {
    apply(pod("needs-zone", "nodeSelector: {zone: z1}"));
    String described = k.await(Duration.ofSeconds(30), out -> out.contains("FailedScheduling"),
        "describe", "pod", "needs-zone");
    // Kubernetes' wording: "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s)
    // didn't match Pod's node affinity/selector. preemption: ..."
    assertTrue(described.contains("0/3 nodes are available"), described);
    assertTrue(described.contains("node(s) didn't match Pod's node affinity/selector"), described);
    assertTrue(described.contains("untolerated taint"), described);
    String cond = k.ok("get", "pod", "needs-zone", "-o",
        "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].status}/"
            + "{.status.conditions[?(@.type==\"PodScheduled\")].reason}");
    assertEquals("False/Unschedulable", cond.trim());
    assertEquals("", k.ok("get", "pod", "needs-zone", "-o", "jsonpath={.spec.nodeName}").trim());

    // A node update that makes it fit moves the pod out of the unschedulable queue at once.
    long t0 = System.currentTimeMillis();
    k.ok("label", "node", "sch-2", "zone=z1");
    assertEquals("sch-2", nodeOf("needs-zone"));
    long took = System.currentTimeMillis() - t0;
    System.out.println("pending pod scheduled " + took + " ms after the node label that made it fit");
    assertTrue(took < 10_000, "retried on the node event, not after the 5-minute unschedulable flush: " + took);
  }

  @Test
  @Order(3)
  void highPriorityPodPreemptsOneLowPriorityPod() throws Exception {
    apply("""
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata: {name: low}
        value: 100
        ---
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata: {name: high}
        value: 100000
        """);
    k.ok("label", "node", "sch-2", "pool=victims");
    // Three low pods of 10 CPUs fill sch-2 (32 CPUs; on-ssd and the others sit elsewhere or request nothing).
    for (int i = 0; i < 3; i++) {
      apply(pod("low-" + i, "10", """
          priorityClassName: low
          nodeSelector: {pool: victims}
          """));
      assertEquals("sch-2", nodeOf("low-" + i));
    }
    assertEquals("100", k.ok("get", "pod", "low-0", "-o", "jsonpath={.spec.priority}").trim(),
        "PriorityClass resolved into spec.priority at admission");
    apply(pod("vip", "10", """
        priorityClassName: high
        nodeSelector: {pool: victims}
        """));
    assertEquals("sch-2", nodeOf("vip"));
    String lows = k.await(Duration.ofSeconds(30), out -> out.lines().filter(l -> l.startsWith("low-")).count() == 2,
        "get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}");
    System.out.println("pods left after preemption: " + lows.replace('\n', ' '));
    String events = k.ok("get", "events", "--field-selector", "reason=Preempted", "-o",
        "jsonpath={range .items[*]}{.involvedObject.name}: {.message}{\"\\n\"}{end}");
    assertEquals(1, events.lines().count(), "exactly one victim: " + events);
    assertTrue(events.contains("Preempted by pod"), events);
  }

  @Test
  @Order(4)
  void anotherSchedulerNameWaitsForItsOwnScheduler() throws Exception {
    apply(pod("custom", "schedulerName: gpu-scheduler"));
    Thread.sleep(3000);
    assertEquals("", k.ok("get", "pod", "custom", "-o", "jsonpath={.spec.nodeName}").trim(),
        "the default scheduler leaves pods of other scheduler names alone");
    assertFalse(k.ok("describe", "pod", "custom").contains("FailedScheduling"));

    Path cfg = Files.createTempFile("kvx-sched", ".yaml");
    Files.writeString(cfg, """
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        leaderElection:
          leaderElect: true
          resourceName: gpu-scheduler
          resourceNamespace: kube-system
        profiles:
        - schedulerName: gpu-scheduler
        """);
    second = KvxProcess.start("scheduler-2", Files.createTempDirectory("kvx-it-sched2"), 17612, "server",
        "--roles", "apiserver,scheduler", "--join", "127.0.0.1:5891", "--cluster-port", "5892", "--secret",
        "it-sched", "--scheduler-config", cfg.toString());
    second.awaitReady(Duration.ofSeconds(60));
    String node = nodeOf("custom");
    assertTrue(node.startsWith("sch-"), node);
    String by = k.ok("get", "events", "--field-selector", "involvedObject.name=custom,reason=Scheduled", "-o",
        "jsonpath={.items[*].reportingComponent}{.items[*].source.component}");
    assertTrue(by.contains("gpu-scheduler"), "the event names the scheduler that bound it: " + by);
  }

  @Test
  @Order(5)
  void schedulerMetrics() throws Exception {
    String token = k.ok("config", "view", "--raw", "-o", "jsonpath={.users[0].user.token}").trim();
    HttpResponse<String> r = KvxProcess.insecureClient().send(HttpRequest.newBuilder(
        URI.create("https://127.0.0.1:17611/metrics")).header("Authorization", "Bearer " + token).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    String m = r.body();
    assertTrue(m.contains("scheduler_schedule_attempts_total{") && m.contains("result=\"scheduled\""), m);
    assertTrue(m.contains("result=\"unschedulable\""), "the needs-zone attempts were counted");
    assertTrue(m.contains("scheduler_scheduling_attempt_duration_seconds"), "attempt duration histogram");
    assertTrue(m.contains("scheduler_pending_pods{") && m.contains("queue=\"unschedulable\""), "pending gauge");
    // The controller manager in the same JVM: a work queue per controller (the deployment controller had work).
    java.util.regex.Matcher adds = java.util.regex.Pattern.compile("workqueue_adds_total\\{name=\"deployment\"} (\\d+)")
        .matcher(m);
    assertTrue(adds.find() && Double.parseDouble(adds.group(1)) > 0, "workqueue_adds_total for the deployment controller");
    assertTrue(m.contains("workqueue_depth{name=\"deployment\"}"), "workqueue_depth for the deployment controller");
  }
}
