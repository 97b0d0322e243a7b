package io.kvx.node.runtime;

import io.kvx.node.Exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Containers through an OCI runtime binary (runc) on bundles the agent writes: config.json plus an
 * overlayfs rootfs (the image read-only below, a per-container upper layer). runc runs in the
 * foreground under the {@link Shim}, so its exit code is the container's.
 */
public final class OciRuntime implements ContainerRuntime {

  private final String binary;
  private final Path stateRoot;
  private final String version;

  public OciRuntime(String binary, Path stateRoot) throws IOException {
    this.binary = binary;
    this.stateRoot = stateRoot;
    String out = Exec.run(List.of(binary, "--version"));
    String v = out.lines().findFirst().orElse(binary).replaceAll(".*version\\s+", "").trim();
    this.version = binary.substring(binary.lastIndexOf('/') + 1) + "://" + v;
  }

  /** runc if this machine can run it (root and the binary), else null. */
  public static OciRuntime detect(Path stateRoot) {
    if (!"root".equals(System.getProperty("user.name")) || !Exec.onPath("runc")) return null;
    try {
      return new OciRuntime("runc", stateRoot);
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public String version() {
    return version;
  }

  @Override
  public boolean isolated() {
    return true;
  }

  private List<String> runc(String... args) {
    List<String> cmd = new ArrayList<>(List.of(binary, "--root", stateRoot.toString()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  @Override
  public void start(ContainerSpec spec) throws IOException {
    Path bundle = spec.bundleDir();
    Path rootfs = bundle.resolve("rootfs");
    Path upper = bundle.resolve("upper");
    Path work = bundle.resolve("work");
    Files.createDirectories(rootfs);
    Files.createDirectories(upper);
    Files.createDirectories(work);
    Files.createDirectories(stateRoot);
    if (!isMounted(rootfs)) {
      Exec.run(List.of("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + spec.imageRootfs() + ",upperdir="
          + upper + ",workdir=" + work, rootfs.toString()));
    }
    Files.writeString(bundle.resolve("config.json"), OciSpec.render(spec).encodePrettily());
    Shim.launch(runc("run", "--bundle", bundle.toString(), spec.id()), bundle, spec.logFile(), spec.stdin(), spec.stdinOnce());
  }

  @Override
  public ContainerStatus status(ContainerSpec spec) throws IOException {
    Integer code = Shim.exitCode(spec.bundleDir());
    if (code != null) return new ContainerStatus(ContainerStatus.State.EXITED, code);
    try {
      String state = Exec.run(runc("state", spec.id()));
      return state.contains("\"status\": \"running\"") || state.contains("\"status\": \"created\"")
          ? ContainerStatus.RUNNING : ContainerStatus.UNKNOWN;
    } catch (IOException e) {
      // Not created yet (the shim is still starting runc) or already gone.
      return Files.exists(spec.bundleDir().resolve(Shim.PID_FILE)) ? ContainerStatus.RUNNING : ContainerStatus.UNKNOWN;
    }
  }

  @Override
  public void signal(ContainerSpec spec, String signal) throws IOException {
    try {
      Exec.run(runc("kill", spec.id(), signal));
    } catch (IOException e) {
      // not running any more
    }
  }

  @Override
  public void remove(ContainerSpec spec) throws IOException {
    try {
      Exec.run(runc("delete", "--force", spec.id()));
    } catch (IOException e) {
      // already deleted
    }
    Path rootfs = spec.bundleDir().resolve("rootfs");
    if (isMounted(rootfs)) Exec.run(List.of("umount", "-l", rootfs.toString()));
  }

  /**
   * {@code runc exec} in the container. runc's own terminal mode wants a terminal on its stdio (or a
   * console socket), so with a tty it runs under {@link ContainerRuntime#underTerminal}.
   */
  @Override
  public Process exec(ContainerSpec spec, List<String> command, boolean tty) throws IOException {
    List<String> argv = new ArrayList<>(runc("exec"));
    if (tty) argv.addAll(List.of("--tty", "--env", "TERM=xterm"));
    argv.add(spec.id());
    argv.addAll(command);
    return tty ? ContainerRuntime.underTerminal(argv, null) : new ProcessBuilder(argv).start();
  }

  private static boolean isMounted(Path dir) throws IOException {
    String target = " " + dir.toAbsolutePath() + " ";
    return Files.readString(Path.of("/proc/self/mounts")).contains(target);
  }
}
