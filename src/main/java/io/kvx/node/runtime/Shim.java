package io.kvx.node.runtime;

import io.kvx.nativeio.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-container shim, as containerd's does it but in a few lines of bash: started in its own
 * session (so it outlives the node agent and ignores the terminal's Ctrl-C), it runs the command,
 * records the child's pid, and writes the exit code when the command ends. Output goes to the log in
 * the CRI format ({@code <RFC3339Nano time> stdout|stderr F <line>}), one writer per stream, and the
 * exit code is written only after both writers have flushed, so a finished container's log is
 * complete. A container with stdin reads a FIFO in its bundle directory, which attach writes to.
 * (A stdinOnce container's FIFO is held open to write by the node agent until its first attach, so that it starts
 * at once, as with the kubelet, and reads end-of-file when that attach's input ends.)
 */
final class Shim {

  static final String EXIT_FILE = "exit";
  static final String PID_FILE = "pid";
  static final String STDIN_FIFO = "stdin";
  private static final long LAUNCH_WAIT_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

  /**
   * One line in, one timestamped line out; builtins only, so no process per line. The log is opened
   * for each line, so a log rotated away (renamed by the agent) is followed by a fresh file at once.
   */
  private static final String WRITER = "w() { while IFS= read -r l || [ -n \"$l\" ]; do t=$EPOCHREALTIME; "
      + "printf '%(%Y-%m-%dT%H:%M:%S)T.%s000Z %s F %s\\n' \"${t%.*}\" \"${t#*.}\" \"$1\" \"$l\" >>\"$2\"; done; }; ";

  private Shim() {
  }

  static void launch(List<String> command, Path dir, Path log, boolean stdin, boolean stdinOnce) throws IOException {
    launch(command, dir, log, stdin, stdinOnce, false);
  }

  /** With {@code gate}, the {@link StartGate} FIFO is made beside the output FIFOs (no process of its own). */
  static void launch(List<String> command, Path dir, Path log, boolean stdin, boolean stdinOnce, boolean gate)
      throws IOException {
    Files.createDirectories(dir);
    Files.createDirectories(log.getParent());
    Files.deleteIfExists(dir.resolve(EXIT_FILE));
    StringBuilder cmd = new StringBuilder();
    for (String part : command) cmd.append(quote(part)).append(' ');
    String logFile = quote(log.toString());
    // stdin: a FIFO opened read-write, so the container never sees EOF between two attaches; with
    // stdinOnce opened to read only: end-of-file once every writer (the agent's hold, the first attach) is gone.
    String in = !stdin ? "</dev/null" : stdinOnce ? "<" + STDIN_FIFO : "<>" + STDIN_FIFO;
    // The FIFOs are made here (mkfifo(3), no process); stdin's is kept across attempts' relaunches.
    List<String> fifos = new ArrayList<>(List.of("out", "err"));
    if (gate) fifos.add(StartGate.FIFO);
    for (String f : List.of("out", "err", StartGate.FIFO)) Files.deleteIfExists(dir.resolve(f));
    if (stdin && !Files.exists(dir.resolve(STDIN_FIFO))) fifos.add(STDIN_FIFO);
    for (String f : fifos) Libc.mkfifo(dir.resolve(f).toString(), 0600);
    String script = "export TZ=UTC LC_ALL=C; " + WRITER
        + "w stdout " + logFile + " <out & o=$!; w stderr " + logFile + " <err & e=$!; "
        + cmd + in + " >out 2>err & echo $! > " + PID_FILE + "; wait $!; c=$?; wait $o $e; rm -f out err; "
        + "echo $c > " + EXIT_FILE + ".tmp && mv " + EXIT_FILE + ".tmp " + EXIT_FILE;
    List<String> argv = new ArrayList<>(List.of("setsid", "bash", "-c", script));
    new ProcessBuilder(argv).directory(dir.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    // Until the pid file exists the runtimes cannot tell a starting container from a vanished one
    // (and the agent would remove its rootfs under it): return only once the command was forked.
    long deadline = System.nanoTime() + LAUNCH_WAIT_NANOS;
    while (!Files.exists(dir.resolve(PID_FILE)) && !Files.exists(dir.resolve(EXIT_FILE))
        && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * A command line run under a pseudo-terminal of util-linux {@code script} (quiet, flushed at once, the
   * command's exit code as its own); what the command writes to the terminal comes out on script's stdout.
   */
  static List<String> underScript(List<String> command) {
    StringBuilder line = new StringBuilder();
    for (String part : command) line.append(quote(part)).append(' ');
    return List.of("script", "-q", "-f", "-e", "-c", line.toString().trim(), "/dev/null");
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
