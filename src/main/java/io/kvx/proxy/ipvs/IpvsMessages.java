package io.kvx.proxy.ipvs;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * The IPVS generic-netlink requests the proxy sends, laid out as include/uapi/linux/ip_vs.h defines
 * them: a command with a nested {@code IPVS_CMD_ATTR_SERVICE} (and {@code IPVS_CMD_ATTR_DEST} for
 * destinations). Addresses go as {@code union nf_inet_addr} (16 bytes, the IPv4 address first), ports
 * in network order, flags as {@code struct ip_vs_flags} {flags, mask}. Plus the nlctrl request that
 * resolves a family name to its id. Pure.
 */
public final class IpvsMessages {

  public static final String FAMILY = "IPVS";
  public static final int VERSION = 1;

  public static final int GENL_ID_CTRL = 0x10;
  public static final int CTRL_CMD_GETFAMILY = 3;
  public static final int CTRL_ATTR_FAMILY_ID = 1;
  public static final int CTRL_ATTR_FAMILY_NAME = 2;

  public static final int CMD_NEW_SERVICE = 1;
  public static final int CMD_SET_SERVICE = 2;
  public static final int CMD_DEL_SERVICE = 3;
  public static final int CMD_NEW_DEST = 5;
  public static final int CMD_SET_DEST = 6;
  public static final int CMD_DEL_DEST = 7;
  public static final int CMD_FLUSH = 17;

  public static final int CMD_ATTR_SERVICE = 1;
  public static final int CMD_ATTR_DEST = 2;

  public static final int SVC_ATTR_AF = 1;
  public static final int SVC_ATTR_PROTOCOL = 2;
  public static final int SVC_ATTR_ADDR = 3;
  public static final int SVC_ATTR_PORT = 4;
  public static final int SVC_ATTR_SCHED_NAME = 6;
  public static final int SVC_ATTR_FLAGS = 7;
  public static final int SVC_ATTR_TIMEOUT = 8;
  public static final int SVC_ATTR_NETMASK = 9;

  public static final int DEST_ATTR_ADDR = 1;
  public static final int DEST_ATTR_PORT = 2;
  public static final int DEST_ATTR_FWD_METHOD = 3;
  public static final int DEST_ATTR_WEIGHT = 4;
  public static final int DEST_ATTR_U_THRESH = 5;
  public static final int DEST_ATTR_L_THRESH = 6;
  public static final int DEST_ATTR_ADDR_FAMILY = 11;

  public static final int AF_INET = 2;
  public static final int SVC_F_PERSISTENT = 0x1;
  /** IP_VS_CONN_F_MASQ: NAT to the real server, the only method that works for pods. */
  public static final int FWD_MASQ = 0;

  private IpvsMessages() {
  }

  /** A virtual service: address, port, protocol; scheduler and persistence for NEW/SET. */
  public record VirtualService(String address, int port, int protocol, String scheduler, int persistSeconds) {

    public VirtualService {
      if (!java.util.Set.of("rr", "wrr", "lc", "wlc", "dh", "sh", "sed", "nq").contains(scheduler)) {
        throw new IllegalArgumentException("unknown IPVS scheduler " + scheduler);
      }
    }
  }

  /** A real server behind a virtual service. */
  public record Destination(String address, int port, int weight) {
  }

  public static int protocol(String name) {
    return switch (name.toUpperCase()) {
      case "TCP" -> 6;
      case "UDP" -> 17;
      case "SCTP" -> 132;
      default -> throw new IllegalArgumentException("protocol " + name);
    };
  }

  public static NetlinkMessage getFamily(String name, int seq) {
    return new NetlinkMessage(GENL_ID_CTRL, NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK, seq,
        CTRL_CMD_GETFAMILY, 1).string(CTRL_ATTR_FAMILY_NAME, name);
  }

  public static NetlinkMessage newService(int family, int seq, VirtualService s) {
    return service(family, seq, CMD_NEW_SERVICE, s, true);
  }

  public static NetlinkMessage setService(int family, int seq, VirtualService s) {
    return service(family, seq, CMD_SET_SERVICE, s, true);
  }

  public static NetlinkMessage delService(int family, int seq, VirtualService s) {
    return service(family, seq, CMD_DEL_SERVICE, s, false);
  }

  public static NetlinkMessage newDest(int family, int seq, VirtualService s, Destination d) {
    return dest(family, seq, CMD_NEW_DEST, s, d, true);
  }

  public static NetlinkMessage delDest(int family, int seq, VirtualService s, Destination d) {
    return dest(family, seq, CMD_DEL_DEST, s, d, false);
  }

  public static NetlinkMessage flush(int family, int seq) {
    return request(family, seq, CMD_FLUSH);
  }

  private static NetlinkMessage request(int family, int seq, int cmd) {
    return new NetlinkMessage(family, NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK, seq, cmd, VERSION);
  }

  private static NetlinkMessage service(int family, int seq, int cmd, VirtualService s, boolean full) {
    NetlinkMessage m = request(family, seq, cmd).begin(CMD_ATTR_SERVICE);
    serviceAttrs(m, s, full);
    return m.end();
  }

  private static void serviceAttrs(NetlinkMessage m, VirtualService s, boolean full) {
    m.u16(SVC_ATTR_AF, AF_INET).u16(SVC_ATTR_PROTOCOL, s.protocol()).attr(SVC_ATTR_ADDR, inetAddr(s.address()))
        .be16(SVC_ATTR_PORT, s.port());
    if (full) {
      int flags = s.persistSeconds() > 0 ? SVC_F_PERSISTENT : 0;
      m.string(SVC_ATTR_SCHED_NAME, s.scheduler())
          .attr(SVC_ATTR_FLAGS, flags(flags, 0xFFFFFFFF))
          .u32(SVC_ATTR_TIMEOUT, s.persistSeconds())
          .be32(SVC_ATTR_NETMASK, 0xFFFFFFFF);
    }
  }

  private static NetlinkMessage dest(int family, int seq, int cmd, VirtualService s, Destination d, boolean full) {
    NetlinkMessage m = request(family, seq, cmd).begin(CMD_ATTR_SERVICE);
    serviceAttrs(m, s, false);
    m.end().begin(CMD_ATTR_DEST).attr(DEST_ATTR_ADDR, inetAddr(d.address())).be16(DEST_ATTR_PORT, d.port());
    if (full) {
      m.u32(DEST_ATTR_FWD_METHOD, FWD_MASQ).u32(DEST_ATTR_WEIGHT, d.weight()).u32(DEST_ATTR_U_THRESH, 0)
          .u32(DEST_ATTR_L_THRESH, 0).u16(DEST_ATTR_ADDR_FAMILY, AF_INET);
    }
    return m.end();
  }

  /** {@code struct ip_vs_flags}: two host-order u32. */
  static byte[] flags(int flags, int mask) {
    return java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.nativeOrder()).putInt(flags).putInt(mask).array();
  }

  /** {@code union nf_inet_addr} holding an IPv4 address: 4 address bytes, 12 zero bytes. */
  static byte[] inetAddr(String ipv4) {
    InetAddress a = InetAddress.ofLiteral(ipv4);
    if (!(a instanceof Inet4Address)) throw new IllegalArgumentException("IPv4 only: " + ipv4);
    byte[] out = new byte[16];
    System.arraycopy(a.getAddress(), 0, out, 0, 4);
    return out;
  }
}
