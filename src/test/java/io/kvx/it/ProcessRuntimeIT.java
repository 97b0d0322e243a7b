package io.kvx.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fallback for machines without root or runc: `--runtime process` runs containers as plain
 * processes, says so at start and in the node's runtime version, and pods still run and log.
 */
class ProcessRuntimeIT {

  @Test
  void podsRunAsPlainProcessesAndTheNodeSaysThereIsNoIsolation() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-process");
    KvxProcess.prepareBusybox(home);
    try (KvxProcess kvx = KvxProcess.start("process", home, 17471, "up", "--runtime", "process",
        "--cluster-port", "5871", "--secret", "it-process", "--node-name", "it-pnode")) {
      kvx.awaitReady(Duration.ofSeconds(60));
      // The API server answers before the node verticle has started and printed its warning: wait for it.
      kvx.awaitLog("NO isolation", Duration.ofSeconds(30));
      Kubectl kubectl = new Kubectl(kvx.kubeconfig());
      kubectl.await(Duration.ofSeconds(30), out -> out.contains("no isolation") && out.contains(" Ready "),
          "get", "nodes", "-o", "wide");
      kubectl.ok("run", "hi", "--image=busybox", "--restart=Never", "--", "sh", "-c", "echo plain-process-$((6*7))");
      kubectl.await(Duration.ofSeconds(60), out -> out.contains("Completed"), "get", "pod", "hi");
      assertTrue(kubectl.ok("logs", "hi").contains("plain-process-42"));
      kubectl.ok("delete", "pod", "hi");
    }
  }
}
