package io.kvx.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the node's eviction signals from the kernel, as the kubelet (through cAdvisor) does:
 * memory from the memory cgroup this JVM runs in (its limit, if lower than MemTotal, is the capacity;
 * available is capacity minus the working set, usage minus inactive file pages), file systems with
 * statfs (bytes and inodes of the file systems holding pods and images), pids from kernel.pid_max and
 * the number of tasks (/proc/loadavg). CPUs as the JVM sees them (cgroup-aware). Blocking.
 */
final class NodeMeasurements {

  record Machine(int cpus, NodePressure.Signals signals) {}

  private static final Path MEMORY = Path.of("/sys/fs/cgroup/memory");
  private static final long UNLIMITED = 1L << 60;

  private NodeMeasurements() {
  }

  static Machine measure(Path nodefs, Path imagefs) throws IOException {
    long memTotal = 0;
    long memAvailable = 0;
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
      if (line.startsWith("MemTotal:")) memTotal = kib(line);
      if (line.startsWith("MemAvailable:")) memAvailable = kib(line);
    }
    long capacity = memTotal;
    long available = memAvailable;
    Path cg = ownMemoryCgroup();
    if (cg != null) {
      Long limit = NodeStats.readLong(cg.resolve("memory.limit_in_bytes"));
      Long usage = NodeStats.readLong(cg.resolve("memory.usage_in_bytes"));
      if (limit != null && limit < UNLIMITED && limit < capacity) capacity = limit;
      if (usage != null && usage > 0) {
        long workingSet = Math.max(0, usage - NodeStats.statValue(cg.resolve("memory.stat"), "total_inactive_file"));
        available = Math.min(memAvailable, capacity - workingSet);
      }
    }
    long[] node = statfs(nodefs);
    long[] image = statfs(imagefs);
    long pidMax = NodeStats.readLong(Path.of("/proc/sys/kernel/pid_max")) == null ? 32768
        : NodeStats.readLong(Path.of("/proc/sys/kernel/pid_max"));
    String[] load = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
    long tasks = load.length > 3 && load[3].contains("/") ? Long.parseLong(load[3].substring(load[3].indexOf('/') + 1)) : 0;
    return new Machine(Runtime.getRuntime().availableProcessors(), new NodePressure.Signals(capacity,
        Math.max(0, available), node[0], node[1], node[2], node[3], image[0], image[1], image[2], image[3], pidMax,
        tasks));
  }

  /** The memory cgroup (v1) of this process, or the root; null without a memory controller. */
  private static Path ownMemoryCgroup() throws IOException {
    if (!Files.isDirectory(MEMORY)) return null;
    for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
      String[] f = line.split(":", 3);
      if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
        Path p = MEMORY.resolve(f[2].startsWith("/") ? f[2].substring(1) : f[2]);
        return Files.isDirectory(p) ? p : MEMORY;
      }
    }
    return MEMORY;
  }

  /** Bytes total, bytes available to non-root, inodes total, inodes free of the file system holding a path. */
  private static long[] statfs(Path path) throws IOException {
    Path p = path;
    while (p != null && !Files.exists(p)) p = p.getParent();
    if (p == null) return new long[4];
    String out = io.kvx.node.Exec.run(List.of("stat", "-f", "-c", "%S %b %a %c %d", p.toString())).trim();
    String[] f = out.split("\\s+");
    long block = Long.parseLong(f[0]);
    return new long[] {block * Long.parseLong(f[1]), block * Long.parseLong(f[2]), Long.parseLong(f[3]),
        Long.parseLong(f[4])};
  }

  private static long kib(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
  }
}
