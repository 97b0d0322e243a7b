package io.kvx.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DESIGN §2.5 for the embedded default: every acknowledged write is in the SQLite file before the
 * reply, so after a SIGKILL and a restart every object is back with the same resourceVersion and new
 * revisions continue upward.
 */
class DurabilityIT {

  private static final String[] ROLES = {"--roles", "sequencer,apiserver", "--cluster-port", "5881", "--secret",
      "it-durable"};

  @Test
  void acknowledgedObjectsSurviveSigkillWithTheirVersions() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-durable");
    Map<String, Long> before;
    try (KvxProcess first = KvxProcess.start("durable-1", home, 17481, with("server", ROLES))) {
      first.awaitReady(Duration.ofSeconds(60));
      Kubectl kubectl = new Kubectl(first.kubeconfig());
      for (int i = 0; i < 20; i++) kubectl.ok("run", "p" + i, "--image=busybox", "--", "sleep", "1");
      kubectl.ok("label", "pod", "p3", "changed=yes");
      kubectl.ok("delete", "pod", "p4");
      before = versions(kubectl);
      assertEquals(19, before.size());
      first.kill();
    }
    try (KvxProcess second = KvxProcess.start("durable-2", home, 17481, with("server", ROLES))) {
      second.awaitReady(Duration.ofSeconds(60));
      Kubectl kubectl = new Kubectl(second.kubeconfig());
      assertEquals(before, versions(kubectl), "same objects, same resourceVersions");
      assertEquals("yes", kubectl.ok("get", "pod", "p3", "-o", "jsonpath={.metadata.labels.changed}").trim());
      kubectl.ok("run", "after", "--image=busybox", "--", "sleep", "1");
      long next = Long.parseLong(kubectl.ok("get", "pod", "after", "-o", "jsonpath={.metadata.resourceVersion}").trim());
      long max = before.values().stream().mapToLong(Long::longValue).max().orElseThrow();
      assertTrue(next > max, "revisions continue upward: " + next + " > " + max);
    }
  }

  private static Map<String, Long> versions(Kubectl kubectl) throws Exception {
    String out = kubectl.ok("get", "pods", "-o",
        "jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion}{\"\\n\"}{end}");
    Map<String, Long> m = new TreeMap<>();
    out.lines().filter(l -> l.contains("=")).forEach(l -> m.put(l.split("=")[0], Long.parseLong(l.split("=")[1])));
    return m;
  }

  private static String[] with(String command, String[] rest) {
    String[] all = Arrays.copyOf(new String[] {command}, rest.length + 1);
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }
}
