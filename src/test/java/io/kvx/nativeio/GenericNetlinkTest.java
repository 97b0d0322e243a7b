package io.kvx.nativeio;

import io.kvx.proxy.ipvs.GenericNetlink;
import io.kvx.proxy.ipvs.IpvsMode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The FFM netlink path against this kernel: nlctrl resolves to its fixed id; IPVS does not exist here. */
class GenericNetlinkTest {

  @Test
  void resolvesFamiliesThroughTheKernel() throws Exception {
    try (GenericNetlink nl = new GenericNetlink()) {
      assertEquals(0x10, nl.familyId("nlctrl"));
      if (!Files.exists(Path.of("/proc/net/ip_vs"))) {
        GenericNetlink.NetlinkException e = assertThrows(GenericNetlink.NetlinkException.class,
            () -> nl.familyId("IPVS"));
        assertEquals(2, e.errno(), "ENOENT");
      }
    }
  }

  @Test
  void probeExplainsWhyThereIsNoIpvs() {
    assumeTrue(!Files.exists(Path.of("/proc/net/ip_vs")));
    String why = IpvsMode.probe();
    assertNotNull(why);
    assertTrue(why.contains("/proc/net/ip_vs missing") && why.contains("ENOENT"), why);
  }

  @Test
  void libnftablesLoadsAndAnswers() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")));
    try (LibNftables lib = LibNftables.open()) {
      String out = lib.run("list tables", true);
      assertTrue(out.startsWith("{\"nftables\""), out);
    }
  }
}
