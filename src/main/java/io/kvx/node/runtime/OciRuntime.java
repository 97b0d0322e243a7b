package io.kvx.node.runtime;

import io.kvx.nativeio.Libc;
import io.kvx.node.Exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Containers through an OCI runtime binary (runc or crun) on bundles the agent writes: config.json plus
 * an overlayfs rootfs (the image read-only below, a per-container upper layer). The runtime runs in the
 * foreground under the {@link Shim}, so its exit code is the container's.
 *
 * <p>crun 1.8 refuses a hybrid cgroup layout (cgroup v1 controllers plus a cgroup2 mount at
 * /sys/fs/cgroup/unified, as on this kind of machine: "cgroups in hybrid mode not supported"). As DESIGN
 * §4 says, each crun call then runs in a private mount namespace (slave propagation, so the host's
 * unmounts still reach it) where /sys/fs/cgroup/unified is unmounted; crun then sees plain cgroup v1.
 */
public final class OciRuntime implements ContainerRuntime {

  /** How long an exit by SIGKILL waits for the kernel log reader to catch up with an OOM kill record. */
  private static final long OOM_LOG_WAIT_MS = 300;
  private static final Path UNIFIED = Path.of("/sys/fs/cgroup/unified");

  private final String binary;
  private final Path stateRoot;
  private final String version;
  /** Whether each call runs in a private mount namespace without /sys/fs/cgroup/unified (crun on hybrid cgroups). */
  private final boolean hideUnified;

  public OciRuntime(String binary, Path stateRoot) throws IOException {
    this.binary = binary;
    this.stateRoot = stateRoot;
    String name = binary.substring(binary.lastIndexOf('/') + 1);
    this.hideUnified = name.equals("crun") && hybridCgroups();
    String out = Exec.run(List.of(binary, "--version"));
    String v = out.lines().findFirst().orElse(binary).replaceAll(".*version\\s+", "").trim();
    this.version = name + "://" + v;
    OomWatcher.get();
  }

  /**
   * The OCI runtime this machine can run (root and the binary on the PATH), else null: {@code wanted}
   * (runc or crun) or, when null, runc and then crun.
   */
  public static OciRuntime detect(Path stateRoot, String wanted) {
    if (!"root".equals(System.getProperty("user.name"))) return null;
    List<String> order = wanted == null || wanted.isEmpty() ? List.of("runc", "crun") : List.of(wanted);
    for (String b : order) {
      if (!Exec.onPath(b)) continue;
      try {
        return new OciRuntime(b, stateRoot);
      } catch (IOException e) {
        // try the next one
      }
    }
    return null;
  }

