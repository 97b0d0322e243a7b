package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three JVMs on loopback with the roles spread out: A (sequencer, apiserver), B (sequencer,
 * apiserver, scheduler, controller-manager: as in kube, a pod's kube-api-access volume needs the
 * namespace's kube-root-ca.crt, which the controller manager publishes) and C (node). A pod created through A's API is scheduled by B and run by C;
 * then A, the store's leader, is SIGKILLed and B keeps serving: the pod is still there and a new
 * pod created through B reaches Running.
 */
class ThreeJvmIT {

  private static KvxProcess a;
  private static KvxProcess b;
  private static KvxProcess c;

  @AfterAll
  static void down() throws Exception {
    for (KvxProcess p : new KvxProcess[] {c, b, a}) {
      if (p != null) p.close();
    }
  }

  @Test
  void podCrossesJvmsAndTheClusterSurvivesLosingTheLeader() throws Exception {
    String secret = "it-three";
    a = KvxProcess.start("three-a", Files.createTempDirectory("kvx-it-a"), 17451, "server", "--roles",
        "sequencer,apiserver", "--cluster-port", "5831", "--secret", secret);
    a.awaitReady(Duration.ofSeconds(60));
    Kubectl viaA = new Kubectl(a.kubeconfig());
    b = KvxProcess.start("three-b", Files.createTempDirectory("kvx-it-b"), 17452, "server", "--roles",
        "sequencer,apiserver,scheduler,controller-manager", "--join", "127.0.0.1:5831", "--cluster-port", "5832", "--secret", secret);
    Path nodeHome = Files.createTempDirectory("kvx-it-c");
    KvxProcess.prepareBusybox(nodeHome);
    c = KvxProcess.start("three-c", nodeHome, 17453, "node", "--join", "127.0.0.1:5831", "--cluster-port", "5833",
        "--secret", secret, "--node-name", "it3-node", "--bridge", "kvxt2", "--pod-cidr", "10.89.2.0/24");
    b.awaitReady(Duration.ofSeconds(60));
    c.awaitLog("node it3-node: ready", Duration.ofSeconds(60));

    viaA.await(Duration.ofSeconds(30), out -> out.contains("it3-node") && out.contains(" Ready"), "get", "nodes");
    viaA.ok("run", "p1", "--image=busybox", "--", "sleep", "3600");
    viaA.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "p1");
    assertEquals("it3-node", viaA.ok("get", "pod", "p1", "-o", "jsonpath={.spec.nodeName}").trim());
    // Only B runs a scheduler, and it holds the scheduler Lease: the binding is B's.
    String bLog = Files.readString(b.log);
    assertTrue(bLog.contains("kube-system/kube-scheduler") && bLog.contains("is now the leader"),
        "B's scheduler leads and bound it");

    a.kill();

    Kubectl viaB = new Kubectl(b.kubeconfig());
    viaB.await(Duration.ofSeconds(60), out -> out.contains("p1") && out.contains("Running"), "get", "pods");
    viaB.ok("run", "p2", "--image=busybox", "--", "sleep", "3600");
    viaB.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "p2");
    assertTrue(Files.readString(b.log).contains("sequencer: leading"), "B took over the store");
    viaB.ok("delete", "pod", "p1", "p2", "--grace-period=1");
  }
}
