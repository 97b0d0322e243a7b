package io.kvx.node.runtime;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Renders an OCI runtime spec (config.json, spec 1.0.2) for a container. Pure. */
public final class OciSpec {

  /** Docker's default capability set, which Kubernetes containers get unless securityContext says otherwise. */
  public static final List<String> DEFAULT_CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID",
      "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");
  private static final long CPU_PERIOD_US = 100_000;

  private OciSpec() {
  }

  /** Every capability, in kernel order (CAP_CHOWN is 0; CAP_LAST_CAP is CAP_CHECKPOINT_RESTORE, 40, since Linux 5.9). */
  public static final List<String> ALL_CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
      "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
      "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
      "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
      "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
      "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
      "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE");

  /**
   * The capabilities this process may hand on (its bounding set), as containerd gives a privileged
   * container "all current capabilities": asking runc for one outside it fails the start.
   */
  static final java.util.Set<String> AVAILABLE = available();

  private static java.util.Set<String> available() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (!line.startsWith("CapBnd:")) continue;
        long mask = Long.parseUnsignedLong(line.substring(7).trim(), 16);
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (String cap : ALL_CAPABILITIES) {
          if ((mask >>> ALL_CAPABILITIES.indexOf(cap) & 1) == 1) out.add(cap);
        }
        return out;
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: assume all
    }
    return new java.util.LinkedHashSet<>(ALL_CAPABILITIES);
  }

  public static JsonObject render(ContainerSpec c) {
    ContainerSpec.Security sec = c.security() == null ? ContainerSpec.Security.DEFAULT : c.security();
    List<String> wanted = sec.privileged() ? ALL_CAPABILITIES : sec.capabilities();
    JsonArray caps = new JsonArray(wanted.stream().filter(AVAILABLE::contains).toList());
    JsonObject user = new JsonObject().put("uid", sec.uid()).put("gid", sec.gid());
    if (!sec.additionalGids().isEmpty()) user.put("additionalGids", new JsonArray(sec.additionalGids()));
    // A terminal, as containerd gives a tty container: the runtime makes it in the container, with TERM set.
    List<String> env = new java.util.ArrayList<>(c.env());
    if (c.tty() && env.stream().noneMatch(e -> e.startsWith("TERM="))) env.add("TERM=xterm");
    JsonObject process = new JsonObject().put("terminal", c.tty())
        .put("user", user)
        .put("args", new JsonArray(c.args())).put("env", new JsonArray(env))
        .put("cwd", c.workingDir() == null || c.workingDir().isEmpty() ? "/" : c.workingDir())
        .put("capabilities", new JsonObject().put("bounding", caps).put("effective", caps.copy())
            .put("permitted", caps.copy()))
        .put("noNewPrivileges", sec.noNewPrivileges() && !sec.privileged());
    JsonArray mounts = new JsonArray()
        .add(mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"))
        .add(mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"))
        .add(mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"))
        .add(mount("/dev/shm", "shm", "tmpfs", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"))
        .add(mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"))
        .add(sec.privileged() ? mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "rw")
            : mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"));
    for (ContainerSpec.Mount m : c.mounts()) {
      JsonArray opts = new JsonArray().add("rbind").add(m.readOnly() ? "ro" : "rw");
      mounts.add(new JsonObject().put("destination", m.destination()).put("type", "bind")
          .put("source", m.source().toString()).put("options", opts));
    }
    JsonObject pid = ns("pid");
    // An ephemeral container with a target shares the target's processes (kubectl debug --target).
    if (c.pidNamespacePath() != null) pid.put("path", c.pidNamespacePath());
    JsonArray namespaces = new JsonArray().add(pid).add(ns("ipc")).add(ns("uts")).add(ns("mount"));
    JsonObject net = ns("network");
    if (c.netnsPath() != null) net.put("path", c.netnsPath());
    namespaces.add(net);
    JsonObject resources = new JsonObject();
    if (c.memoryLimitBytes() > 0) resources.put("memory", new JsonObject().put("limit", c.memoryLimitBytes()));
    JsonObject cpu = new JsonObject();
    if (c.cpuLimitMillis() > 0) cpu.put("quota", c.cpuLimitMillis() * CPU_PERIOD_US / 1000).put("period", CPU_PERIOD_US);
    // cpu.shares from the request, as the kubelet maps it (1 cpu = 1024 shares, at least 2).
    cpu.put("shares", Math.max(2, c.cpuRequestMillis() * 1024 / 1000));
    resources.put("cpu", cpu);
    resources.put("pids", new JsonObject().put("limit", 4096));
    JsonObject linux = new JsonObject().put("namespaces", namespaces)
        .put("cgroupsPath", cgroupsPath(c))
        .put("resources", resources);
    if (sec.privileged()) {
      // As containerd does for privileged containers: all devices allowed, nothing masked or read-only.
      resources.put("devices", new JsonArray().add(new JsonObject().put("allow", true).put("access", "rwm")));
    } else {
      linux.put("maskedPaths", new JsonArray().add("/proc/acpi").add("/proc/kcore").add("/proc/keys")
              .add("/proc/latency_stats").add("/proc/timer_list").add("/proc/timer_stats").add("/proc/sched_debug")
              .add("/sys/firmware").add("/proc/scsi"))
          .put("readonlyPaths", new JsonArray().add("/proc/asound").add("/proc/bus").add("/proc/fs").add("/proc/irq")
              .add("/proc/sys").add("/proc/sysrq-trigger"));
    }
    JsonObject config = new JsonObject().put("ociVersion", "1.0.2").put("process", process)
        .put("root", new JsonObject().put("path", "rootfs").put("readonly", sec.readOnlyRoot()))
        .put("hostname", c.hostname()).put("mounts", mounts).put("linux", linux);
    if (c.networkGate()) config.put("hooks", new JsonObject().put("createRuntime", new JsonArray().add(gateHook(c))));
    return config;
  }

  /**
   * A createRuntime hook (run by the runtime in the host's namespaces once the container's namespaces,
   * cgroup and mounts exist, before its process is started) that waits for the agent's word on the
   * pod's network in the bundle's {@link StartGate} FIFO: "go" lets the start go on, anything else
   * (or the agent's end: end-of-file) fails it.
   */
  static JsonObject gateHook(ContainerSpec c) {
    String fifo = c.bundleDir().toAbsolutePath().resolve(StartGate.FIFO).toString();
    return new JsonObject().put("path", "/bin/sh")
        .put("args", new JsonArray().add("sh").add("-c").add("read r < \"$1\" && [ \"$r\" = go ]").add("sh").add(fifo))
        .put("timeout", StartGate.TIMEOUT_SECONDS);
  }

  /** The container's cgroup (cgroupfs path under the node's parent). */
  public static String cgroupsPath(ContainerSpec c) {
    return c.cgroupParent() + "/" + c.id();
  }

  private static JsonObject mount(String dest, String source, String type, String... options) {
    return new JsonObject().put("destination", dest).put("type", type).put("source", source)
        .put("options", new JsonArray(List.of(options)));
  }

  private static JsonObject ns(String type) {
    return new JsonObject().put("type", type);
  }
}