  /** cgroup v1 controllers with a cgroup2 file system mounted beside them at /sys/fs/cgroup/unified. */
  static boolean hybridCgroups() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
        String[] f = line.split(" ");
        if (f.length > 2 && f[1].equals(UNIFIED.toString()) && f[2].equals("cgroup2")) return true;
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  /** Whether calls run with crun's hybrid-cgroup workaround (for the node's log and status). */
  public boolean hidesUnifiedCgroup() {
    return hideUnified;
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
    List<String> cmd = new ArrayList<>();
    if (hideUnified) {
      cmd.addAll(List.of("unshare", "-m", "--propagation", "slave", "sh", "-c",
          "umount " + UNIFIED + " 2>/dev/null; exec \"$0\" \"$@\""));
    }
    cmd.addAll(List.of(binary, "--root", stateRoot.toString()));
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
      // mount(2) itself rather than mount(8): one process less per container start.
      Libc.mount("overlay", rootfs.toString(), "overlay", 0, "lowerdir=" + spec.imageRootfs() + ",upperdir="
          + upper + ",workdir=" + work);
    }
    Files.writeString(bundle.resolve("config.json"), OciSpec.render(spec).encodePrettily());
    List<String> run = runc("run", "--bundle", bundle.toString(), spec.id());
    // runc in the foreground with a terminal relays between the container's terminal and its own, which
    // must be one: util-linux script gives it a pseudo-terminal on the shim's pipes.
    if (spec.tty()) run = Shim.underScript(run);
    Shim.launch(run, bundle, spec.logFile(), spec.stdin(), spec.stdinOnce(), spec.networkGate());
  }

  @Override
  public ContainerStatus status(ContainerSpec spec) throws IOException {
    Integer code = Shim.exitCode(spec.bundleDir());
    if (code != null) {
      // Killed by a signal 9 (runc reports 128+9): was it the kernel's OOM killer in the container's cgroup?
      boolean oom = code == 137 && OomWatcher.get().oomKilled(OciSpec.cgroupsPath(spec), OOM_LOG_WAIT_MS);
      return new ContainerStatus(ContainerStatus.State.EXITED, code, oom);
    }
    // The runtime runs in the foreground for the container's whole life: while its process lives, the
    // container runs. A file read instead of a `runc state` process per container per relist.
    Path pidFile = spec.bundleDir().resolve(Shim.PID_FILE);
    if (Files.exists(pidFile)) {
      try {
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) return ContainerStatus.RUNNING;
      } catch (NumberFormatException e) {
        // being written
      }
    }
    try {
      String state = Exec.run(runc("state", spec.id()));
      String status = new io.vertx.core.json.JsonObject(state).getString("status", "");
      return status.equals("running") || status.equals("created") ? ContainerStatus.RUNNING : ContainerStatus.UNKNOWN;
    } catch (IOException e) {
      // Not created yet (the shim is still starting runc) or already gone.
      return Files.exists(spec.bundleDir().resolve(Shim.PID_FILE)) ? ContainerStatus.RUNNING : ContainerStatus.UNKNOWN;
    }
  }

  @Override
  public boolean awaitStarted(ContainerSpec spec, long timeoutMs) throws IOException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (Shim.exitCode(spec.bundleDir()) != null) return false;
      Boolean started = runcStarted(spec);
      if (Boolean.TRUE.equals(started)) return true;
      if (started == null) {
        try {
          String status = new io.vertx.core.json.JsonObject(Exec.run(runc("state", spec.id()))).getString("status", "");
          if (status.equals("running")) return true;
        } catch (IOException | RuntimeException e) {
          // not created yet
        }
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  /**
   * Without a process per poll: runc's state file names the container's init process, which runs
   * {@code runc init} until it is started and then the container's command. Null when this is not
   * runc's layout (crun), so the caller asks the runtime.
   */
  private Boolean runcStarted(ContainerSpec spec) {
    if (!version.startsWith("runc")) return null;
    Path state = stateRoot.resolve(spec.id()).resolve("state.json");
    try {
      if (!Files.exists(state)) return false;
      long pid = new io.vertx.core.json.JsonObject(Files.readString(state)).getLong("init_process_pid", 0L);
      if (pid <= 0) return false;
      byte[] cmdline = Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline"));
      String argv0 = new String(cmdline, java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ');
      return !argv0.startsWith("runc init");
    } catch (IOException | RuntimeException e) {
      return false; // written or gone meanwhile: look again
    }
  }

  @Override
  public long initPid(ContainerSpec spec) throws IOException {
    try {
      return new io.vertx.core.json.JsonObject(Exec.run(runc("state", spec.id()))).getLong("pid", 0L);
    } catch (IOException | RuntimeException e) {
      return 0;
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
    if (isMounted(rootfs)) Libc.umount2(rootfs.toString(), Libc.MNT_DETACH);
  }

  /**
   * {@code runc exec} in the container. runc's own terminal mode wants a terminal on its stdio (or a
   * console socket), so with a tty it runs under {@link ContainerRuntime#underTerminal}.
   */
  @Override
  public Process exec(ContainerSpec spec, List<String> command, boolean tty) throws IOException {
    List<String> argv = runc("exec");
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
