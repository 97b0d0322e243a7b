package io.kvx.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A netlink socket through java.lang.foreign: {@code socket(AF_NETLINK, SOCK_RAW, protocol)},
 * {@code bind} to a kernel-assigned port id, {@code sendto} the kernel, {@code recv} with a receive
 * timeout. Blocking; one thread at a time.
 */
public final class NetlinkSocket implements AutoCloseable {

  public static final int NETLINK_GENERIC = 16;
  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVTIMEO = 20;
  private static final int SOCKADDR_NL_SIZE = 12;

  private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
  private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
  private static final ValueLayout P = ValueLayout.ADDRESS;

  private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(I, I, I, I));
  private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(I, I, P, I));
  private static final MethodHandle SENDTO = handle("sendto", FunctionDescriptor.of(L, I, P, L, I, P, I));
  private static final MethodHandle RECV = handle("recv", FunctionDescriptor.of(L, I, P, L, I));
  private static final MethodHandle SETSOCKOPT = handle("setsockopt", FunctionDescriptor.of(I, I, I, I, P, I));
  private static final MethodHandle CLOSE = Linker.nativeLinker().downcallHandle(
      Linker.nativeLinker().defaultLookup().findOrThrow("close"), FunctionDescriptor.of(I, I));

  private final Arena arena = Arena.ofShared();
  private final MemorySegment state = arena.allocate(Libc.CALL_STATE);
  private final int fd;

  private static MethodHandle handle(String name, FunctionDescriptor d) {
    return Libc.handle(name, d);
  }

  public NetlinkSocket(int protocol, int receiveTimeoutMillis) throws IOException {
    try {
      fd = (int) SOCKET.invokeExact(state, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
      if (fd < 0) throw new IOException("socket(AF_NETLINK): errno " + errno());
      MemorySegment tv = arena.allocate(16);
      tv.set(L, 0, receiveTimeoutMillis / 1000);
      tv.set(L, 8, (receiveTimeoutMillis % 1000) * 1000L);
      int rc = (int) SETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
      if (rc < 0) throw new IOException("setsockopt(SO_RCVTIMEO): errno " + errno());
      rc = (int) BIND.invokeExact(state, fd, sockaddr(arena), SOCKADDR_NL_SIZE);
      if (rc < 0) throw new IOException("bind(AF_NETLINK): errno " + errno());
    } catch (IOException e) {
      arena.close();
      throw e;
    } catch (Throwable e) {
      arena.close();
      throw new IOException("netlink socket: " + e, e);
    }
  }

  /** {@code struct sockaddr_nl} for the kernel (pid 0, no groups); bind lets the kernel pick our id. */
  private static MemorySegment sockaddr(Arena a) {
    MemorySegment s = a.allocate(SOCKADDR_NL_SIZE);
    s.set(ValueLayout.JAVA_SHORT, 0, (short) AF_NETLINK);
    return s;
  }

  public void send(byte[] message) throws IOException {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment buf = call.allocate(message.length);
      MemorySegment.copy(message, 0, buf, ValueLayout.JAVA_BYTE, 0, message.length);
      long n = (long) SENDTO.invokeExact(state, fd, buf, (long) message.length, 0, sockaddr(call), SOCKADDR_NL_SIZE);
      if (n < 0) throw new IOException("sendto(netlink): errno " + errno());
    } catch (IOException e) {
      throw e;
    } catch (Throwable e) {
      throw new IOException("netlink send: " + e, e);
    }
  }

  /** Receives one datagram into {@code into}; returns its length. Times out with an IOException. */
  public int receive(byte[] into) throws IOException {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment buf = call.allocate(into.length);
      long n = (long) RECV.invokeExact(state, fd, buf, (long) into.length, 0);
      if (n < 0) throw new IOException("recv(netlink): errno " + errno());
      MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, into, 0, (int) n);
      return (int) n;
    } catch (IOException e) {
      throw e;
    } catch (Throwable e) {
      throw new IOException("netlink receive: " + e, e);
    }
  }

  private int errno() {
    return Libc.errno(state);
  }

  @Override
  public void close() {
    try {
      int ignored = (int) CLOSE.invokeExact(fd);
    } catch (Throwable ignored) {
      // closing is best effort
    }
    arena.close();
  }
}
