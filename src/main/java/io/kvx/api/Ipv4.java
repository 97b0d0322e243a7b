package io.kvx.api;

/** IPv4 addresses as ints, for the allocators and route logic that do CIDR arithmetic. Pure. */
public final class Ipv4 {

  private Ipv4() {
  }

  /** "10.96.0.1" as an int; a malformed address is an IllegalArgumentException naming it. */
  public static int toInt(String ip) {
    String[] p = ip.split("\\.");
    if (p.length != 4) throw new IllegalArgumentException("not an IPv4 address: " + ip);
    int v = 0;
    for (String s : p) {
      int b = Integer.parseInt(s);
      if (b < 0 || b > 255) throw new IllegalArgumentException("not an IPv4 address: " + ip);
      v = (v << 8) | b;
    }
    return v;
  }

  public static String toIp(int v) {
    return ((v >>> 24) & 255) + "." + ((v >>> 16) & 255) + "." + ((v >>> 8) & 255) + "." + (v & 255);
  }
}
