package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The API for other languages: the documented Python client (standard library only) creates a pod
 * through the TCP event-bus bridge and watches it until it runs; frames without the token are refused.
 */
class EventBusBridgeIT {

  private static final int API_PORT = 17495;
  private static final int BUS_PORT = API_PORT + 1000;
  private static KvxProcess kvx;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-bus");
    KvxProcess.prepareBusybox(home);
    kvx = KvxProcess.start("eventbus", home, API_PORT, "up", "--cluster-port", "5851", "--secret", "it-bus",
        "--node-name", "bus-node", "--bridge", "kvxt5", "--pod-cidr", "10.89.5.0/24", "--roles",
        "sequencer,apiserver,scheduler,controller-manager,node"); // the controller manager publishes kube-root-ca.crt
    kvx.awaitReady(Duration.ofSeconds(60));
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  @Test
  void pythonClientCreatesAPodAndWatchesItRun() throws Exception {
    Path script = Path.of("clients/python/example_pod.py").toAbsolutePath();
    Process p = new ProcessBuilder("python3", script.toString(), "127.0.0.1", String.valueOf(BUS_PORT),
        kvx.home.resolve("admin.token").toString()).directory(script.getParent().toFile())
        .redirectErrorStream(true).start();
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the example finished");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("created py-"), out);
    assertTrue(out.contains("ADDED py-"), out);
    assertTrue(out.contains("MODIFIED py-") && out.contains(" Running"), out);
    assertTrue(out.contains("deleted py-"), out);
  }

  @Test
  void framesWithoutTheTokenAreRefused() throws Exception {
    try (Socket s = new Socket("127.0.0.1", BUS_PORT)) {
      s.setSoTimeout(10_000);
      String frame = "{\"type\":\"send\",\"address\":\"kvx.api\",\"replyAddress\":\"r1\",\"headers\":{\"authorization\":"
          + "\"Bearer wrong\"},\"body\":{\"verb\":\"list\",\"resource\":\"pods\"}}";
      byte[] data = frame.getBytes(StandardCharsets.UTF_8);
      OutputStream out = s.getOutputStream();
      out.write(ByteBuffer.allocate(4).putInt(data.length).array());
      out.write(data);
      out.flush();
      byte[] len = s.getInputStream().readNBytes(4);
      byte[] body = s.getInputStream().readNBytes(ByteBuffer.wrap(len).getInt());
      String reply = new String(body, StandardCharsets.UTF_8);
      assertTrue(reply.contains("\"type\":\"err\"") && reply.contains("blocked"), reply);
    }
  }
}
