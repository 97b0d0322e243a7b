package io.kvx.node.runtime;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Renders an OCI runtime spec (config.json, spec 1.0.2) for a container. Pure. */
public final class OciSpec {

  /** Docker's default capability set, which Kubernetes containers get unless securityContext says otherwise. */
  static final List<String> DEFAULT_CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID",
      "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");
  private static final long CPU_PERIOD_US = 100_000;

  private OciSpec() {
  }

  public static JsonObject render(ContainerSpec c) {
    JsonArray caps = new JsonArray(DEFAULT_CAPABILITIES);
    JsonObject process = new JsonObject().put("terminal", false)
        .put("user", new JsonObject().put("uid", 0).put("gid", 0))
        .put("args", new JsonArray(c.args())).put("env", new JsonArray(c.env()))
        .put("cwd", c.workingDir() == null || c.workingDir().isEmpty() ? "/" : c.workingDir())
        .put("capabilities", new JsonObject().put("bounding", caps).put("effective", caps.copy())
            .put("permitted", caps.copy()))
        .put("noNewPrivileges", false);
    JsonArray mounts = new JsonArray()
        .add(mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"))
        .add(mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"))
        .add(mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"))
        .add(mount("/dev/shm", "shm", "tmpfs", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"))
        .add(mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"))
        .add(mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"));
    for (ContainerSpec.Mount m : c.mounts()) {
      JsonArray opts = new JsonArray().add("rbind").add(m.readOnly() ? "ro" : "rw");
      mounts.add(new JsonObject().put("destination", m.destination()).put("type", "bind")
          .put("source", m.source().toString()).put("options", opts));
    }
    JsonArray namespaces = new JsonArray().add(ns("pid")).add(ns("ipc")).add(ns("uts")).add(ns("mount"));
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
        .put("cgroupsPath", c.cgroupParent() + "/" + c.id())
        .put("resources", resources)
        .put("maskedPaths", new JsonArray().add("/proc/acpi").add("/proc/kcore").add("/proc/keys")
            .add("/proc/latency_stats").add("/proc/timer_list").add("/proc/timer_stats").add("/proc/sched_debug")
            .add("/sys/firmware").add("/proc/scsi"))
        .put("readonlyPaths", new JsonArray().add("/proc/asound").add("/proc/bus").add("/proc/fs").add("/proc/irq")
            .add("/proc/sys").add("/proc/sysrq-trigger"));
    return new JsonObject().put("ociVersion", "1.0.2").put("process", process)
        .put("root", new JsonObject().put("path", "rootfs").put("readonly", false))
        .put("hostname", c.hostname()).put("mounts", mounts).put("linux", linux);
  }

  private static JsonObject mount(String dest, String source, String type, String... options) {
    return new JsonObject().put("destination", dest).put("type", type).put("source", source)
        .put("options", new JsonArray(List.of(options)));
  }

  private static JsonObject ns(String type) {
    return new JsonObject().put("type", type);
  }
}
