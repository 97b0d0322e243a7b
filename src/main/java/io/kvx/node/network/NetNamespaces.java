package io.kvx.node.network;

import io.kvx.nativeio.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Named network namespaces as {@code ip netns add/del} keep them (a bind mount of the namespace on a
 * file in /var/run/netns, which is a shared mount), made with system calls instead of a process per
 * pod. A namespace is made on a short-lived platform thread of its own: {@code unshare(CLONE_NEWNET)}
 * moves only that thread, which then brings the namespace's loopback up (what the CNI loopback plugin
 * does: {@code lo} up, its addresses come with it) and returns to the agent's namespace before it ends.
 * Blocking.
 */
public final class NetNamespaces {

  private NetNamespaces() {
  }

  /** Makes the namespace at {@code file} with its loopback up; fails if the file exists. */
  static void create(Path file) throws IOException {
    Path dir = file.getParent();
    Files.createDirectories(dir);
    makeShared(dir.toString());
    Libc.close(Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0));
    try {
      onThreadOfItsOwn(() -> enterNewAndBind(file.toString()));
    } catch (IOException e) {
      try {
        Libc.umount2(file.toString(), Libc.MNT_DETACH);
      } catch (IOException ignored) {
        // not mounted
      }
      Files.deleteIfExists(file);
      throw e;
    }
  }

  /** Brings the loopback of an existing namespace up (one an earlier agent made with {@code ip netns add}). */
  static void loopbackUp(Path file) throws IOException {
    onThreadOfItsOwn(() -> {
      int home = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
      int target = -1;
      try {
        target = Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        Libc.setns(target, Libc.CLONE_NEWNET);
        try {
          loopbackUp();
        } finally {
          Libc.setns(home, Libc.CLONE_NEWNET);
        }
      } finally {
        if (target >= 0) Libc.close(target);
        Libc.close(home);
      }
    });
  }

  /**
   * A TCP connection to {@code port} on the loopback of a pod's network namespace, as the kubelet's port-forward
   * dials it (a port a container serves on 127.0.0.1 only is reached too). The socket is made in that namespace on a
   * thread of its own and stays there; it is then used from any thread.
   */
  public static java.net.Socket connectLoopback(Path netns, int port, int timeoutMs) throws IOException {
    java.net.Socket[] socket = {null};
    onThreadOfItsOwn(() -> {
      int target = Libc.open(netns.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
      try {
        Libc.setns(target, Libc.CLONE_NEWNET);
      } finally {
        Libc.close(target);
      }
      java.net.Socket s = new java.net.Socket();
      try {
        s.connect(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), timeoutMs);
      } catch (IOException e) {
        s.close();
        throw e;
      }
      socket[0] = s;
    });
    return socket[0];
  }

  private interface NamespaceWork {
    void run() throws IOException;
  }

  /**
   * Runs work that moves its thread to another network namespace on a new platform thread, which ends
   * with it: no pooled thread is ever left in a pod's namespace.
   */
  private static void onThreadOfItsOwn(NamespaceWork work) throws IOException {
    IOException[] failure = {null};
    Thread t = Thread.ofPlatform().name("kvx-netns").start(() -> {
      try {
        work.run();
      } catch (IOException e) {
        failure[0] = e;
      }
    });
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (failure[0] != null) throw failure[0];
  }

  /** Unmounts and removes a namespace made by {@link #create} (or {@code ip netns add}); quiet if it is gone. */
  static void delete(Path file) throws IOException {
    try {
      Libc.umount2(file.toString(), Libc.MNT_DETACH);
    } catch (Libc.ErrnoException e) {
      if (e.errno() != Libc.EINVAL && Files.exists(file)) throw e; // EINVAL: not a mount point
    }
    Files.deleteIfExists(file);
  }

  /** As ip does: /var/run/netns is a shared mount (bound onto itself first if it is no mount point). */
  private static void makeShared(String dir) throws IOException {
    try {
      Libc.mount("", dir, "none", Libc.MS_SHARED | Libc.MS_REC, null);
    } catch (Libc.ErrnoException e) {
      if (e.errno() != Libc.EINVAL) throw e;
      Libc.mount(dir, dir, "none", Libc.MS_BIND | Libc.MS_REC, null);
      Libc.mount("", dir, "none", Libc.MS_SHARED | Libc.MS_REC, null);
    }
  }

  /** On a thread of its own: a new namespace for this thread, bound to {@code file}, loopback up, and back. */
  private static void enterNewAndBind(String file) throws IOException {
    int home = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
    try {
      Libc.unshare(Libc.CLONE_NEWNET);
      try {
        Libc.mount("/proc/thread-self/ns/net", file, "none", Libc.MS_BIND, null);
        loopbackUp();
      } finally {
        Libc.setns(home, Libc.CLONE_NEWNET);
      }
    } finally {
      Libc.close(home);
    }
  }

  /** {@code ip link set lo up} in the calling thread's namespace. */
  private static void loopbackUp() throws IOException {
    int fd = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM, 0);
    try (Arena a = Arena.ofConfined()) {
      MemorySegment ifr = a.allocate(Libc.IFREQ_SIZE);
      ifr.setString(0, "lo");
      Libc.ioctl(fd, Libc.SIOCGIFFLAGS, ifr);
      short flags = ifr.get(ValueLayout.JAVA_SHORT, Libc.IFREQ_FLAGS_OFFSET);
      ifr.set(ValueLayout.JAVA_SHORT, Libc.IFREQ_FLAGS_OFFSET, (short) (flags | Libc.IFF_UP));
      Libc.ioctl(fd, Libc.SIOCSIFFLAGS, ifr);
    } finally {
      Libc.close(fd);
    }
  }
}
