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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node agent's container runtime through the real kubectl and runc: images imported with
 * {@code kvx image import} (OCI layout and docker save) and pull policies, OOMKilled, securityContext.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeRuntimeIT {

  private static final int API_PORT = 17643;
  private static final String[] ARGS = {"up", "--cluster-port", "5741", "--secret", "it-noderuntime",
      "--node-name", "nr-node", "--bridge", "kvxr0", "--pod-cidr", "10.73.1.0/24", "--roles",
      "sequencer,apiserver,scheduler,controller-manager,node"};
  private static Path home;
  private static KvxProcess kvx;
  private static Kubectl kubectl;
  private static Path dir;

  @BeforeAll
  static void up() throws Exception {
    home = Files.createTempDirectory("kvx-it-noderuntime");
    dir = Files.createTempDirectory("kvx-it-noderuntime-files");
    KvxProcess.prepareBusybox(home);
    Files.createDirectories(home.resolve("verticles"));
    Files.writeString(home.resolve("verticles/node.json"),
        "{\"config\": {\"containerLogMaxSize\": \"32Ki\", \"containerLogMaxFiles\": 3, \"logRotateSeconds\": 1}}");
    kvx = KvxProcess.start("noderuntime", home, API_PORT, ARGS);
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
    kubectl.await(Duration.ofSeconds(30), out -> out.contains(" Ready "), "get", "nodes");
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("default"), "get", "serviceaccounts");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  static void apply(String name, String yaml) throws Exception {
    Path p = dir.resolve(name + ".yaml");
    Files.writeString(p, yaml);
    kubectl.ok("apply", "-f", p.toString());
  }

  private static String jsonpath(String pod, String path) throws Exception {
    return kubectl.ok("get", "pod", pod, "-o", "jsonpath=" + path);
  }

  @Test
  @Order(1)
  void importedImagesRunAndPullPoliciesAreHonoured() throws Exception {
    Path docker = dir.resolve("bb-docker.tar");
    KvxProcess.kvxCli("image", "build-busybox", docker.toString(), "--format", "docker");
    String imported = KvxProcess.kvxCli("image", "import", docker.toString(), "--tag", "localhost/bb-docker:v1",
        "--home", home.toString());
    assertTrue(imported.contains("as docker.io/library/busybox:latest") || imported.contains("localhost/bb-docker:v1"),
        imported);
    String ls = KvxProcess.kvxCli("image", "ls", "--home", home.toString());
    assertTrue(ls.lines().anyMatch(l -> l.matches("docker.io/library/busybox\\s+latest\\s+[0-9a-f]{12}\\s+\\S+B")), ls);
    assertTrue(ls.lines().anyMatch(l -> l.matches("localhost/bb-docker\\s+v1\\s+[0-9a-f]{12}\\s+\\S+B")), ls);

    kubectl.ok("run", "fromdocker", "--image=localhost/bb-docker:v1", "--image-pull-policy=Never", "--",
        "sh", "-c", "echo from-docker-archive; sleep 3600");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "fromdocker");
    kubectl.await(Duration.ofSeconds(20), out -> out.contains("from-docker-archive"), "logs", "fromdocker");
    String imageId = jsonpath("fromdocker", "{.status.containerStatuses[0].imageID}");
    assertTrue(imageId.startsWith("sha256:") || imageId.startsWith("docker.io/library/busybox@sha256:"), imageId);

    kubectl.ok("run", "never", "--image=localhost/absent:1", "--image-pull-policy=Never", "--", "sleep", "3600");
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("ErrImageNeverPull"), "get", "pod", "never");
    assertEquals("Container image \"localhost/absent:1\" is not present with pull policy of Never",
        jsonpath("never", "{.status.containerStatuses[0].state.waiting.message}"));

    kubectl.ok("run", "absent", "--image=localhost/absent:2", "--image-pull-policy=IfNotPresent", "--", "sleep", "3600");
    // ErrImagePull lasts until the next sync (a second here), then ImagePullBackOff: the events keep both.
    String backOff = kubectl.await(Duration.ofSeconds(30), out -> out.contains("ImagePullBackOff"), "get", "pod", "absent");
    String msg = jsonpath("absent", "{.status.containerStatuses[0].state.waiting.message}");
    assertTrue(msg.startsWith("Back-off pulling image \"localhost/absent:2\""), backOff + msg);
    String events = kubectl.ok("get", "events", "--field-selector", "involvedObject.name=absent");
    assertTrue(events.contains("Failed to pull image \"localhost/absent:2\"") && events.contains("ErrImagePull"), events);

    // Imported while the pod backs off: the next retry finds it.
    Path archive = Path.of("target", "busybox-oci.tar").toAbsolutePath();
    KvxProcess.kvxCli("image", "import", archive.toString(), "--tag", "localhost/absent:2", "--home", home.toString());
    kubectl.ok("delete", "pod", "never", "--grace-period=0", "--force");

    String images = kubectl.ok("get", "node", "nr-node", "-o", "jsonpath={range .status.images[*]}{.names} {.sizeBytes}{\"\\n\"}{end}");
    assertTrue(images.contains("docker.io/library/busybox:latest") && images.contains("docker.io/library/busybox@sha256:"),
        images);
    assertTrue(images.lines().allMatch(l -> l.isBlank() || Long.parseLong(l.substring(l.lastIndexOf(' ') + 1)) > 100_000),
        images);
    kubectl.await(Duration.ofSeconds(90), out -> out.contains("Running"), "get", "pod", "absent");
    kubectl.ok("delete", "pod", "fromdocker", "absent", "--grace-period=1");
  }

  @Test
  @Order(2)
  void aContainerOverItsMemoryLimitIsOomKilled() throws Exception {
    apply("oom", """
        apiVersion: v1
        kind: Pod
        metadata: {name: oom}
        spec:
          restartPolicy: Never
          containers:
          - name: hog
            image: busybox
            command: [sh, -c, 'echo eating; head -c 300m /dev/zero | sort > /dev/null']
            resources: {limits: {memory: 32Mi}}
        """);
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("OOMKilled"), "get", "pod", "oom");
    assertEquals("OOMKilled 137", jsonpath("oom", "{.status.containerStatuses[0].state.terminated.reason} "
        + "{.status.containerStatuses[0].state.terminated.exitCode}"));
    assertEquals("Failed", jsonpath("oom", "{.status.phase}"));

    // Killed with SIGKILL by hand, not by the OOM killer: exit 137 too, but reason Error.
    // (PID 1 of a PID namespace ignores SIGKILL from inside, so a child is the one killed.)
    kubectl.ok("run", "killed", "--image=busybox", "--restart=Never", "--", "sh", "-c",
        "sleep 100 & kill -9 $!; wait $!; exit $?");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Error"), "get", "pod", "killed");
    assertEquals("Error 137", jsonpath("killed", "{.status.containerStatuses[0].state.terminated.reason} "
        + "{.status.containerStatuses[0].state.terminated.exitCode}"));

    // Restarted by its policy: the last state says why, the container waits in CrashLoopBackOff.
    kubectl.ok("run", "oomloop", "--image=busybox", "--overrides", "{\"spec\":{\"containers\":[{\"name\":\"oomloop\","
        + "\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"head -c 300m /dev/zero | sort\"],"
        + "\"resources\":{\"limits\":{\"memory\":\"32Mi\"}}}]}}");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("CrashLoopBackOff OOMKilled 137"), "get", "pod", "oomloop",
        "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason} "
            + "{.status.containerStatuses[0].lastState.terminated.reason} "
            + "{.status.containerStatuses[0].lastState.terminated.exitCode}");
    kubectl.ok("delete", "pod", "oom", "killed", "oomloop", "--grace-period=1");
  }

  @Test
  @Order(3)
  void securityContextSetsUserGroupsCapabilitiesAndARreadOnlyRoot() throws Exception {
    apply("secure", """
        apiVersion: v1
        kind: Pod
        metadata: {name: secure}
        spec:
          terminationGracePeriodSeconds: 1
          securityContext: {runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000, runAsNonRoot: true}
          volumes: [{name: data, emptyDir: {}}]
          containers:
          - name: main
            image: busybox
            command: [sleep, "3600"]
            volumeMounts: [{name: data, mountPath: /data}]
            securityContext:
              readOnlyRootFilesystem: true
              allowPrivilegeEscalation: false
              capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
        """);
    apply("plain", """
        apiVersion: v1
        kind: Pod
        metadata: {name: plain}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - {name: main, image: busybox, command: [sleep, "3600"]}
          - name: priv
            image: busybox
            command: [sleep, "3600"]
            securityContext: {privileged: true}
        """);
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "secure");
    String id = kubectl.ok("exec", "secure", "--", "id");
    assertTrue(id.contains("uid=1000") && id.contains("gid=3000") && id.contains("2000") && id.contains("4000"), id);
    Kubectl.Result roRoot = kubectl.run("exec", "secure", "--", "touch", "/x");
    assertTrue(roRoot.code() != 0 && roRoot.out().contains("Read-only file system"), roRoot.out());
    assertEquals("2000", kubectl.ok("exec", "secure", "--", "sh", "-c", "touch /data/x && stat -c %g /data/x").trim(),
        "fsGroup owns the emptyDir");
    String status = kubectl.ok("exec", "secure", "--", "cat", "/proc/1/status");
    // runc gives a non-root process its capabilities only in the bounding set (no ambient ones).
    assertTrue(status.contains("CapBnd:\t0000000000000400") && status.contains("CapEff:\t0000000000000000"),
        "only NET_BIND_SERVICE: " + status);
    assertTrue(status.contains("NoNewPrivs:\t1"), status);

    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "plain");
    String plain = kubectl.ok("exec", "plain", "-c", "main", "--", "cat", "/proc/1/status");
    assertTrue(plain.contains("CapEff:\t00000000a80425fb") && plain.contains("NoNewPrivs:\t0"),
        "containerd's default capabilities: " + plain);
    assertTrue(kubectl.ok("exec", "plain", "-c", "main", "--", "id").contains("uid=0(root)"));
    Kubectl.Result addr = kubectl.run("exec", "plain", "-c", "main", "--", "ip", "addr", "add", "10.9.9.9/32", "dev", "lo");
    assertTrue(addr.code() != 0 && addr.out().contains("Operation not permitted"), "no NET_ADMIN by default: " + addr.out());
    String priv = kubectl.ok("exec", "plain", "-c", "priv", "--", "cat", "/proc/1/status");
    String ours = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("CapBnd:"))
        .findFirst().orElseThrow().substring(7).trim();
    assertTrue(priv.contains("CapEff:\t" + ours), "privileged has every capability the node has (" + ours + "): " + priv);
    kubectl.ok("exec", "plain", "-c", "priv", "--", "ip", "addr", "add", "10.9.9.9/32", "dev", "lo");

    kubectl.ok("run", "nonroot", "--image=busybox", "--overrides",
        "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true}}}", "--", "sleep", "3600");
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("CreateContainerConfigError"), "get", "pod", "nonroot");
    String msg = jsonpath("nonroot", "{.status.containerStatuses[0].state.waiting.message}");
    assertTrue(msg.startsWith("container has runAsNonRoot and image will run as root (pod: \"nonroot_default("), msg);
    kubectl.ok("delete", "pod", "secure", "plain", "nonroot", "--grace-period=1");
  }

  @Test
  @Order(4)
  void hooksRunAroundStartAndStopAndTheGracePeriodEndsInSigkill() throws Exception {
    Path shared = Files.createTempDirectory("kvx-it-hooks");
    apply("observer", """
        apiVersion: v1
        kind: Pod
        metadata: {name: observer}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - {name: web, image: busybox, command: [sh, -c, 'while true; do printf "HTTP/1.0 200 OK\\r\\n\\r\\n" | nc -l -p 8080; done']}
        """);
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "observer");
    String observerIp = jsonpath("observer", "{.status.podIP}");
    apply("hooked", """
        apiVersion: v1
        kind: Pod
        metadata: {name: hooked}
        spec:
          terminationGracePeriodSeconds: 20
          volumes: [{name: shared, hostPath: {path: %s}}]
          containers:
          - name: main
            image: busybox
            command: [sh, -c, 'trap "echo term >> /shared/order; exit 0" TERM; while true; do sleep 0.2; done']
            volumeMounts: [{name: shared, mountPath: /shared}]
            lifecycle:
              postStart: {exec: {command: [sh, -c, 'echo poststart > /tmp/poststart']}}
              preStop: {exec: {command: [sh, -c, 'echo prestop >> /shared/order; sleep 1']}}
          - name: side
            image: busybox
            command: [sleep, "3600"]
            lifecycle:
              preStop: {httpGet: {host: %s, port: 8080, path: /bye}}
        """.formatted(shared, observerIp));
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "hooked");
    assertEquals("poststart", kubectl.ok("exec", "hooked", "-c", "main", "--", "cat", "/tmp/poststart").trim());
    kubectl.ok("delete", "pod", "hooked", "--wait=true");
    assertEquals("prestop\nterm\n", Files.readString(shared.resolve("order")), "preStop ran, then SIGTERM");
    String seen = kubectl.ok("logs", "observer");
    assertTrue(seen.contains("/bye"), "the httpGet preStop hook reached the observer: " + seen);

    // A container that ignores SIGTERM is killed when the grace period ends.
    apply("stubborn", """
        apiVersion: v1
        kind: Pod
        metadata: {name: stubborn}
        spec:
          terminationGracePeriodSeconds: 3
          containers:
          - {name: main, image: busybox, command: [sh, -c, 'trap "" TERM; while true; do sleep 0.2; done']}
        """);
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "stubborn");
    Path events = Files.createTempFile("kvx-it-stubborn", ".watch");
    Process watch = kubectl.start(events, "get", "pod", "stubborn", "-w", "--output-watch-events", "-o",
        "jsonpath={.type} {.object.status.phase} {.object.status.containerStatuses[0].state.terminated.exitCode}"
            + " {.object.status.containerStatuses[0].state.terminated.reason}{\"\\n\"}");
    Thread.sleep(1000);
    long t0 = System.nanoTime();
    kubectl.ok("delete", "pod", "stubborn", "--wait=true");
    long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
    assertTrue(seconds >= 3 && seconds < 20, "SIGKILL after the 3 s grace period, took " + seconds + " s");
    // As the kubelet: the pod's last status, before it goes, is terminal: killed, so Failed with exit 137.
    String watched = "";
    for (int i = 0; i < 50 && !watched.contains("DELETED"); i++) {
      Thread.sleep(100);
      watched = Files.readString(events);
    }
    watch.destroy();
    assertTrue(watched.contains("MODIFIED Failed 137 Error\nDELETED Failed 137 Error"), watched);

    // A failing postStart hook kills the container, which restarts.
    kubectl.ok("run", "badhook", "--image=busybox", "--overrides", "{\"spec\":{\"containers\":[{\"name\":\"badhook\","
        + "\"image\":\"busybox\",\"command\":[\"sleep\",\"3600\"],\"lifecycle\":{\"postStart\":{\"exec\":"
        + "{\"command\":[\"false\"]}}}}],\"terminationGracePeriodSeconds\":1}}");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("FailedPostStartHook"), "get", "events",
        "--field-selector", "involvedObject.name=badhook");
    kubectl.await(Duration.ofSeconds(60), out -> !out.isBlank() && !out.trim().equals("0"), "get", "pod", "badhook",
        "-o", "jsonpath={.status.containerStatuses[0].restartCount}");
    kubectl.ok("delete", "pod", "observer", "badhook", "--grace-period=1");
  }

  @Test
  @Order(5)
  void logsAreRotatedBySize() throws Exception {
    kubectl.ok("run", "chatty", "--image=busybox", "--", "sh", "-c",
        "i=0; while true; do i=$((i+1)); echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; "
            + "[ $((i % 200)) = 0 ] && sleep 0.2; done");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "chatty");
    String uid = jsonpath("chatty", "{.metadata.uid}");
    Path logs = home.resolve("node/nr-node/logs").resolve(uid).resolve("chatty");
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      try (var s = Files.list(logs)) {
        if (s.filter(p -> p.getFileName().toString().startsWith("0.log.")).count() >= 2) break;
      }
      Thread.sleep(500);
    }
    Thread.sleep(3000);
    for (int i = 0; i < 20; i++) {
      try (var s = Files.list(logs)) {
        var files = s.map(p -> p.getFileName().toString()).sorted().toList();
        assertTrue(files.stream().filter(f -> f.startsWith("0.log.")).count() <= 2, "at most two rotated logs: " + files);
        if (files.contains("0.log")) break;
      }
      Thread.sleep(100);
    }
    String last = kubectl.ok("logs", "chatty", "--tail=1");
    assertTrue(last.startsWith("line-"), last);
    String followed = kubectl.ok("logs", "chatty", "-f", "--limit-bytes=200000");
    assertTrue(followed.length() >= 150_000, "follow goes on across rotations: " + followed.length());
    kubectl.ok("delete", "pod", "chatty", "--grace-period=1");
  }

  @Test
  @Order(9)
  void podsRunUnderCrun() throws Exception {
    if (!new java.io.File("/usr/bin/crun").canExecute()) {
      System.out.println("SKIPPED podsRunUnderCrun: no /usr/bin/crun");
      return;
    }
    kvx.close();
    String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(ARGS), java.util.stream.Stream.of(
        "--oci-runtime", "crun")).toArray(String[]::new);
    kvx = KvxProcess.start("noderuntime-crun", home, API_PORT, args);
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl.await(Duration.ofSeconds(30), out -> out.startsWith("crun://"), "get", "node", "nr-node", "-o",
        "jsonpath={.status.nodeInfo.containerRuntimeVersion}");
    kubectl.await(Duration.ofSeconds(30), out -> out.contains(" Ready "), "get", "nodes");
    kubectl.ok("run", "oncrun", "--image=busybox", "--", "sh", "-c", "echo hello-from-crun; sleep 3600");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "oncrun");
    kubectl.await(Duration.ofSeconds(20), out -> out.contains("hello-from-crun"), "logs", "oncrun");
    String cgroup = kubectl.ok("exec", "oncrun", "--", "cat", "/proc/1/cgroup");
    assertTrue(cgroup.contains("memory:/kvx/"), "in its own kvx cgroup: " + cgroup);
    apply("oomcrun", """
        apiVersion: v1
        kind: Pod
        metadata: {name: oomcrun}
        spec:
          restartPolicy: Never
          containers:
          - name: hog
            image: busybox
            command: [sh, -c, 'head -c 300m /dev/zero | sort > /dev/null']
            resources: {limits: {memory: 32Mi}}
        """);
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("OOMKilled"), "get", "pod", "oomcrun");
    kubectl.ok("delete", "pod", "oncrun", "oomcrun", "--grace-period=1");
  }

  @Test
  @Order(6)
  void nodeStatusComesFromMeasurementsAndTheLeaseIsRenewedEvery10s() throws Exception {
    String conds = kubectl.ok("get", "node", "nr-node", "-o",
        "jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason} {end}");
    for (String c : new String[] {"MemoryPressure=False/KubeletHasSufficientMemory", "DiskPressure=False/KubeletHasNoDiskPressure",
        "PIDPressure=False/KubeletHasSufficientPID", "Ready=True/KubeletReady"}) {
      assertTrue(conds.contains(c), conds);
    }
    String[] mem = kubectl.ok("get", "node", "nr-node", "-o",
        "jsonpath={.status.capacity.memory} {.status.allocatable.memory}").trim().split(" ");
    long capacityKi = Long.parseLong(mem[0].replace("Ki", ""));
    long allocatableKi = Long.parseLong(mem[1].replace("Ki", ""));
    assertEquals(100 * 1024, capacityKi - allocatableKi, "allocatable keeps back memory.available<100Mi: " + mem[0] + " " + mem[1]);
    String first = kubectl.ok("get", "lease", "-n", "kube-node-lease", "nr-node", "-o", "jsonpath={.spec.renewTime}");
    String second = kubectl.await(Duration.ofSeconds(15), out -> !out.equals(first), "get", "lease", "-n",
        "kube-node-lease", "nr-node", "-o", "jsonpath={.spec.renewTime}");
    long gapMs = java.time.Duration.between(java.time.Instant.parse(first), java.time.Instant.parse(second)).toMillis();
    assertTrue(gapMs >= 9_000 && gapMs <= 12_000, "renewed every 10 s: " + first + " -> " + second);
    // The kubelet's node events and the machine's ids, as `kubectl describe node` shows them.
    String described = kubectl.ok("describe", "node", "nr-node");
    assertTrue(described.contains("Starting kubelet.") && described.contains("NodeHasSufficientMemory")
        && described.contains("Node nr-node status is now: NodeReady"), described);
    assertTrue(kubectl.ok("get", "node", "nr-node", "-o", "jsonpath={.status.nodeInfo.bootID}").trim()
        .matches("[0-9a-f-]{36}"));
  }
}
