package io.kvx.proxy.ipvs;

import io.kvx.proxy.ipvs.IpvsMessages.Destination;
import io.kvx.proxy.ipvs.IpvsMessages.VirtualService;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Expected bytes written out by hand from include/uapi/linux/netlink.h (nlmsghdr, nlattr, NLA_F_NESTED
 * 0x8000), genetlink.h (genlmsghdr) and ip_vs.h (command and attribute numbers, ip_vs_flags), on a
 * little-endian host: every field is commented with what it is.
 */
class IpvsMessagesTest {

  static final int FAMILY = 0x1234;
  static final VirtualService WEB = new VirtualService("10.96.0.10", 80, 6, "rr", 0);

  static String hex(NetlinkMessage m) {
    return HexFormat.of().formatHex(m.bytes());
  }

  static String strip(String s) {
    return s.replaceAll("#[^\n]*", "").replaceAll("\\s+", "");
  }

  @Test
  void newService() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
    assertEquals(strip("""
        68000000 # nlmsg_len 104
        3412     # nlmsg_type: the IPVS family id
        0500     # NLM_F_REQUEST | NLM_F_ACK
        07000000 # seq 7
        00000000 # pid 0 (the kernel fills ours in)
        01 01 0000 # genl: IPVS_CMD_NEW_SERVICE, version 1, reserved
        5400 0180  # IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, 84 bytes
        0600 0100 0200 0000 # IPVS_SVC_ATTR_AF u16 AF_INET + 2 pad
        0600 0200 0600 0000 # IPVS_SVC_ATTR_PROTOCOL u16 IPPROTO_TCP + pad
        1400 0300 0a60000a 00000000 00000000 00000000 # IPVS_SVC_ATTR_ADDR union nf_inet_addr 10.96.0.10
        0600 0400 0050 0000 # IPVS_SVC_ATTR_PORT be16 80 + pad
        0700 0600 727200 00 # IPVS_SVC_ATTR_SCHED_NAME "rr\\0" + pad
        0c00 0700 00000000 ffffffff # IPVS_SVC_ATTR_FLAGS struct ip_vs_flags {flags 0, mask ~0}
        0800 0800 00000000 # IPVS_SVC_ATTR_TIMEOUT u32 0
        0800 0900 ffffffff # IPVS_SVC_ATTR_NETMASK be32 255.255.255.255
        """), hex(IpvsMessages.newService(FAMILY, 7, WEB)));
  }

  @Test
  void persistentServiceForClientIpAffinity() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
    String h = hex(IpvsMessages.newService(FAMILY, 7, new VirtualService("10.96.0.10", 53, 17, "sh", 10_800)));
    assertEquals(strip("""
        0600 0200 1100 0000 # protocol IPPROTO_UDP
        1400 0300 0a60000a 00000000 00000000 00000000
        0600 0400 0035 0000 # port 53
        0700 0600 736800 00 # "sh"
        0c00 0700 01000000 ffffffff # IP_VS_SVC_F_PERSISTENT
        0800 0800 302a0000 # timeout 10800 s
        """), h.substring(2 * (16 + 4 + 4 + 8), 2 * (16 + 4 + 4 + 8 + 8 + 20 + 8 + 8 + 12 + 8)));
  }

  @Test
  void newDestinationCarriesTheServiceKeyAndTheDestination() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
    assertEquals(strip("""
        8c000000 3412 0500 08000000 00000000 # 140 bytes, seq 8
        05 01 0000 # IPVS_CMD_NEW_DEST
        3000 0180  # IPVS_CMD_ATTR_SERVICE, nested, 48 bytes: the key only
        0600 0100 0200 0000
        0600 0200 0600 0000
        1400 0300 0a60000a 00000000 00000000 00000000
        0600 0400 0050 0000
        4800 0280  # IPVS_CMD_ATTR_DEST, nested, 72 bytes
        1400 0100 0a2a0005 00000000 00000000 00000000 # IPVS_DEST_ATTR_ADDR 10.42.0.5
        0600 0200 1f90 0000 # IPVS_DEST_ATTR_PORT be16 8080
        0800 0300 00000000 # IPVS_DEST_ATTR_FWD_METHOD IP_VS_CONN_F_MASQ
        0800 0400 01000000 # IPVS_DEST_ATTR_WEIGHT 1
        0800 0500 00000000 # IPVS_DEST_ATTR_U_THRESH
        0800 0600 00000000 # IPVS_DEST_ATTR_L_THRESH
        0600 0b00 0200 0000 # IPVS_DEST_ATTR_ADDR_FAMILY AF_INET
        """), hex(IpvsMessages.newDest(FAMILY, 8, WEB, new Destination("10.42.0.5", 8080, 1))));
  }

  @Test
  void deletionsCarryOnlyKeys() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
    assertEquals(strip("""
        44000000 3412 0500 09000000 00000000 03 01 0000 # 68 bytes, IPVS_CMD_DEL_SERVICE
        3000 0180 # nested service key, 48 bytes
        0600 0100 0200 0000 0600 0200 0600 0000
        1400 0300 0a60000a 00000000 00000000 00000000
        0600 0400 0050 0000
        """), hex(IpvsMessages.delService(FAMILY, 9, WEB)));
    String del = hex(IpvsMessages.delDest(FAMILY, 10, WEB, new Destination("10.42.0.5", 8080, 1)));
    assertEquals(strip("""
        2000 0280 # IPVS_CMD_ATTR_DEST, nested, 32 bytes: address and port
        1400 0100 0a2a0005 00000000 00000000 00000000
        0600 0200 1f90 0000
        """), del.substring(2 * (16 + 4 + 48)));
    assertEquals("07", del.substring(32, 34));
  }

  @Test
  void familyLookupAndSchedulers() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
    assertEquals(strip("""
        20000000 1000 0500 01000000 00000000 # GENL_ID_CTRL
        03 01 0000 # CTRL_CMD_GETFAMILY
        0900 0200 49505653 00 000000 # CTRL_ATTR_FAMILY_NAME "IPVS\\0" + 3 pad
        """), hex(IpvsMessages.getFamily("IPVS", 1)));
    for (String s : new String[] {"rr", "lc", "dh", "sh", "sed", "nq"}) new VirtualService("10.96.0.1", 1, 6, s, 0);
    assertThrows(IllegalArgumentException.class, () -> new VirtualService("10.96.0.1", 1, 6, "fastest", 0));
  }
}
