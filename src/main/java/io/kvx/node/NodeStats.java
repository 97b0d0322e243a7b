package io.kvx.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU and memory usage as metrics-server reports it: CPU as a rate (nanocores) between two samples of
 * the cumulative counters, memory as the working set (usage minus inactive file cache). Containers
 * are read from their cgroups (v1: cpuacct and memory under the kvx parent), the node from /proc.
 * Blocking.
 */
final class NodeStats {

  /** A usage figure: CPU in nanocores, memory in bytes. */
  record Usage(long nanoCores, long memoryBytes) {
  }

  private record Sample(long atNanos, long cpuNanos) {
  }

  private static final Path CPUACCT = Path.of("/sys/fs/cgroup/cpuacct");
  private static final Path MEMORY = Path.of("/sys/fs/cgroup/memory");
  private final Map<String, Sample> last = new HashMap<>();
  private final String cgroupParent;

  NodeStats(String cgroupParent) {
    this.cgroupParent = cgroupParent.startsWith("/") ? cgroupParent.substring(1) : cgroupParent;
  }

  /** A container's usage; null when its cgroup cannot be read (process runtime, already gone). */
  synchronized Usage container(String id) {
    Long cpu = readLong(CPUACCT.resolve(cgroupParent).resolve(id).resolve("cpuacct.usage"));
    if (cpu == null) return null;
    Path mem = MEMORY.resolve(cgroupParent).resolve(id);
    Long usage = readLong(mem.resolve("memory.usage_in_bytes"));
    long inactiveFile = statValue(mem.resolve("memory.stat"), "total_inactive_file");
    long workingSet = usage == null ? 0 : Math.max(0, usage - inactiveFile);
    return new Usage(rate(id, cpu), workingSet);
  }

  /** The whole machine: busy CPU time from /proc/stat, MemTotal - MemAvailable from /proc/meminfo. */
  synchronized Usage node() throws IOException {
    String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    long busyTicks = 0;
    for (int i = 1; i < cpu.length; i++) {
      if (i == 4 || i == 5) continue; // idle and iowait
      busyTicks += Long.parseLong(cpu[i]);
    }
    long busyNanos = busyTicks * 10_000_000L; // USER_HZ is 100 on Linux
    long total = 0;
    long available = 0;
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
      if (line.startsWith("MemTotal:")) total = kib(line);
      if (line.startsWith("MemAvailable:")) available = kib(line);
    }
    return new Usage(rate("\0node", busyNanos), (total - available) * 1024);
  }

  /** Whether a fresh rate needs a second sample: no sample, or one too old to stand for "now". */
  synchronized boolean needsWarmup(String id) {
    Sample s = last.get(id);
    return s == null || System.nanoTime() - s.atNanos > 60_000_000_000L;
  }

  private long rate(String key, long cpuNanos) {
    long now = System.nanoTime();
    Sample prev = last.put(key, new Sample(now, cpuNanos));
    if (prev == null || now <= prev.atNanos) return 0;
    return Math.max(0, (cpuNanos - prev.cpuNanos) * 1_000_000_000L / (now - prev.atNanos));
  }

  private static long kib(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }

  static Long readLong(Path file) {
    try {
      return Long.parseLong(Files.readString(file).trim());
    } catch (IOException | NumberFormatException e) {
      return null;
    }
  }

  static long statValue(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key + " ")) return Long.parseLong(line.substring(key.length() + 1).trim());
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }
}
