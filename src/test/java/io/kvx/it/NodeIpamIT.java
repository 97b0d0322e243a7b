package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Node podCIDR allocation across a controller-manager failover: JVM A serves the API and the store,
 * JVMs B and C each run a controller manager (one leads). Nodes registered without a podCIDR get
 * distinct /24 blocks of a 16-block cluster CIDR; the leader is SIGKILLed while more nodes arrive; the
 * other takes over from the reservations in the store, so the 16 nodes hold 16 different blocks and a
 * 17th waits (CIDRNotAvailable) until a node's deletion frees one.
 */
class NodeIpamIT {

  private static final String CLUSTER_CIDR = "10.74.16.0/20";
  private static KvxProcess a;
  private static KvxProcess b;
  private static KvxProcess c;

  @AfterAll
  static void down() throws Exception {
    for (KvxProcess p : new KvxProcess[] {c, b, a}) {
      if (p != null) p.close();
    }
  }

  private static String nodes(int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < to; i++) {
      sb.append("apiVersion: v1\nkind: Node\nmetadata: {name: ipam-").append(i).append("}\n---\n");
    }
    return sb.toString();
  }

  private static Set<String> cidrs(Kubectl k, int expected) throws Exception {
    String out = k.await(Duration.ofSeconds(60), o -> o.lines().filter(l -> l.matches(".*10\\.74\\.\\d+\\.0/24"))
        .count() == expected, "get", "nodes", "-o", "custom-columns=N:.metadata.name,C:.spec.podCIDR", "--no-headers");
    Set<String> seen = new HashSet<>();
    for (String line : out.lines().toList()) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 2 && !f[1].equals("<none>")) {
        assertTrue(seen.add(f[1]), "block " + f[1] + " given twice: " + out);
      }
    }
    return seen;
  }

  @Test
  void blocksStayUniqueAcrossAControllerManagerFailover() throws Exception {
    String secret = "it-ipam";
    a = KvxProcess.start("ipam-a", Files.createTempDirectory("kvx-it-ipam-a"), 17743, "server", "--roles",
        "sequencer,apiserver", "--cluster-port", "5751", "--secret", secret, "--cluster-cidr", CLUSTER_CIDR);
    a.awaitReady(Duration.ofSeconds(60));
    b = KvxProcess.start("ipam-b", Files.createTempDirectory("kvx-it-ipam-b"), 17744, "server", "--roles",
        "controller-manager", "--join", "127.0.0.1:5751", "--cluster-port", "5752", "--secret", secret,
        "--cluster-cidr", CLUSTER_CIDR, "--node-name", "ipam-b");
    c = KvxProcess.start("ipam-c", Files.createTempDirectory("kvx-it-ipam-c"), 17745, "server", "--roles",
        "controller-manager", "--join", "127.0.0.1:5751", "--cluster-port", "5753", "--secret", secret,
        "--cluster-cidr", CLUSTER_CIDR, "--node-name", "ipam-c");
    b.awaitLog("kvx: server ready", Duration.ofSeconds(60));
    c.awaitLog("kvx: server ready", Duration.ofSeconds(60));
    Kubectl k = new Kubectl(a.kubeconfig());
    Path dir = Files.createTempDirectory("kvx-it-ipam-files");
    Path first = dir.resolve("first.yaml");
    Files.writeString(first, nodes(0, 10));
    k.ok("apply", "-f", first.toString());
    assertEquals(10, cidrs(k, 10).size());

    KvxProcess leader = Files.readString(b.log).contains("kube-controller-manager: ipam-b") ? b : c;
    KvxProcess other = leader == b ? c : b;
    Path second = dir.resolve("second.yaml");
    Files.writeString(second, nodes(10, 17));
    leader.kill();
    k.ok("apply", "-f", second.toString());
    Set<String> all = cidrs(k, 16);
    assertEquals(16, all.size(), "every block of " + CLUSTER_CIDR + " once");
    assertTrue(Files.readString(other.log).contains("nodeipam: node"), "the surviving controller manager allocated");

    String waiting = k.ok("get", "nodes", "-o", "custom-columns=N:.metadata.name,C:.spec.podCIDR", "--no-headers")
        .lines().filter(l -> l.contains("<none>")).map(l -> l.trim().split("\\s+")[0]).findFirst().orElseThrow();
    k.await(Duration.ofSeconds(30), out -> out.contains("CIDRNotAvailable"), "get", "events", "--field-selector",
        "involvedObject.name=" + waiting);
    String freed = k.ok("get", "node", "ipam-3", "-o", "jsonpath={.spec.podCIDR}").trim();
    k.ok("delete", "node", "ipam-3");
    k.await(Duration.ofSeconds(30), out -> out.trim().equals(freed), "get", "node", waiting, "-o",
        "jsonpath={.spec.podCIDR}");
  }
}
