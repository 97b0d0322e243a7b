package io.kvx.controller.nodeipam;

import io.kvx.api.Ipv4;

import java.util.BitSet;
import java.util.OptionalInt;

/**
 * The blocks of one size that a cluster CIDR splits into (as kube-controller-manager's cidrset does
 * with --cluster-cidr and --node-cidr-mask-size): block i is the i-th /maskSize subnet. Remembers
 * which blocks are known to be used and hands out the next free one, going round from where the last
 * search stopped so a block just released is not handed out again at once. Pure; IPv4 only.
 */
public final class CidrSet {

  private final int base;
  private final int clusterPrefix;
  private final int maskSize;
  private final int blocks;
  private final BitSet used = new BitSet();
  private int nextCandidate;

  public CidrSet(String clusterCidr, int maskSize) {
    String[] parts = clusterCidr.trim().split("/");
    if (parts.length != 2) throw new IllegalArgumentException("cluster CIDR " + clusterCidr + " is not ADDR/PREFIX");
    clusterPrefix = Integer.parseInt(parts[1]);
    if (clusterPrefix < 0 || clusterPrefix > 32) throw new IllegalArgumentException("bad prefix in " + clusterCidr);
    if (maskSize < clusterPrefix || maskSize > 30) {
      throw new IllegalArgumentException("node CIDR mask size " + maskSize + " must be between the cluster CIDR's prefix "
          + clusterPrefix + " and 30");
    }
    if (maskSize - clusterPrefix > 16) {
      throw new IllegalArgumentException("node CIDR mask size " + maskSize + " is too big for cluster CIDR " + clusterCidr
          + " (at most 16 bits more than the cluster prefix, as Kubernetes requires)");
    }
    this.maskSize = maskSize;
    this.base = Ipv4.toInt(parts[0]) & mask(clusterPrefix);
    this.blocks = 1 << (maskSize - clusterPrefix);
  }

  public int maskSize() {
    return maskSize;
  }

  public int size() {
    return blocks;
  }

  /** Block {@code index} as "a.b.c.d/maskSize". */
  public String cidr(int index) {
    if (index < 0 || index >= blocks) throw new IndexOutOfBoundsException(index);
    return Ipv4.toIp(base + (index << (32 - maskSize))) + "/" + maskSize;
  }

  /** The index of a block of this set, or -1 when the CIDR is not exactly one (outside, other size, unaligned). */
  public int indexOf(String cidr) {
    try {
      String[] parts = cidr.trim().split("/");
      if (parts.length != 2 || Integer.parseInt(parts[1]) != maskSize) return -1;
      int addr = Ipv4.toInt(parts[0]);
      if ((addr & mask(clusterPrefix)) != base) return -1;
      if ((addr & ~mask(maskSize)) != 0) return -1;
      return (addr - base) >>> (32 - maskSize);
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** Whether any address of {@code cidr} lies in the cluster CIDR. */
  public boolean overlaps(String cidr) {
    try {
      String[] parts = cidr.trim().split("/");
      int prefix = Integer.parseInt(parts[1]);
      int common = Math.min(prefix, clusterPrefix);
      return (Ipv4.toInt(parts[0]) & mask(common)) == (base & mask(common));
    } catch (RuntimeException e) {
      return false;
    }
  }

  public void occupy(int index) {
    used.set(index);
  }

  public void release(int index) {
    used.clear(index);
  }

  public boolean isUsed(int index) {
    return used.get(index);
  }

  /** The next block not known to be used, from where the last search stopped; empty when all are. */
  public OptionalInt next() {
    for (int i = 0; i < blocks; i++) {
      int candidate = (nextCandidate + i) % blocks;
      if (!used.get(candidate)) {
        nextCandidate = (candidate + 1) % blocks;
        return OptionalInt.of(candidate);
      }
    }
    return OptionalInt.empty();
  }

  private static int mask(int prefix) {
    return prefix == 0 ? 0 : -1 << (32 - prefix);
  }
}
