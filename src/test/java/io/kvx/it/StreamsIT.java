package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * exec, attach, cp, port-forward and logs through the real kubectl against `kvx up` (every role but
 * the proxy in one JVM, runc and CNI when root): the WebSocket and SPDY-over-WebSocket protocols
 * kubectl 1.35 speaks, exit codes, stdin, and logs that follow, tail, carry timestamps and survive a
 * restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamsIT {

  private static KvxProcess kvx;
  private static Kubectl kubectl;
  private static final List<Process> background = new ArrayList<>();

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-streams");
    KvxProcess.prepareBusybox(home);
    kvx = KvxProcess.start("streams", home, 17961, "up", "--cluster-port", "5961", "--secret", "it-streams",
        "--node-name", "streams-node", "--bridge", "kvxs0", "--pod-cidr", "10.44.0.0/24",
        "--roles", "sequencer,apiserver,scheduler,controller-manager,node");
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
    kubectl.ok("run", "box", "--image=busybox", "--", "httpd", "-f", "-p", "8080", "-h", "/tmp");
    kubectl.ok("run", "ticker", "--image=busybox", "--", "sh", "-c",
        "echo first; while [ ! -f /tmp/go ]; do sleep 0.2; done; echo after-start; sleep 3600");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "box");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "ticker");
  }

  @AfterAll
  static void down() throws Exception {
    for (Process p : background) p.destroyForcibly();
    if (kvx != null) kvx.close();
  }

  /** kubectl with stdin fed from {@code input} (null: none), stdout and stderr together. */
  private static Kubectl.Result withInput(byte[] input, String... args) throws Exception {
    Process p = start(args);
    if (input != null) p.getOutputStream().write(input);
    p.getOutputStream().close();
    java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return e.toString();
      }
    });
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("kubectl " + String.join(" ", args) + " hung: " + out.get(10, TimeUnit.SECONDS));
    }
    return new Kubectl.Result(p.exitValue(), out.get(10, TimeUnit.SECONDS));
  }

  private static Process start(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(System.getProperty("kvx.kubectl", System.getenv()
        .getOrDefault("KVX_KUBECTL", "")), "--kubeconfig", kvx.kubeconfig().toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    background.add(p);
    return p;
  }

  /** Reads a background kubectl's output until a line matches; returns the match. */
  private static Matcher awaitLine(BufferedReader out, Pattern pattern, StringBuilder seen) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    String line;
    while (System.currentTimeMillis() < deadline && (line = out.readLine()) != null) {
      seen.append(line).append('\n');
      Matcher m = pattern.matcher(line);
      if (m.find()) return m;
    }
    throw new AssertionError("no line matching " + pattern + " in: " + seen);
  }

  @Test
  @Order(1)
  void execPrintsAndSucceeds() throws Exception {
    Kubectl.Result r = kubectl.run("exec", "box", "--", "sh", "-c", "echo hello-out; echo hello-err >&2");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("hello-out") && r.out().contains("hello-err"), r.out());
  }

  @Test
  @Order(2)
  void execPassesTheExitCode() throws Exception {
    Kubectl.Result r = kubectl.run("exec", "box", "--", "sh", "-c", "exit 3");
    assertEquals(3, r.code(), r.out());
    assertTrue(r.out().contains("command terminated with exit code 3"), r.out());
    Kubectl.Result missing = kubectl.run("exec", "box", "--", "no-such-command");
    // As with containerd: the runtime could not start it, an internal error (kubectl exits 1), not an exit code.
    assertEquals(1, missing.code(), missing.out());
    assertTrue(missing.out().contains("Internal error occurred: error executing command in container")
        && missing.out().contains("OCI runtime exec failed: exec failed:") && !missing.out().contains("level=error"),
        missing.out());
  }

  @Test
  @Order(3)
  void execWithStdinSeesItsEnd() throws Exception {
    Kubectl.Result r = withInput("hi\nthere\n".getBytes(StandardCharsets.UTF_8), "exec", "-i", "box", "--", "cat");
    assertEquals(0, r.code(), r.out());
    assertEquals("hi\nthere\n", r.out());
    Kubectl.Result wc = withInput("a b c".getBytes(StandardCharsets.UTF_8), "exec", "-i", "box", "--", "wc", "-w");
    assertEquals("3", wc.out().trim());
  }

  @Test
  @Order(4)
  void cpIntoThePodAndBack() throws Exception {
    byte[] data = new byte[300_000];
    new Random(7).nextBytes(data);
    Path dir = Files.createTempDirectory("kvx-it-cp");
    Path local = dir.resolve("blob.bin");
    Files.write(local, data);
    kubectl.ok("cp", local.toString(), "box:/tmp/blob.bin");
    assertEquals("300000", kubectl.ok("exec", "box", "--", "sh", "-c", "wc -c < /tmp/blob.bin").trim());
    Path back = dir.resolve("back.bin");
    kubectl.ok("cp", "box:/tmp/blob.bin", back.toString());
    assertArrayEquals(data, Files.readAllBytes(back));
  }

  @Test
  @Order(5)
  void portForwardToAPodAndAService() throws Exception {
    kubectl.ok("exec", "box", "--", "sh", "-c", "echo kvx-forwarded-page > /tmp/index.html");
    kubectl.ok("expose", "pod", "box", "--port", "80", "--target-port", "8080", "--name", "boxsvc");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    for (String target : List.of("pod/box", "svc/boxsvc")) {
      String remote = target.startsWith("svc") ? "80" : "8080";
      Process pf = start("port-forward", target, ":" + remote);
      BufferedReader out = new BufferedReader(new InputStreamReader(pf.getInputStream(), StandardCharsets.UTF_8));
      Matcher m = awaitLine(out, Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 8080"), new StringBuilder());
      int port = Integer.parseInt(m.group(1));
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/index.html")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), target);
        assertEquals("kvx-forwarded-page\n", r.body(), target);
      }
      pf.destroy();
      pf.waitFor(10, TimeUnit.SECONDS);
    }
    // As the kubelet, port-forward dials the port on the pod's own loopback: a server bound to 127.0.0.1 answers.
    kubectl.ok("exec", "box", "--", "httpd", "-p", "127.0.0.1:8081", "-h", "/tmp");
    Process pf = start("port-forward", "pod/box", ":8081");
    BufferedReader out = new BufferedReader(new InputStreamReader(pf.getInputStream(), StandardCharsets.UTF_8));
    int port = Integer.parseInt(awaitLine(out, Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 8081"),
        new StringBuilder()).group(1));
    HttpResponse<String> local = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + "/index.html")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("kvx-forwarded-page\n", local.body());
    pf.destroy();
    pf.waitFor(10, TimeUnit.SECONDS);
  }

  @Test
  @Order(6)
  void logsFollowPrintsLinesWrittenAfterItStarted() throws Exception {
    Process follow = start("logs", "-f", "ticker");
    BufferedReader out = new BufferedReader(new InputStreamReader(follow.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    awaitLine(out, Pattern.compile("^first$"), seen);
    kubectl.ok("exec", "ticker", "--", "touch", "/tmp/go");
    awaitLine(out, Pattern.compile("^after-start$"), seen);
    assertTrue(follow.isAlive(), "follow keeps going while the container runs");
    follow.destroy();
  }

  @Test
  @Order(7)
  void logsWithTimestampsTailAndSince() throws Exception {
    String stamped = kubectl.ok("logs", "ticker", "--timestamps");
    List<String> lines = stamped.lines().toList();
    assertEquals(2, lines.size(), stamped);
    assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z first"), lines.get(0));
    assertTrue(lines.get(1).matches("\\S+Z after-start"), lines.get(1));
    assertEquals("after-start\n", kubectl.ok("logs", "ticker", "--tail=1"));
    assertEquals("", kubectl.ok("logs", "ticker", "--since-time=2999-01-01T00:00:00Z"));
    assertEquals("fir", kubectl.ok("logs", "ticker", "--limit-bytes=3"));
  }

  @Test
  @Order(8)
  void logsPreviousAfterARestart() throws Exception {
    Kubectl.Result none = kubectl.run("logs", "box", "--previous");
    assertNotEquals(0, none.code());
    assertTrue(none.out().contains("previous terminated container \"box\" in pod \"box\" not found"), none.out());
    kubectl.ok("run", "crash", "--image=busybox", "--", "sh", "-c", "echo run-$RANDOM$RANDOM; sleep 1; exit 1");
    kubectl.await(Duration.ofSeconds(60), out -> !out.trim().isEmpty() && Integer.parseInt(out.trim()) >= 1,
        "get", "pod", "crash", "-o", "jsonpath={.status.containerStatuses[0].restartCount}");
    String previous = kubectl.ok("logs", "crash", "--previous");
    assertTrue(previous.matches("run-\\d+\n"), previous);
    String current = kubectl.await(Duration.ofSeconds(30), out -> out.startsWith("run-"), "logs", "crash");
    assertNotEquals(previous, current, "the current attempt has its own log");
  }

  @Test
  @Order(9)
  void runInteractiveAttachesStdin() throws Exception {
    Kubectl.Result r = withInput("echo attached-$((6*7))\nexit 0\n".getBytes(StandardCharsets.UTF_8),
        "run", "att", "-i", "--rm", "--restart=Never", "--image=busybox", "--", "sh");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("attached-42"), r.out());
  }

  @Test
  @Order(9)
  void runInteractiveEndsAtEndOfInput() throws Exception {
    // stdinOnce: the end of kubectl's input closes the container's stdin, so `cat` returns and the pod ends.
    Kubectl.Result r = withInput("from-stdin\n".getBytes(StandardCharsets.UTF_8),
        "run", "eof", "-i", "--rm", "--restart=Never", "--image=busybox", "--", "sh", "-c", "cat; echo done-$((6*7))");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("from-stdin") && r.out().contains("done-42"), r.out());
    assertTrue(r.out().contains("pod \"eof\" deleted"), r.out());
  }

  @Test
  @Order(9)
  void debugContainersThatEndAtOnceEndTheirAttach() throws Exception {
    // kubectl debug -it attaches once the ephemeral container runs; one that ends at once may be gone by
    // the time the attach opens its stdin. Each run must end (it used to hang about one time in three).
    for (int i = 0; i < 4; i++) {
      Kubectl.Result r = withInput(null, "debug", "box", "-it", "--image=busybox", "--profile=general", "--",
          "sh", "-c", "echo dbg-" + i);
      assertEquals(0, r.code(), r.out());
    }
  }

  @Test
  @Order(10)
  void streamsOfMissingPodsAndContainersAreErrors() throws Exception {
    Kubectl.Result pod = kubectl.run("exec", "nope", "--", "true");
    assertTrue(pod.out().contains("NotFound") || pod.out().contains("not found"), pod.out());
    Kubectl.Result container = kubectl.run("exec", "box", "-c", "nope", "--", "true");
    assertNotEquals(0, container.code());
    assertTrue(container.out().contains("nope"), container.out());
  }
}
