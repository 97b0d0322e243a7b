package io.kvx.controller.nodeipam;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HashSet;
import java.util.OptionalInt;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CidrSetTest {

  @ParameterizedTest
  @CsvSource({
      "10.42.0.0/16, 24, 0, 10.42.0.0/24",
      "10.42.0.0/16, 24, 1, 10.42.1.0/24",
      "10.42.0.0/16, 24, 255, 10.42.255.0/24",
      "10.42.0.0/16, 26, 5, 10.42.1.64/26",
      "10.74.0.0/16, 24, 2, 10.74.2.0/24",
      "10.42.7.9/16, 24, 3, 10.42.3.0/24",       // host bits of the cluster CIDR are ignored
      "192.168.0.0/24, 24, 0, 192.168.0.0/24",
  })
  void blocksAreConsecutiveSubnets(String cluster, int mask, int index, String cidr) {
    CidrSet set = new CidrSet(cluster, mask);
    assertEquals(cidr, set.cidr(index));
    assertEquals(index, set.indexOf(cidr));
  }

  @ParameterizedTest
  @CsvSource({
      "10.43.0.0/24",   // outside
      "10.42.1.0/25",   // another size
      "10.42.1.5/24",   // not aligned
      "10.42.0.0/16",   // the whole range
      "garbage",
      "10.42.1.0/x",
  })
  void foreignCidrsAreNotBlocks(String cidr) {
    assertEquals(-1, new CidrSet("10.42.0.0/16", 24).indexOf(cidr));
  }

  @Test
  void sizesFollowTheMask() {
    assertEquals(256, new CidrSet("10.42.0.0/16", 24).size());
    assertEquals(1, new CidrSet("10.42.0.0/24", 24).size());
    assertEquals(65536, new CidrSet("10.0.0.0/8", 24).size());
  }

  @Test
  void badMasksAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new CidrSet("10.42.0.0/16", 8));
    assertThrows(IllegalArgumentException.class, () -> new CidrSet("10.42.0.0/16", 31));
    assertThrows(IllegalArgumentException.class, () -> new CidrSet("10.0.0.0/8", 26));
    assertThrows(IllegalArgumentException.class, () -> new CidrSet("10.42.0.0", 24));
  }

  @Test
  void nextSkipsUsedBlocksAndEndsWhenFull() {
    CidrSet set = new CidrSet("10.42.0.0/22", 24);
    set.occupy(1);
    Set<Integer> handed = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      int next = set.next().getAsInt();
      set.occupy(next);
      assertTrue(handed.add(next), "handed out twice: " + next);
    }
    assertEquals(Set.of(0, 2, 3), handed);
    assertEquals(OptionalInt.empty(), set.next());
  }

  @Test
  void aReleasedBlockIsNotHandedOutAgainAtOnce() {
    CidrSet set = new CidrSet("10.42.0.0/22", 24);
    int first = set.next().getAsInt();
    set.occupy(first);
    set.release(first);
    assertEquals(1, set.next().getAsInt(), "goes round the range first, as Kubernetes' cidrset does");
  }

  @Test
  void overlapsTellsWhetherACidrTouchesTheRange() {
    CidrSet set = new CidrSet("10.42.0.0/16", 24);
    assertTrue(set.overlaps("10.42.3.0/25"));
    assertTrue(set.overlaps("10.0.0.0/8"));
    assertFalse(set.overlaps("10.43.0.0/24"));
    assertFalse(set.isUsed(0));
  }
}
