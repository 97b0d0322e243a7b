package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The workload controllers through the real kubectl against `kvx up`: Jobs that complete and fail,
 * a Job from a CronJob, a DaemonSet rolled out and updated, and a StatefulSet created and scaled
 * down in order. Pods are real busybox containers.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkloadsIT {

  private static KvxProcess kvx;
  private static Kubectl kubectl;
  private static Path dir;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-workloads");
    dir = Files.createTempDirectory("kvx-it-workloads-yaml");
    KvxProcess.prepareBusybox(home);
    // A fast node lifecycle for the lost-node case: 8 s of silence, evictions capped at 3 s; the node
    // renews its lease every 2 s so that it never looks silent itself.
    Files.createDirectories(home.resolve("verticles"));
    Files.writeString(home.resolve("verticles/controller-manager.json"),
        "{\"config\": {\"nodeMonitorGracePeriodSeconds\": 8, \"maxNoExecuteTolerationSeconds\": 3}}");
    Files.writeString(home.resolve("verticles/node.json"), "{\"config\": {\"heartbeatSeconds\": 2}}");
    kvx = KvxProcess.start("workloads", home, 17981, "up", "--cluster-port", "5981", "--secret", "it-workloads",
        "--node-name", "wl-node", "--bridge", "kvxw0", "--pod-cidr", "10.45.0.0/24");
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("wl-node") && out.contains(" Ready "), "get", "nodes");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  private static String apply(String name, String yaml) throws Exception {
    Path file = dir.resolve(name + ".yaml");
    Files.writeString(file, yaml);
    return kubectl.ok("apply", "-f", file.toString());
  }

  private static final String POD_SPEC = """
            restartPolicy: %s
            terminationGracePeriodSeconds: 1
            containers: [{name: c, image: busybox, command: ["sh", "-c", "%s"]}]
      """;

  @Test
  @Order(1)
  void jobRunsThreeCompletionsTwoAtATime() throws Exception {
    apply("count", """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: count}
        spec:
          completions: 3
          parallelism: 2
          template:
            spec:
        """ + POD_SPEC.formatted("Never", "echo counted; sleep 1"));
    long t0 = System.nanoTime();
    String out = kubectl.ok("wait", "--for=condition=complete", "job/count", "--timeout=90s");
    assertTrue(out.contains("condition met"), out);
    System.out.println("job count: 3 completions in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
    assertEquals("3", kubectl.ok("get", "job", "count", "-o", "jsonpath={.status.succeeded}").trim());
    assertTrue(kubectl.ok("logs", "job/count").contains("counted"));
    String pods = kubectl.ok("get", "pods", "-l", "job-name=count", "-o", "name");
    assertEquals(3, pods.strip().lines().count(), pods);
    String conditions = kubectl.ok("get", "job", "count", "-o", "jsonpath={.status.conditions[*].type}");
    assertEquals("SuccessCriteriaMet Complete", conditions.trim());
    // Never more than two at once: the events show at most parallelism creations before a completion.
    assertTrue(kubectl.ok("get", "events", "--field-selector", "involvedObject.name=count").contains("Completed"));
  }

  @Test
  @Order(2)
  void indexedJobGivesEachPodItsIndex() throws Exception {
    apply("indexed", """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: indexed}
        spec:
          completions: 3
          parallelism: 3
          completionMode: Indexed
          template:
            spec:
        """ + POD_SPEC.formatted("Never", "echo index=$JOB_COMPLETION_INDEX"));
    kubectl.ok("wait", "--for=condition=complete", "job/indexed", "--timeout=60s");
    assertEquals("0-2", kubectl.ok("get", "job", "indexed", "-o", "jsonpath={.status.completedIndexes}").trim());
    List<String> logs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String pod = kubectl.ok("get", "pods", "-l", "job-name=indexed,batch.kubernetes.io/job-completion-index=" + i,
          "-o", "jsonpath={.items[0].metadata.name}").trim();
      logs.add(kubectl.ok("logs", pod).trim());
    }
    assertEquals(List.of("index=0", "index=1", "index=2"), logs);
  }

  @Test
  @Order(2)
  void createJobFromTheCommandLine() throws Exception {
    kubectl.ok("create", "job", "hello", "--image=busybox", "--", "echo", "hi");
    kubectl.ok("wait", "--for=condition=complete", "job/hello", "--timeout=60s");
    assertEquals("hi", kubectl.ok("logs", "job/hello").trim());
  }

  @Test
  @Order(2)
  void jobAdoptsAMatchingOrphanPodInsteadOfCreatingOne() throws Exception {
    apply("stray", """
        apiVersion: v1
        kind: Pod
        metadata: {name: stray, labels: {app: adopt-me}}
        spec:
        """ + POD_SPEC.formatted("Never", "sleep 3; echo stray"));
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "stray", "-o",
        "jsonpath={.status.phase}");
    apply("adopter", """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: adopter}
        spec:
          manualSelector: true
          selector: {matchLabels: {app: adopt-me}}
          template:
            metadata: {labels: {app: adopt-me}}
            spec:
        """ + POD_SPEC.formatted("Never", "echo made"));
    kubectl.ok("wait", "--for=condition=complete", "job/adopter", "--timeout=60s");
    // The orphan ran the job to completion: it is the job's one pod, controlled by it, and no pod was made.
    assertEquals("stray", kubectl.ok("get", "pods", "-l", "app=adopt-me", "-o", "name").strip()
        .replace("pod/", ""));
    assertEquals("Job adopter true", kubectl.ok("get", "pod", "stray", "-o",
        "jsonpath={.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} "
            + "{.metadata.ownerReferences[0].controller}").trim());
    assertEquals("stray", kubectl.ok("logs", "job/adopter").trim());
    kubectl.ok("delete", "job", "adopter");
  }

  @Test
  @Order(3)
  void failingJobHitsItsBackoffLimit() throws Exception {
    apply("broken", """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: broken}
        spec:
          backoffLimit: 1
          template:
            spec:
        """ + POD_SPEC.formatted("Never", "exit 3"));
    String out = kubectl.ok("wait", "--for=condition=failed", "job/broken", "--timeout=90s");
    assertTrue(out.contains("condition met"), out);
    assertEquals("BackoffLimitExceeded", kubectl.ok("get", "job", "broken", "-o",
        "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}").trim());
    assertEquals("2", kubectl.ok("get", "job", "broken", "-o", "jsonpath={.status.failed}").trim());
    assertTrue(kubectl.ok("get", "events", "--field-selector", "involvedObject.name=broken")
        .contains("BackoffLimitExceeded"));
  }

  @Test
  @Order(4)
  void jobFromACronJob() throws Exception {
    // A schedule that will not fire during the test: the run here is the manual one.
    kubectl.ok("create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 1 1 *", "--", "echo", "from-cron");
    kubectl.ok("create", "job", "nightly-manual", "--from=cronjob/nightly");
    kubectl.ok("wait", "--for=condition=complete", "job/nightly-manual", "--timeout=60s");
    assertEquals("from-cron", kubectl.ok("logs", "job/nightly-manual").trim());
    assertEquals("CronJob", kubectl.ok("get", "job", "nightly-manual", "-o",
        "jsonpath={.metadata.ownerReferences[0].kind}").trim());
    assertTrue(kubectl.ok("get", "cronjob", "nightly").contains("0 3 1 1 *"));
  }

  @Test
  @Order(5)
  void daemonSetRunsOnePodPerNodeAndRollsOut() throws Exception {
    apply("agent", """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: busybox, command: ["sleep", "3600"]}]
        """);
    String out = kubectl.ok("rollout", "status", "ds/agent", "--timeout=60s");
    assertTrue(out.contains("successfully rolled out"), out);
    String wide = kubectl.ok("get", "pods", "-l", "app=agent", "-o", "wide", "--no-headers");
    assertEquals(1, wide.strip().lines().count(), wide);
    assertTrue(wide.contains("wl-node") && wide.contains("Running"), wide);
    kubectl.ok("set", "env", "ds/agent", "VERSION=2");
    out = kubectl.ok("rollout", "status", "ds/agent", "--timeout=60s");
    assertTrue(out.contains("successfully rolled out"), out);
    String env = kubectl.await(Duration.ofSeconds(20), s -> s.trim().equals("VERSION"), "get", "pods", "-l",
        "app=agent", "-o", "jsonpath={.items[*].spec.containers[0].env[0].name}");
    assertEquals("VERSION", env.trim());
    assertTrue(kubectl.ok("rollout", "history", "ds/agent").contains("2"));
  }

  @Test
  @Order(6)
  void statefulSetCreatesInOrderAndScalesDownFromTheTop() throws Exception {
    Process watch = watchPods("app=web");
    try {
      apply("web", """
          apiVersion: v1
          kind: Service
          metadata: {name: web}
          spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
          ---
          apiVersion: apps/v1
          kind: StatefulSet
          metadata: {name: web}
          spec:
            serviceName: web
            replicas: 3
            selector: {matchLabels: {app: web}}
            template:
              metadata: {labels: {app: web}}
              spec:
                terminationGracePeriodSeconds: 1
                containers: [{name: c, image: busybox, command: ["sleep", "3600"],
                  volumeMounts: [{name: data, mountPath: /data}]}]
            volumeClaimTemplates:
            - metadata: {name: data}
              spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
          """);
      String out = kubectl.ok("rollout", "status", "sts/web", "--timeout=90s");
      assertTrue(out.contains("roll out complete"), out);
      assertEquals("web-0 web-1 web-2", kubectl.ok("get", "pods", "-l", "app=web", "-o",
          "jsonpath={.items[*].metadata.name}").trim());
      assertEquals("web-1 web", kubectl.ok("get", "pod", "web-1", "-o",
          "jsonpath={.spec.hostname} {.spec.subdomain}").trim());
      // Stable network identity through the headless service: web-0 resolves web-1 by name to web-1's IP.
      String ip1 = kubectl.ok("get", "pod", "web-1", "-o", "jsonpath={.status.podIP}").trim();
      String looked = kubectl.await(Duration.ofSeconds(30), x -> x.contains("Address: " + ip1), "exec", "web-0",
          "--", "nslookup", "web-1.web.default.svc.cluster.local");
      assertTrue(looked.contains("web-1.web.default.svc.cluster.local"), looked);
      assertTrue(kubectl.ok("get", "pvc").contains("data-web-2"));
      // The claims got the default class and a volume provisioned on the pod's node, and are Bound.
      assertEquals("Bound local-path", kubectl.await(Duration.ofSeconds(30), x -> x.startsWith("Bound"), "get", "pvc",
          "data-web-0", "-o", "jsonpath={.status.phase} {.spec.storageClassName}").trim());
      String pv = kubectl.ok("get", "pvc", "data-web-0", "-o", "jsonpath={.spec.volumeName}").trim();
      assertEquals("Bound default/data-web-0 wl-node", kubectl.ok("get", "pv", pv, "-o",
          "jsonpath={.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name} "
              + "{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}").trim());
      kubectl.ok("scale", "sts/web", "--replicas=1");
      kubectl.await(Duration.ofSeconds(60), s -> s.trim().equals("web-0"), "get", "pods", "-l", "app=web", "-o",
          "jsonpath={.items[*].metadata.name}");
      kubectl.await(Duration.ofSeconds(30), s -> s.trim().equals("1"), "get", "sts", "web", "-o",
          "jsonpath={.status.replicas}");
    } finally {
      watch.destroy();
      watch.waitFor(5, TimeUnit.SECONDS);
    }
    List<String> events = Files.readString(dir.resolve("watch.txt"), StandardCharsets.UTF_8).lines()
        .map(String::trim).filter(l -> !l.isEmpty()).toList();
    List<String> added = firstOf(events, "ADDED");
    assertEquals(List.of("web-0", "web-1", "web-2"), added, "creation order: " + events);
    List<String> deleted = firstOf(events, "DELETED");
    assertEquals(List.of("web-2", "web-1"), deleted, "deletion order: " + events);
    // One at a time: web-1 was marked for deletion only after web-2 was gone.
    int web2Gone = events.indexOf("DELETED web-2");
    int web1Marked = -1;
    for (int i = 0; i < events.size(); i++) {
      String[] f = events.get(i).split(" ");
      if (f.length == 3 && f[1].equals("web-1")) {
        web1Marked = i;
        break;
      }
    }
    assertTrue(web1Marked > web2Gone, "web-1 deleted after web-2 was gone: " + events);

    // Stable storage: what web-0 wrote is there for its replacement.
    kubectl.ok("exec", "web-0", "--", "sh", "-c", "echo kept > /data/x");
    kubectl.ok("delete", "pod", "web-0");
    kubectl.await(Duration.ofSeconds(60), x -> x.trim().equals("kept"), "exec", "web-0", "--", "cat", "/data/x");

    // Deleting the claim deletes its local-path volume (reclaim policy Delete) and the directory on the node.
    String volume = kubectl.ok("get", "pvc", "data-web-0", "-o", "jsonpath={.spec.volumeName}").trim();
    Path onNode = Path.of(kubectl.ok("get", "pv", volume, "-o", "jsonpath={.spec.hostPath.path}").trim());
    assertTrue(Files.exists(onNode.resolve("x")), onNode + " holds the pod's file");
    kubectl.ok("delete", "sts", "web");
    kubectl.await(Duration.ofSeconds(60), x -> !x.contains("web-0"), "get", "pods");
    kubectl.ok("delete", "pvc", "data-web-0", "data-web-1", "data-web-2");
    kubectl.await(Duration.ofSeconds(30), x -> !x.contains(volume), "get", "pv");
    for (int i = 0; i < 50 && Files.exists(onNode); i++) Thread.sleep(200);
    assertTrue(!Files.exists(onNode), onNode + " removed with its volume");
  }

  @Test
  @Order(7)
  void lostNodeIsTaintedAndItsPodsEvicted() throws Exception {
    Path lostHome = Files.createTempDirectory("kvx-it-workloads-lost");
    Files.createDirectories(lostHome.resolve("verticles"));
    Files.writeString(lostHome.resolve("verticles/node.json"), "{\"config\": {\"heartbeatSeconds\": 2}}");
    // No busybox image in this node's home: its pods never start a process that would outlive it.
    KvxProcess lost = KvxProcess.start("workloads-lost", lostHome, 17982, "node", "--join", "127.0.0.1:5981",
        "--cluster-port", "5982", "--secret", "it-workloads", "--node-name", "wl-lost", "--runtime", "process",
        "--roles", "node");
    try {
      lost.awaitLog("node ready", Duration.ofSeconds(60));
      kubectl.await(Duration.ofSeconds(30), out -> out.contains("wl-lost") && out.contains(" Ready "), "get", "nodes");
      apply("stranded", """
          apiVersion: v1
          kind: Pod
          metadata: {name: stranded}
          spec:
            nodeName: wl-lost
            terminationGracePeriodSeconds: 1
            containers: [{name: c, image: busybox, command: ["sleep", "3600"]}]
          """);
      // The DaemonSet follows the new node.
      kubectl.await(Duration.ofSeconds(30), s -> s.trim().equals("2"), "get", "ds", "agent", "-o",
          "jsonpath={.status.desiredNumberScheduled}");
      kubectl.await(Duration.ofSeconds(30), s -> s.contains("wl-lost"), "get", "pods", "-l", "app=agent", "-o",
          "jsonpath={.items[*].spec.nodeName}");
      long t0 = System.nanoTime();
      lost.kill();
      kubectl.await(Duration.ofSeconds(30), s -> s.contains("NodeStatusUnknown"), "get", "node", "wl-lost", "-o",
          "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}");
      System.out.println("node lost: Ready=Unknown " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
          + " ms after the kill");
      String taints = kubectl.ok("get", "node", "wl-lost", "-o", "jsonpath={.spec.taints}");
      assertTrue(taints.contains("node.kubernetes.io/unreachable") && taints.contains("NoExecute")
          && taints.contains("NoSchedule"), taints);
      assertTrue(kubectl.ok("get", "nodes").contains("Unknown"));
      // The pod's 300 s default toleration is capped to 3 s here: it is evicted (marked for deletion).
      kubectl.await(Duration.ofSeconds(30), s -> !s.isBlank(), "get", "pod", "stranded", "-o",
          "jsonpath={.metadata.deletionTimestamp}");
      // The daemon pod tolerates the taint for good.
      String daemons = kubectl.ok("get", "pods", "-l", "app=agent", "-o",
          "jsonpath={range .items[*]}{.spec.nodeName} {.metadata.deletionTimestamp}{\"\\n\"}{end}");
      assertTrue(daemons.lines().anyMatch(l -> l.trim().equals("wl-lost")), daemons);
      // The node object removed: its pods go with it and the DaemonSet is back to one node.
      kubectl.ok("delete", "node", "wl-lost");
      kubectl.await(Duration.ofSeconds(30), s -> !s.contains("pod/stranded"), "get", "pods", "-o", "name");
      kubectl.await(Duration.ofSeconds(30), s -> s.trim().equals("wl-node"), "get", "pods", "-l", "app=agent", "-o",
          "jsonpath={.items[*].spec.nodeName}");
    } finally {
      lost.kill();
    }
  }

  /** `kubectl get pods -w` printing "TYPE name [deletionTimestamp]" per event. */
  private static Process watchPods(String selector) throws IOException {
    String binary = System.getProperty("kvx.kubectl", System.getenv().getOrDefault("KVX_KUBECTL", ""));
    List<String> cmd = new ArrayList<>(List.of(binary, "--kubeconfig", kvx.kubeconfig().toString(), "get", "pods",
        "-l", selector, "-w", "--output-watch-events", "-o",
        "jsonpath={.type} {.object.metadata.name} {.object.metadata.deletionTimestamp}{\"\\n\"}"));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("watch.txt").toFile()).start();
  }

  private static List<String> firstOf(List<String> events, String type) {
    List<String> names = new ArrayList<>();
    for (String e : events) {
      String[] f = e.split(" ");
      if (f[0].equals(type) && !names.contains(f[1])) names.add(f[1]);
    }
    return names;
  }

  @Test
  @Order(8)
  void claimBindsTheSmallestFittingVolumeAndReleasesIt() throws Exception {
    Path small = Files.createTempDirectory("kvx-it-pv-small");
    Path big = Files.createTempDirectory("kvx-it-pv-big");
    apply("pvs", """
        apiVersion: v1
        kind: PersistentVolume
        metadata: {name: pv-big}
        spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], persistentVolumeReclaimPolicy: Retain,
               storageClassName: "", hostPath: {path: %s}}
        ---
        apiVersion: v1
        kind: PersistentVolume
        metadata: {name: pv-small}
        spec: {capacity: {storage: 10Mi}, accessModes: [ReadWriteOnce], persistentVolumeReclaimPolicy: Retain,
               storageClassName: "", hostPath: {path: %s}}
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: claim}
        spec: {storageClassName: "", accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Mi}}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: writer}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          volumes: [{name: v, persistentVolumeClaim: {claimName: claim}}]
          containers: [{name: c, image: busybox, command: ["sh", "-c", "echo written > /v/file"],
                        volumeMounts: [{name: v, mountPath: /v}]}]
        """.formatted(big, small));
    assertEquals("Bound pv-small", kubectl.await(Duration.ofSeconds(30), x -> x.startsWith("Bound"), "get", "pvc",
        "claim", "-o", "jsonpath={.status.phase} {.spec.volumeName}").trim());
    assertTrue(kubectl.ok("get", "pv").lines().anyMatch(l -> l.startsWith("pv-big") && l.contains("Available")));
    kubectl.await(Duration.ofSeconds(60), x -> x.contains("Succeeded"), "get", "pod", "writer", "-o",
        "jsonpath={.status.phase}");
    assertEquals("written", Files.readString(small.resolve("file")).trim(), "the pod wrote into the volume's path");
    kubectl.ok("delete", "pod", "writer");
    kubectl.ok("delete", "pvc", "claim");
    kubectl.await(Duration.ofSeconds(30), x -> x.trim().equals("Released"), "get", "pv", "pv-small", "-o",
        "jsonpath={.status.phase}");
  }

  @Test
  @Order(9)
  void parallelStatefulSetCreatesAndRemovesEveryPodAtOnce() throws Exception {
    // The pods never become Ready (the probe's file is made only by hand below): under OrderedReady only
    // par-0 would exist; Parallel creates every member without waiting for its predecessors.
    apply("par", """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: par}
        spec:
          serviceName: par
          replicas: 3
          podManagementPolicy: Parallel
          selector: {matchLabels: {app: par}}
          template:
            metadata: {labels: {app: par}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: busybox, command: ["sleep", "3600"],
                readinessProbe: {exec: {command: ["test", "-f", "/tmp/ready"]}, periodSeconds: 1}}]
        """);
    String pods = kubectl.await(Duration.ofSeconds(30), x -> x.trim().split(" ").length == 3, "get", "pods", "-l",
        "app=par", "-o", "jsonpath={.items[*].metadata.name}");
    assertEquals("par-0 par-1 par-2", pods.trim());
    String running = kubectl.await(Duration.ofSeconds(60), x -> x.trim().equals("Running Running Running"), "get",
        "pods", "-l", "app=par", "-o", "jsonpath={.items[*].status.phase}");
    assertEquals("Running Running Running", running.trim());
    assertEquals("False False False", kubectl.ok("get", "pods", "-l", "app=par", "-o",
        "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}").trim(),
        "all three exist while none is Ready");
    String readyReplicas = kubectl.ok("get", "sts", "par", "-o", "jsonpath={.status.readyReplicas}").trim();
    assertTrue(readyReplicas.isEmpty() || readyReplicas.equals("0"), readyReplicas);
    for (int i = 0; i < 3; i++) kubectl.ok("exec", "par-" + i, "--", "touch", "/tmp/ready");
    assertTrue(kubectl.ok("rollout", "status", "sts/par", "--timeout=60s").contains("roll out complete"));
    // Scaled down, the removed members go together, not one after the other waiting for each to be gone.
    Process watch = watchPods("app=par");
    try {
      Thread.sleep(1000);
      kubectl.ok("scale", "sts/par", "--replicas=1");
      kubectl.await(Duration.ofSeconds(60), s -> s.trim().equals("par-0"), "get", "pods", "-l", "app=par", "-o",
          "jsonpath={.items[*].metadata.name}");
    } finally {
      watch.destroy();
      watch.waitFor(5, TimeUnit.SECONDS);
    }
    List<String> events = Files.readString(dir.resolve("watch.txt"), StandardCharsets.UTF_8).lines()
        .map(String::trim).filter(l -> !l.isEmpty()).toList();
    int firstGone = -1;
    int lastMarked = -1;
    for (int i = 0; i < events.size(); i++) {
      String[] f = events.get(i).split(" ");
      if (f[0].equals("DELETED") && firstGone < 0) firstGone = i;
      if (f.length == 3 && (f[1].equals("par-1") || f[1].equals("par-2"))) lastMarked = i;
    }
    assertTrue(firstGone > 0 && lastMarked >= 0, "both members marked and removed: " + events);
    // Both were marked for deletion before either was gone.
    long markedBeforeGone = events.subList(0, firstGone).stream().map(e -> e.split(" "))
        .filter(f -> f.length == 3 && (f[1].equals("par-1") || f[1].equals("par-2"))).map(f -> f[1]).distinct().count();
    assertEquals(2, markedBeforeGone, "par-1 and par-2 both marked before either was gone: " + events);
    kubectl.ok("delete", "sts", "par");
  }

  @Test
  @Order(10)
  void statefulSetClaimBindsALocalVolumeOnItsNode() throws Exception {
    Path here = Files.createTempDirectory("kvx-it-local-here");
    Path elsewhere = Files.createTempDirectory("kvx-it-local-elsewhere");
    // Two local volumes of a no-provisioner class: the smaller one is pinned to a node that does not
    // exist, so the claim can only be satisfied by the one on wl-node (binding waits for the pod's node).
    apply("local", """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: local-storage}
        provisioner: kubernetes.io/no-provisioner
        volumeBindingMode: WaitForFirstConsumer
        ---
        apiVersion: v1
        kind: PersistentVolume
        metadata: {name: local-here}
        spec:
          capacity: {storage: 100Mi}
          accessModes: [ReadWriteOnce]
          persistentVolumeReclaimPolicy: Retain
          storageClassName: local-storage
          local: {path: %s}
          nodeAffinity:
            required:
              nodeSelectorTerms:
              - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [wl-node]}]
        ---
        apiVersion: v1
        kind: PersistentVolume
        metadata: {name: local-elsewhere}
        spec:
          capacity: {storage: 20Mi}
          accessModes: [ReadWriteOnce]
          persistentVolumeReclaimPolicy: Retain
          storageClassName: local-storage
          local: {path: %s}
          nodeAffinity:
            required:
              nodeSelectorTerms:
              - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [wl-elsewhere]}]
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          serviceName: db
          replicas: 1
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: busybox,
                command: ["sh", "-c", "echo $(hostname) >> /data/boots; exec sleep 3600"],
                volumeMounts: [{name: data, mountPath: /data}]}]
          volumeClaimTemplates:
          - metadata: {name: data}
            spec: {storageClassName: local-storage, accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}
        """.formatted(here, elsewhere));
    assertTrue(kubectl.ok("rollout", "status", "sts/db", "--timeout=90s").contains("roll out complete"));
    assertEquals("Bound local-here", kubectl.ok("get", "pvc", "data-db-0", "-o",
        "jsonpath={.status.phase} {.spec.volumeName}").trim());
    assertEquals("wl-node", kubectl.ok("get", "pvc", "data-db-0", "-o",
        "jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/selected-node}").trim());
    assertEquals("Bound default/data-db-0", kubectl.ok("get", "pv", "local-here", "-o",
        "jsonpath={.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name}").trim());
    assertEquals("Available", kubectl.ok("get", "pv", "local-elsewhere", "-o", "jsonpath={.status.phase}").trim());
    // What the pod writes is in the volume's directory on the host.
    Path boots = here.resolve("boots");
    for (int i = 0; i < 50 && !Files.exists(boots); i++) Thread.sleep(200);
    assertEquals(List.of("db-0"), Files.readAllLines(boots));
    kubectl.ok("exec", "db-0", "--", "sh", "-c", "echo from-pod > /data/note");
    assertEquals("from-pod", Files.readString(here.resolve("note")).trim());
    // The pod deleted and recreated by its set finds its data (and appends to it).
    String uid = kubectl.ok("get", "pod", "db-0", "-o", "jsonpath={.metadata.uid}").trim();
    kubectl.ok("delete", "pod", "db-0");
    kubectl.await(Duration.ofSeconds(60), x -> !x.isBlank() && !x.startsWith(uid) && x.endsWith("Running"), "get",
        "pod", "db-0", "-o", "jsonpath={.metadata.uid} {.status.phase}");
    assertEquals("from-pod", kubectl.await(Duration.ofSeconds(30), x -> x.trim().equals("from-pod"), "exec", "db-0",
        "--", "cat", "/data/note").trim());
    for (int i = 0; i < 50 && Files.readAllLines(boots).size() < 2; i++) Thread.sleep(200);
    assertEquals(List.of("db-0", "db-0"), Files.readAllLines(boots), "the second pod appended to the first one's file");
    kubectl.ok("delete", "sts", "db");
    kubectl.await(Duration.ofSeconds(60), x -> !x.contains("db-0"), "get", "pods", "-o", "name");
    kubectl.ok("delete", "pvc", "data-db-0");
    kubectl.await(Duration.ofSeconds(30), x -> x.trim().equals("Released"), "get", "pv", "local-here", "-o",
        "jsonpath={.status.phase}");
    assertTrue(Files.exists(here.resolve("note")), "a Retain volume keeps its data");
    kubectl.ok("delete", "pv", "local-here", "local-elsewhere");
    kubectl.ok("delete", "storageclass", "local-storage");
  }
}
