package io.kvx.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** One kvx JVM started the way ops/kvx starts it (java -jar target/kvx.jar), for *IT tests. */
final class KvxProcess implements AutoCloseable {

  static final List<String> JVM_OPTS = List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens",
      "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.base/java.nio=ALL-UNNAMED",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
      "-XX:+UseSerialGC", "-Xmn48m", "-XX:TieredStopAtLevel=1");

  final String name;
  final Path home;
  final int apiPort;
  final Process process;
  final Path log;

  private KvxProcess(String name, Path home, int apiPort, Process process, Path log) {
    this.name = name;
    this.home = home;
    this.apiPort = apiPort;
    this.process = process;
    this.log = log;
  }

  static KvxProcess start(String name, Path home, int apiPort, String... args) throws IOException {
    return startIn(null, name, home, apiPort, args);
  }

  /**
   * As {@link #start}, inside a network namespace made with {@code ip netns add} (through nsenter, which
   * switches only the network namespace: the JVM keeps the host's mounts, cgroups and /var/run/netns).
   */
  static KvxProcess startIn(String netns, String name, Path home, int apiPort, String... args) throws IOException {
    String jar = System.getProperty("kvx.jar", "target/kvx.jar");
    List<String> cmd = new ArrayList<>();
    if (netns != null) cmd.addAll(List.of("nsenter", "--net=/var/run/netns/" + netns));
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_OPTS);
    cmd.add("-jar");
    cmd.add(jar);
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("--home", home.toString(), "--api-port", String.valueOf(apiPort)));
    Path logDir = Path.of("target", "it-logs");
    Files.createDirectories(logDir);
    Path log = logDir.resolve(name + ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new KvxProcess(name, home, apiPort, p, log);
  }

  /**
   * Puts busybox:latest into a home the way a user would: {@code kvx image build-busybox} writes the OCI
   * layout tarball from Debian's busybox-static (once per build), {@code kvx image import} unpacks it.
   */
  static void prepareBusybox(Path home) throws Exception {
    Path archive = Path.of("target", "busybox-oci.tar").toAbsolutePath();
    synchronized (KvxProcess.class) {
      if (!Files.exists(archive)) kvxCli("image", "build-busybox", archive.toString());
    }
    kvxCli("image", "import", archive.toString(), "--home", home.toString());
  }

  /** Runs a short kvx CLI command (java -jar target/kvx.jar ...) and returns its output; fails on a non-zero exit. */
  static String kvxCli(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(JVM_OPTS);
    cmd.addAll(List.of("-jar", System.getProperty("kvx.jar", "target/kvx.jar")));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) throw new IllegalStateException("kvx " + String.join(" ", args) + " failed: " + out);
    return out;
  }

  /** Waits until GET /readyz answers 200; returns the milliseconds it took from now. */
  long awaitReady(Duration timeout) throws Exception {
    long t0 = System.nanoTime();
    HttpClient http = insecureClient();
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) throw new IllegalStateException(name + " exited: " + Files.readString(log));
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + apiPort + "/readyz"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(name + " not ready in " + timeout + ": " + Files.readString(log));
  }

  /** Waits for a line in the log (for JVMs without an API server). */
  void awaitLog(String text, Duration timeout) throws Exception {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains(text)) return;
      if (!process.isAlive()) throw new IllegalStateException(name + " exited: " + Files.readString(log));
      Thread.sleep(100);
    }
    throw new IllegalStateException(name + ": no '" + text + "' in " + timeout + ": " + Files.readString(log));
  }

  Path kubeconfig() {
    return home.resolve("kubeconfig");
  }

  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGTERM, as Ctrl-C or a service manager would; returns the exit code. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return -1;
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) stop();
  }

  static HttpClient insecureClient() throws Exception {
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, new TrustManager[] {new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] c, String a) { }

      public void checkServerTrusted(X509Certificate[] c, String a) { }

      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, new SecureRandom());
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(2)).build();
  }
}
