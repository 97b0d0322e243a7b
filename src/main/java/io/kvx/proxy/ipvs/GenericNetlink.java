package io.kvx.proxy.ipvs;

import io.kvx.nativeio.NetlinkSocket;

import java.io.IOException;

/**
 * Request/ack over a generic-netlink socket: sends one message and reads until the kernel's answer to
 * it (data or NLMSG_ERROR). A negative error becomes a {@link NetlinkException} with the errno.
 * Blocking.
 */
public final class GenericNetlink implements AutoCloseable {

  /** The kernel refused a request; {@code errno} is positive (2 = ENOENT). */
  public static final class NetlinkException extends IOException {
    private final int errno;

    public NetlinkException(String what, int errno) {
      super(what + ": errno " + errno);
      this.errno = errno;
    }

    public int errno() {
      return errno;
    }
  }

  private final NetlinkSocket socket;
  private final byte[] buffer = new byte[65536];
  private int seq = (int) (System.nanoTime() & 0x7fffffff);

  public GenericNetlink() throws IOException {
    socket = new NetlinkSocket(NetlinkSocket.NETLINK_GENERIC, 2000);
  }

  public int nextSeq() {
    return ++seq;
  }

  /** Sends and returns the first reply for it (an ACK has type NLMSG_ERROR and error 0). */
  public NetlinkMessage.Reply request(NetlinkMessage m, int seq, String what) throws IOException {
    socket.send(m.bytes());
    while (true) {
      int n = socket.receive(buffer);
      NetlinkMessage.Reply r = NetlinkMessage.parse(buffer, n);
      if (r.seq() != seq) continue;
      if (r.type() == NetlinkMessage.NLMSG_ERROR && r.error() < 0) throw new NetlinkException(what, -r.error());
      return r;
    }
  }

  /** Resolves a generic-netlink family name ("nlctrl", "IPVS") to its id. */
  public int familyId(String name) throws IOException {
    int s = nextSeq();
    NetlinkMessage.Reply r = request(IpvsMessages.getFamily(name, s), s, "family " + name);
    if (!r.attributes().containsKey(IpvsMessages.CTRL_ATTR_FAMILY_ID)) {
      throw new IOException("family " + name + ": no id in the reply");
    }
    return r.u16(IpvsMessages.CTRL_ATTR_FAMILY_ID);
  }

  @Override
  public void close() {
    socket.close();
  }
}
