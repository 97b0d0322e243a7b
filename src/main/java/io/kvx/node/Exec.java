package io.kvx.node;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a helper program (runc, ip, mount, CNI plugins) and returns its stdout. Blocking. */
public final class Exec {

  private Exec() {
  }

  public static String run(List<String> command) throws IOException {
    return run(command, Map.of(), null);
  }

  /** Runs with extra environment and optional stdin; a non-zero exit is an IOException with stderr. */
  public static String run(List<String> command, Map<String, String> env, String stdin) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    Process p = pb.start();
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread errReader = Thread.ofVirtual().start(() -> copy(p.getErrorStream(), err));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + ": timed out");
      }
      errReader.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (p.exitValue() != 0) {
      String msg = err.toString(StandardCharsets.UTF_8).trim();
      if (msg.isEmpty()) msg = out.trim();
      throw new IOException(command.get(0) + " " + (command.size() > 1 ? command.get(1) : "") + " failed ("
          + p.exitValue() + "): " + msg);
    }
    return out;
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try {
      in.transferTo(out);
    } catch (IOException ignored) {
      // the process went away; what was read is kept
    }
  }

  public static boolean onPath(String binary) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
      if (new java.io.File(dir, binary).canExecute()) return true;
    }
    return new java.io.File("/usr/sbin", binary).canExecute() || new java.io.File("/sbin", binary).canExecute();
  }
}
