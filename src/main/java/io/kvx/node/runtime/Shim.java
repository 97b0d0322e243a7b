package io.kvx.node.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-container shim, as containerd's does it but in one line of sh: started in its own session
 * (so it outlives the node agent and ignores the terminal's Ctrl-C), it runs the command with output
 * appended to the log, records the child's pid, and writes the exit code when the command ends.
 */
final class Shim {

  static final String EXIT_FILE = "exit";
  static final String PID_FILE = "pid";

  private Shim() {
  }

  static void launch(List<String> command, Path dir, Path log) throws IOException {
    Files.createDirectories(dir);
    Files.createDirectories(log.getParent());
    Files.deleteIfExists(dir.resolve(EXIT_FILE));
    StringBuilder cmd = new StringBuilder();
    for (String part : command) cmd.append(quote(part)).append(' ');
    String script = cmd + "</dev/null >>" + quote(log.toString()) + " 2>&1 & echo $! > " + PID_FILE
        + "; wait $!; echo $? > " + EXIT_FILE + ".tmp && mv " + EXIT_FILE + ".tmp " + EXIT_FILE;
    List<String> argv = new ArrayList<>(List.of("setsid", "sh", "-c", script));
    new ProcessBuilder(argv).directory(dir.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** The recorded exit code, or null while the command runs. */
  static Integer exitCode(Path dir) throws IOException {
    Path f = dir.resolve(EXIT_FILE);
    if (!Files.exists(f)) return null;
    String s = Files.readString(f).trim();
    return s.isEmpty() ? null : Integer.parseInt(s);
  }

  static long pid(Path dir) throws IOException {
    Path f = dir.resolve(PID_FILE);
    for (int i = 0; i < 50 && !Files.exists(f); i++) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return Files.exists(f) ? Long.parseLong(Files.readString(f).trim()) : -1;
  }

  static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
