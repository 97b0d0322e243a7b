package io.kvx.it;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an operator sees when a JVM cannot start: one line naming the problem, and no second cluster. */
class StartupErrorsIT {

  private static String failure(String... args) {
    IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> KvxProcess.kvxCli(args));
    return e.getMessage();
  }

  @Test
  void aJoinNobodyAnswersFailsInsteadOfStartingAnotherCluster() throws Exception {
    String out = failure("server", "--home", Files.createTempDirectory("kvx-it-nojoin").toString(), "--join",
        "127.0.0.1:5899", "--secret", "it-nojoin", "--api-port", "17991", "--cluster-port", "5898");
    assertTrue(out.contains("kvx: server failed to start: could not join the cluster at 127.0.0.1:5899"), out);
    assertTrue(!out.contains("ready in"), out);
  }

  @Test
  void anApiPortInUseIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("0.0.0.0", 17992));
      String out = failure("up", "--home", Files.createTempDirectory("kvx-it-porttaken").toString(), "--api-port",
          "17992", "--cluster-port", "5897", "--roles", "sequencer,apiserver");
      assertTrue(out.contains("kvx: up failed to start: port 17992 on 0.0.0.0 (--api-port) is in use"), out);
      assertTrue(!out.contains("Exception"), out);
    }
  }
}
