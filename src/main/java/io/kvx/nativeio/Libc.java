package io.kvx.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc calls the node agent makes for itself instead of a helper process per call
 * ({@code mkfifo}, {@code mount}, {@code ip netns add}): mkfifo, mount, umount2, unshare, setns, open,
 * close, socket and ioctl, through java.lang.foreign. Each failure is an IOException naming the call
 * and errno's text. Blocking.
 */
public final class Libc {

  public static final int O_RDONLY = 0;
  public static final int O_CLOEXEC = 0x80000;
  public static final int O_CREAT = 0x40;
  public static final int O_EXCL = 0x80;
  public static final int CLONE_NEWNET = 0x40000000;
  public static final long MS_BIND = 0x1000;
  public static final long MS_REC = 0x4000;
  public static final long MS_SHARED = 1 << 20;
  public static final int MNT_DETACH = 2;
  public static final int EINVAL = 22;
  public static final int EEXIST = 17;
  public static final int AF_INET = 2;
  public static final int SOCK_DGRAM = 2;
  public static final long SIOCGIFFLAGS = 0x8913;
  public static final long SIOCSIFFLAGS = 0x8914;
  public static final short IFF_UP = 0x1;
  /** {@code struct ifreq}: the interface name (16 bytes), then a union whose first member is the flags. */
  public static final int IFREQ_SIZE = 40;
  public static final int IFREQ_FLAGS_OFFSET = 16;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  /** Where a downcall leaves errno (allocate one per call or per thread). */
  static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option ERRNO_OPT = Linker.Option.captureCallState("errno");
  private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
  private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
  private static final ValueLayout P = ValueLayout.ADDRESS;

  private static final MethodHandle MKFIFO = handle("mkfifo", FunctionDescriptor.of(I, P, I));
  private static final MethodHandle MOUNT = handle("mount", FunctionDescriptor.of(I, P, P, P, L, P));
  private static final MethodHandle UMOUNT2 = handle("umount2", FunctionDescriptor.of(I, P, I));
  private static final MethodHandle UNSHARE = handle("unshare", FunctionDescriptor.of(I, I));
  private static final MethodHandle SETNS = handle("setns", FunctionDescriptor.of(I, I, I));
  private static final MethodHandle OPEN = LINKER.downcallHandle(LIBC.findOrThrow("open"),
      FunctionDescriptor.of(I, P, I, I), ERRNO_OPT, Linker.Option.firstVariadicArg(2));
  private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(I, I));
  private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(I, I, I, I));
  private static final MethodHandle IOCTL = LINKER.downcallHandle(LIBC.findOrThrow("ioctl"),
      FunctionDescriptor.of(I, I, L, P), ERRNO_OPT, Linker.Option.firstVariadicArg(2));
  private static final MethodHandle STRERROR = LINKER.downcallHandle(LIBC.findOrThrow("strerror"),
      FunctionDescriptor.of(P, I));

  private Libc() {
  }

  /** A downcall to libc's {@code name} that captures errno into a {@link #CALL_STATE} segment. */
  static MethodHandle handle(String name, FunctionDescriptor d) {
    return LINKER.downcallHandle(LIBC.findOrThrow(name), d, ERRNO_OPT);
  }

  /** The errno a downcall captured in {@code state}. */
  static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  /** A failed call: its errno, for callers that treat one (EEXIST, EINVAL) as an answer. */
  public static final class ErrnoException extends IOException {
    private final int errno;

    ErrnoException(String call, int errno) {
      super(call + ": " + describe(errno));
      this.errno = errno;
    }

    public int errno() {
      return errno;
    }
  }

  static String describe(int errno) {
    try {
      MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
      return s.reinterpret(256).getString(0) + " (errno " + errno + ")";
    } catch (Throwable e) {
      return "errno " + errno;
    }
  }

  /** One downcall: {@code c} gets an arena and the errno state; a negative result throws with its errno. */
  private static int call(String what, Downcall c) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment st = a.allocate(CALL_STATE);
      int rc = c.invoke(a, st);
      if (rc < 0) throw new ErrnoException(what, errno(st));
      return rc;
    } catch (IOException e) {
      throw e;
    } catch (Throwable e) {
      throw new IOException(what + ": " + e, e);
    }
  }

  @FunctionalInterface
  private interface Downcall {
    int invoke(Arena a, MemorySegment state) throws Throwable;
  }

  public static void mkfifo(String path, int mode) throws IOException {
    call("mkfifo " + path, (a, st) -> (int) MKFIFO.invokeExact(st, a.allocateFrom(path), mode));
  }

  /** mount(2); null strings are passed as NULL. */
  public static void mount(String source, String target, String fsType, long flags, String data) throws IOException {
    call("mount " + target, (a, st) -> (int) MOUNT.invokeExact(st, str(a, source), a.allocateFrom(target),
        str(a, fsType), flags, str(a, data)));
  }

  public static void umount2(String target, int flags) throws IOException {
    call("umount " + target, (a, st) -> (int) UMOUNT2.invokeExact(st, a.allocateFrom(target), flags));
  }

  /** unshare(2) for the calling thread (CLONE_NEWNET is per thread). */
  public static void unshare(int flags) throws IOException {
    call("unshare", (a, st) -> (int) UNSHARE.invokeExact(st, flags));
  }

  /** setns(2) for the calling thread. */
  public static void setns(int fd, int nsType) throws IOException {
    call("setns", (a, st) -> (int) SETNS.invokeExact(st, fd, nsType));
  }

  public static int open(String path, int flags, int mode) throws IOException {
    return call("open " + path, (a, st) -> (int) OPEN.invokeExact(st, a.allocateFrom(path), flags, mode));
  }

  public static void close(int fd) {
    try (Arena a = Arena.ofConfined()) {
      int ignored = (int) CLOSE.invokeExact(a.allocate(CALL_STATE), fd);
    } catch (Throwable ignored) {
      // closing is best effort
    }
  }

  public static int socket(int domain, int type, int protocol) throws IOException {
    return call("socket", (a, st) -> (int) SOCKET.invokeExact(st, domain, type | O_CLOEXEC, protocol));
  }

  /** ioctl(2) with a pointer argument. */
  public static void ioctl(int fd, long request, MemorySegment arg) throws IOException {
    call("ioctl", (a, st) -> (int) IOCTL.invokeExact(st, fd, request, arg));
  }

  private static MemorySegment str(Arena a, String s) {
    return s == null ? MemorySegment.NULL : a.allocateFrom(s);
  }
}
