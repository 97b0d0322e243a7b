package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HorizontalPodAutoscaler on real containers: a CPU-burning busybox deployment (request 100m, cgroup
 * limit 200m) is autoscaled with `kubectl autoscale --cpu-percent=50`; the controller reads the pods' CPU from
 * the node's cgroups and scales to its maximum, saying why in status and events. When the pods stop burning,
 * it scales back down (the scale-down window is set to 0 s through spec.behavior; by default it is 300 s).
 * A second deployment whose pods hold ~50 MB against a 32Mi request is scaled on memory utilization.
 */
class HorizontalPodAutoscalerIT {

  private static KvxProcess kvx;
  private static Kubectl k;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-hpa");
    KvxProcess.prepareBusybox(home);
    Files.createDirectories(home.resolve("verticles"));
    Files.writeString(home.resolve("verticles/controller-manager.json"),
        "{\"config\": {\"horizontalPodAutoscalerSyncPeriodSeconds\": 3}}");
    kvx = KvxProcess.start("hpa", home, 17621, "up", "--cluster-port", "5901", "--secret", "it-hpa",
        "--node-name", "hpa-node", "--bridge", "kvxh0", "--pod-cidr", "10.46.0.0/24");
    kvx.awaitReady(Duration.ofSeconds(60));
    k = new Kubectl(kvx.kubeconfig());
    k.await(Duration.ofSeconds(30), out -> out.contains("hpa-node") && out.contains(" Ready "), "get", "nodes");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  /** A one-replica busybox Deployment running {@code sh -c command} with these resources. */
  private static String deployment(String name, String command, String resources) {
    return """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: %1$s}
        spec:
          replicas: 1
          selector: {matchLabels: {app: %1$s}}
          template:
            metadata: {labels: {app: %1$s}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: busybox
                command: ["sh", "-c", "%2$s"]
                resources: %3$s
        """.formatted(name, command, resources);
  }

  private static void apply(String yaml) throws Exception {
    Path f = Files.createTempFile("kvx-hpa", ".yaml");
    Files.writeString(f, yaml);
    k.ok("apply", "-f", f.toString());
  }

  @Test
  void scalesUpOnCpuAndBackDownWhenIdle() throws Exception {
    apply(deployment("burn", "while :; do :; done", "{requests: {cpu: 100m}, limits: {cpu: 200m}}"));
    k.await(Duration.ofSeconds(60), out -> out.contains("1/1"), "get", "deployment", "burn");
    k.ok("autoscale", "deployment", "burn", "--cpu-percent=50", "--min=1", "--max=3");
    k.ok("patch", "hpa", "burn", "--type=merge", "-p",
        "{\"spec\":{\"behavior\":{\"scaleDown\":{\"stabilizationWindowSeconds\":0}}}}");

    long t0 = System.currentTimeMillis();
    k.await(Duration.ofSeconds(90), out -> out.contains("3/3"), "get", "deployment", "burn");
    System.out.println("HPA scaled 1 -> 3 in " + (System.currentTimeMillis() - t0) + " ms");
    String hpa = k.await(Duration.ofSeconds(30), out -> out.matches("(?s).*cpu: \\d+%/50%.*"), "get", "hpa", "burn");
    System.out.println(hpa);
    String described = k.ok("describe", "hpa", "burn");
    assertTrue(described.contains("SuccessfulRescale") && described.contains("New size: 3; reason: cpu resource "
        + "utilization (percentage of request) above target"), described);
    assertTrue(described.contains("ScalingActive") && described.contains("ValidMetricFound"), described);

    // Idle pods: utilisation falls to ~0% and the HPA goes back to its minimum.
    k.ok("set", "image", "deployment/burn", "c=busybox");
    k.ok("patch", "deployment", "burn", "--type=json", "-p",
        "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/command\",\"value\":[\"sleep\",\"3600\"]}]");
    t0 = System.currentTimeMillis();
    k.await(Duration.ofSeconds(120), out -> out.contains("1/1"), "get", "deployment", "burn");
    System.out.println("HPA scaled back to 1 in " + (System.currentTimeMillis() - t0) + " ms");
    assertTrue(k.ok("describe", "hpa", "burn").contains("All metrics below target"));
  }

  @Test
  void scalesUpOnMemoryUtilization() throws Exception {
    // Each pod keeps ~50 MB in a shell variable: ~150% of its 32Mi request, against a 60% target (the shell stays:
    // with a command after the sleep it does not exec it).
    apply(deployment("hog", "x=$(yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | head -c 50000000); sleep 3600; echo held",
        "{requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 256Mi}}") + """
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: hog}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: hog}
          minReplicas: 1
          maxReplicas: 2
          metrics:
          - type: Resource
            resource: {name: memory, target: {type: Utilization, averageUtilization: 60}}
        """);
    long t0 = System.currentTimeMillis();
    k.await(Duration.ofSeconds(90), out -> out.contains("2/2"), "get", "deployment", "hog");
    System.out.println("HPA scaled 1 -> 2 on memory in " + (System.currentTimeMillis() - t0) + " ms");
    String hpa = k.await(Duration.ofSeconds(30), out -> out.matches("(?s).*memory: \\d+%/60%.*"), "get", "hpa", "hog");
    System.out.println(hpa);
    int percent = Integer.parseInt(hpa.replaceAll("(?s).*memory: (\\d+)%/60%.*", "$1"));
    assertTrue(percent > 60, hpa);
    String described = k.ok("describe", "hpa", "hog");
    assertTrue(described.contains("SuccessfulRescale") && described.contains("New size: 2; reason: memory resource "
        + "utilization (percentage of request) above target"), described);
    k.ok("delete", "hpa", "hog");
    k.ok("delete", "deployment", "hog");
  }
}
