package io.kvx.node.runtime;

import io.kvx.node.Exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Containers as plain host processes, for machines without root: NO isolation (no namespaces, no
 * cgroup limits, the host's file system). The command is looked up in the image's rootfs first.
 */
public final class ProcessRuntime implements ContainerRuntime {

  @Override
  public String version() {
    return "process://0.1 (no isolation)";
  }

  @Override
  public boolean isolated() {
    return false;
  }

  @Override
  public void start(ContainerSpec spec) throws IOException {
    Shim.launch(commandLine(spec, spec.args(), false), spec.bundleDir(), spec.logFile(), spec.stdin(), spec.stdinOnce());
  }

  /** The command in the container's environment and directory (the bundle, where its main process runs). */
  @Override
  public Process exec(ContainerSpec spec, List<String> command, boolean tty) throws IOException {
    List<String> cmd = commandLine(spec, command, tty);
    return tty ? ContainerRuntime.underTerminal(cmd, spec.bundleDir().toFile())
        : new ProcessBuilder(cmd).directory(spec.bundleDir().toFile()).start();
  }

  /** {@code env -i} with the container's environment, the program looked up in the image first. */
  private static List<String> commandLine(ContainerSpec spec, List<String> command, boolean tty) {
    List<String> args = new ArrayList<>(command);
    String exe = args.get(0);
    if (!exe.startsWith("/")) {
      for (String dir : List.of("bin", "sbin", "usr/bin", "usr/sbin")) {
        Path candidate = spec.imageRootfs().resolve(dir).resolve(exe);
        if (Files.isExecutable(candidate)) {
          args.set(0, candidate.toString());
          break;
        }
      }
    } else if (Files.isExecutable(spec.imageRootfs().resolve(exe.substring(1)))) {
      args.set(0, spec.imageRootfs().resolve(exe.substring(1)).toString());
    }
    List<String> cmd = new ArrayList<>(List.of("env", "-i"));
    cmd.addAll(spec.env());
    if (tty) cmd.add("TERM=xterm");
    cmd.addAll(args);
    return cmd;
  }

  @Override
  public ContainerStatus status(ContainerSpec spec) throws IOException {
    Integer code = Shim.exitCode(spec.bundleDir());
    if (code != null) return ContainerStatus.exited(code);
    long pid = Shim.pid(spec.bundleDir());
    return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
        ? ContainerStatus.RUNNING : ContainerStatus.UNKNOWN;
  }

  @Override
  public void signal(ContainerSpec spec, String signal) throws IOException {
    long pid = Shim.pid(spec.bundleDir());
    if (pid > 0 && ProcessHandle.of(pid).isPresent()) {
      try {
        Exec.run(List.of("kill", "-" + signal, String.valueOf(pid)));
      } catch (IOException e) {
        // already gone
      }
    }
  }

  @Override
  public void remove(ContainerSpec spec) {
    // nothing beyond the bundle directory, which the agent removes
  }

}
