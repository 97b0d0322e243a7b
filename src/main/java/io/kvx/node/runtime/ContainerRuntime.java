package io.kvx.node.runtime;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A way to run containers (DESIGN §4): {@code oci} (runc or crun on OCI bundles) or {@code process}
 * (plain processes, no isolation). All calls block; the node agent makes them on worker threads.
 * Containers outlive the node agent: each runs under a small detached shim that records its exit code.
 */
public interface ContainerRuntime {

  /** Name and version for node.status.nodeInfo.containerRuntimeVersion, e.g. {@code runc://1.1.5}. */
  String version();

  /** Whether containers get their own namespaces and cgroups. */
  boolean isolated();

  void start(ContainerSpec spec) throws IOException;

  ContainerStatus status(ContainerSpec spec) throws IOException;

  /**
   * Waits until the container's process runs (the runtime created and started it), so that what follows
   * (a postStart hook, "Running" in the pod's status) sees a started container; false if it exited or
   * did not start within the timeout.
   */
  default boolean awaitStarted(ContainerSpec spec, long timeoutMs) throws IOException {
    return true;
  }

  void signal(ContainerSpec spec, String signal) throws IOException;

  /** Removes what the container left (runtime state, cgroup, mounts); it must have exited. */
  void remove(ContainerSpec spec) throws IOException;

  /**
   * Starts a command in the running container with its environment and working directory, stdin,
   * stdout and stderr as the returned process's pipes and its exit code as the process's. With
   * {@code tty} the command gets a terminal (stdout and stderr are then one stream).
   */
  Process exec(ContainerSpec spec, List<String> command, boolean tty) throws IOException;

  /** Whether the container's main process has ended (the shim recorded its exit code). */
  default boolean exited(ContainerSpec spec) throws IOException {
    return !Files.isDirectory(spec.bundleDir()) || Shim.exitCode(spec.bundleDir()) != null;
  }

  /** The host PID of the container's first process (its PID namespace's init), 0 when not known. */
  default long initPid(ContainerSpec spec) throws IOException {
    return 0;
  }

  /** The pipe to the main process's stdin (containers started with {@code stdin}), which attach writes. */
  default Path stdinPipe(ContainerSpec spec) {
    return spec.bundleDir().resolve(Shim.STDIN_FIFO);
  }

  /**
   * Opens one of a container's FIFOs (its stdin, its start gate) to write, read-write: an open that never
   * waits. Opened write-only it would wait for a reader, forever once the container has exited. What is
   * written stays in the pipe until the container reads it; closing it is the container's end of input
   * when nothing else holds it open to write.
   */
  static FileChannel openFifo(Path fifo) throws IOException {
    return FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  /**
   * Runs a command line under a pseudo-terminal made by util-linux {@code script}: the command sees a
   * terminal on its stdio while this side keeps plain pipes. {@code stty -F} on the terminal (see
   * {@link #resizeTerminal}) resizes it.
   */
  static Process underTerminal(List<String> command, java.io.File dir) throws IOException {
    StringBuilder line = new StringBuilder();
    for (String part : command) line.append(Shim.quote(part)).append(' ');
    List<String> argv = new ArrayList<>(List.of("script", "-q", "-f", "-e", "-c", line.toString().trim(),
        "/dev/null"));
    ProcessBuilder pb = new ProcessBuilder(argv);
    if (dir != null) pb.directory(dir);
    pb.environment().put("TERM", "xterm");
    return pb.start();
  }

  /**
   * Sets the size of the terminal {@link #underTerminal} made for a process: the terminal is the
   * stdin of script's child; the kernel then signals SIGWINCH to whoever runs on it.
   */
  static void resizeTerminal(Process script, int width, int height) throws IOException {
    for (ProcessHandle child : script.children().toList()) {
      Path tty = Path.of("/proc", String.valueOf(child.pid()), "fd", "0");
      try {
        Path target = Files.readSymbolicLink(tty);
        if (!target.toString().startsWith("/dev/pts/")) continue;
        io.kvx.node.Exec.run(List.of("stty", "-F", target.toString(), "cols", String.valueOf(width), "rows",
            String.valueOf(height)));
      } catch (IOException e) {
        // the command already ended
      }
    }
  }
}
