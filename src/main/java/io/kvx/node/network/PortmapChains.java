package io.kvx.node.network;

import java.util.ArrayList;
import java.util.List;

/**
 * The CNI portmap plugin removes a pod's own chains on DEL but leaves its shared ones behind
 * (CNI-HOSTPORT-DNAT, -SETMARK, -MASQ and the jumps to them from the nat table's built-in chains).
 * Pure: from {@code iptables-save -t nat} output, the iptables commands that remove them, or none
 * while some hostPort (anyone's) is still forwarded through them.
 */
public final class PortmapChains {

  static final String PREFIX = "CNI-HOSTPORT-";

  private PortmapChains() {
  }

  /** Argument lists for {@code iptables -t nat ...}, in order; empty when nothing is to be removed. */
  public static List<List<String>> cleanup(String iptablesSave) {
    List<String> chains = new ArrayList<>();
    List<List<String>> jumps = new ArrayList<>();
    for (String line : iptablesSave.lines().toList()) {
      if (line.startsWith(":" + PREFIX)) {
        chains.add(line.substring(1, line.indexOf(' ') > 0 ? line.indexOf(' ') : line.length()));
      } else if (line.startsWith("-A ")) {
        List<String> args = split(line);
        String chain = args.get(1);
        if (chain.equals(PREFIX + "DNAT")) return List.of(); // a hostPort is still forwarded
        int j = args.indexOf("-j");
        boolean toPortmap = j >= 0 && j + 1 < args.size() && args.get(j + 1).startsWith(PREFIX);
        if (toPortmap && !chain.startsWith(PREFIX)) {
          List<String> delete = new ArrayList<>(args);
          delete.set(0, "-D");
          jumps.add(delete);
        }
      }
    }
    List<List<String>> out = new ArrayList<>(jumps);
    for (String c : chains) out.add(List.of("-F", c));
    for (String c : chains) out.add(List.of("-X", c));
    return out;
  }

  /**
   * Whether a nat table holds nothing but empty built-in chains (what iptables-nft leaves after the
   * chains above are gone): such a table does nothing and can go.
   */
  public static boolean emptyTable(String iptablesSave) {
    boolean seen = false;
    for (String line : iptablesSave.lines().toList()) {
      if (line.startsWith("*nat")) seen = true;
      if (line.startsWith("-A ")) return false;
      if (line.startsWith(":") && !line.matches(":(PREROUTING|INPUT|OUTPUT|POSTROUTING) .*")) return false;
    }
    return seen;
  }

  /** Splits an iptables-save rule into arguments; double-quoted parts (comments) stay whole. */
  static List<String> split(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    boolean any = false;
    for (int i = 0; i < line.length(); i++) {
      char ch = line.charAt(i);
      if (ch == '\\' && quoted && i + 1 < line.length()) {
        cur.append(line.charAt(++i));
      } else if (ch == '"') {
        quoted = !quoted;
        any = true;
      } else if (ch == ' ' && !quoted) {
        if (any || cur.length() > 0) out.add(cur.toString());
        cur.setLength(0);
        any = false;
      } else {
        cur.append(ch);
      }
    }
    if (any || cur.length() > 0) out.add(cur.toString());
    return out;
  }
}
