package io.kvx.node.runtime;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Which memory cgroups the kernel's OOM killer struck, read from the kernel log (/dev/kmsg) as cAdvisor's
 * OOM parser does for the kubelet: the kernel writes one {@code oom-kill:constraint=CONSTRAINT_MEMCG,...,
 * task_memcg=/kvx/<id>,task=...,pid=...} record per kill. Why not the cgroup's own counter: on cgroup
 * v1, memory.oom_control's oom_kill counts only in the container's own cgroup (not its ancestors), and
 * the OCI runtime removes that cgroup as the container exits, before the agent can read it. /dev/kmsg
 * is read from the start of the kernel's ring buffer, so kills that happened while the agent was down
 * are seen too (while the buffer still holds them). One daemon thread per JVM.
 */
public final class OomWatcher {

  private static final Logger LOG = Logger.getLogger(OomWatcher.class.getName());
  private static final String KMSG = "/dev/kmsg";
  private static OomWatcher instance;

  private final Map<String, Integer> kills = new HashMap<>();
  private volatile boolean reading;

  private OomWatcher() {
  }

  public static synchronized OomWatcher get() {
    if (instance == null) {
      instance = new OomWatcher();
      instance.start();
    }
    return instance;
  }

  private void start() {
    Thread t = new Thread(this::readLoop, "kvx-oom-watcher");
    t.setDaemon(true);
    t.start();
  }

  private void readLoop() {
    byte[] buf = new byte[8192];
    try (InputStream in = new FileInputStream(KMSG)) {
      reading = true;
      while (true) {
        int n;
        try {
          n = in.read(buf);
        } catch (IOException e) {
          continue; // EPIPE: records were overwritten before we read them; go on with the next
        }
        if (n < 0) return;
        String memcg = taskMemcg(new String(buf, 0, n, StandardCharsets.UTF_8));
        if (memcg != null) {
          synchronized (this) {
            kills.merge(memcg, 1, Integer::sum);
            notifyAll();
          }
        }
      }
    } catch (IOException e) {
      LOG.warning("node: cannot read " + KMSG + " (" + e.getMessage() + "): OOM kills are reported as Error");
    } finally {
      reading = false;
    }
  }

  /** The task_memcg of an oom-kill record of the kernel log, or null for any other record. Pure. */
  static String taskMemcg(String record) {
    int semi = record.indexOf(';');
    String msg = semi >= 0 ? record.substring(semi + 1) : record;
    if (!msg.startsWith("oom-kill:")) return null;
    for (String field : msg.trim().split(",")) {
      if (field.startsWith("task_memcg=")) return field.substring("task_memcg=".length());
    }
    return null;
  }

  /**
   * Whether the OOM killer killed a process of this cgroup ({@code /kvx/<id>}); waits up to
   * {@code waitMs} for the reader to reach the record (a kill is logged before the process dies).
   */
  public synchronized boolean oomKilled(String cgroupPath, long waitMs) {
    String key = cgroupPath.startsWith("/") ? cgroupPath : "/" + cgroupPath;
    long deadline = System.currentTimeMillis() + waitMs;
    while (!kills.containsKey(key) && reading) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) break;
      try {
        wait(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return kills.containsKey(key);
  }
}
