package io.kvx.node.network;

import io.kvx.node.Exec;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Root only: a pod's namespace made by system calls is what `ip netns` sees, with lo up, and goes away. */
class NetNamespacesTest {

  @Test
  void aNamespaceMadeInProcessIsANamedNetnsWithLoopbackUpAndIsRemoved() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")) && Exec.onPath("ip"));
    String name = "kvxd-nstest-" + ProcessHandle.current().pid();
    Path file = Path.of("/var/run/netns", name);
    String hostBefore = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
    try {
      NetNamespaces.create(file);
      assertTrue(Exec.run(List.of("ip", "netns", "list")).contains(name));
      String lo = Exec.run(List.of("ip", "-n", name, "-o", "link", "show", "lo"));
      assertTrue(lo.contains("UP"), lo);
      assertTrue(Exec.run(List.of("ip", "-n", name, "-o", "addr", "show", "lo")).contains("127.0.0.1"));
      // The namespace is a new one, and the agent's own threads stayed where they were.
      assertFalse(Exec.run(List.of("ip", "-n", name, "-o", "link")).contains("eth0"));
      assertTrue(hostBefore.equals(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()));
      assertThrows(java.io.IOException.class, () -> NetNamespaces.create(file), "the name is taken");
      NetNamespaces.loopbackUp(file);
    } finally {
      NetNamespaces.delete(file);
    }
    assertFalse(Files.exists(file));
    assertFalse(Exec.run(List.of("ip", "netns", "list")).contains(name));
    NetNamespaces.delete(file); // quiet when gone
  }
}
