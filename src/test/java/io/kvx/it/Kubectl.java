package io.kvx.it;

import org.junit.jupiter.api.Assumptions;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** The real kubectl binary (ops/test fetches v1.35 and passes its path in kvx.kubectl). */
final class Kubectl {

  record Result(int code, String out) {}

  static final String ENDPOINTS_WARNING =
      "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice";
  /** In the environment map of {@link #run(java.util.Map, String...)}: the output as kubectl printed it. */
  static final String KEEP_WARNINGS = "KVX_TEST_KEEP_WARNINGS";

  private final Path binary;
  private final Path kubeconfig;

  Kubectl(Path kubeconfig) {
    String path = System.getProperty("kvx.kubectl", System.getenv().getOrDefault("KVX_KUBECTL", ""));
    Assumptions.assumeTrue(!path.isEmpty() && Files.isExecutable(Path.of(path)),
        "SKIPPED: no kubectl binary (ops/test downloads it; set KVX_KUBECTL to run this test by hand)");
    this.binary = Path.of(path);
    this.kubeconfig = kubeconfig;
  }

  Result run(String... args) throws Exception {
    return run(java.util.Map.of(), args);
  }

  /** With extra environment (KUBE_EDITOR for kubectl edit). */
  Result run(java.util.Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--kubeconfig", kubeconfig.toString(),
        "--request-timeout=20s"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("kubectl " + String.join(" ", args) + " hung");
    }
    // kube-apiserver warns on every v1 Endpoints request (kubectl prints it on stderr, merged here); the tests that
    // read endpoints parse the output, so the line is left out of it. ControllersIT asserts the warning itself.
    if (!env.containsKey(KEEP_WARNINGS)) out = out.replace(ENDPOINTS_WARNING + "\n", "");
    return new Result(p.exitValue(), out);
  }

  /** A long-running kubectl (get -w, ...) whose output goes to a file; the caller destroys it. */
  Process start(Path output, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--kubeconfig", kubeconfig.toString()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
  }

  String ok(String... args) throws Exception {
    Result r = run(args);
    if (r.code != 0) throw new AssertionError("kubectl " + String.join(" ", args) + " failed: " + r.out);
    return r.out;
  }

  /** Polls a kubectl command until its output satisfies the condition. */
  String await(Duration timeout, Predicate<String> condition, String... args) throws Exception {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    String last = "";
    while (System.currentTimeMillis() < deadline) {
      Result r = run(args);
      last = r.out;
      if (r.code == 0 && condition.test(r.out)) return r.out;
      Thread.sleep(300);
    }
    throw new AssertionError("kubectl " + String.join(" ", args) + " never satisfied the condition; last: " + last);
  }
}
