package io.kvx.proxy.nftables;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds one {@code nft -f} script. A full sync replaces the whole table atomically; an update touches
 * only what differs between two renderings of the changed services, in an order the kernel accepts
 * inside one transaction: new sets and chains exist before anything points at them, map elements
 * move before the chains they named go away, and a chain is flushed before it is deleted.
 */
public final class NftTransaction {

  private final String table;
  private final List<String> create = new ArrayList<>();
  private final List<String> fill = new ArrayList<>();
  private final List<String> elements = new ArrayList<>();
  private final List<String> flushOld = new ArrayList<>();
  private final List<String> deleteOld = new ArrayList<>();

  public NftTransaction(String table) {
    this.table = table;
  }

  /** A script that replaces the table with the base plus every given service. */
  public static String full(NftRenderer renderer, Collection<ServiceRules> services) {
    NftTransaction tx = new NftTransaction(renderer.table());
    java.util.Set<String> hairpin = new java.util.TreeSet<>();
    for (ServiceRules s : services) {
      tx.change(ServiceRules.none(s.service()), s);
      hairpin.addAll(s.hairpin());
    }
    tx.hairpin(hairpin, java.util.Set.of());
    String t = renderer.table();
    // "add" first so that "delete" cannot fail on a missing table; all of it is one transaction.
    return "add table ip " + t + "\ndelete table ip " + t + "\n" + renderer.base() + tx.body();
  }

  /** A script that deletes the table; empty effect if it is not there. */
  public static String deleteTable(String table) {
    return "add table ip " + table + "\ndelete table ip " + table + "\n";
  }

  /** Adds what turns {@code before} into {@code after} for one service. */
  public NftTransaction change(ServiceRules before, ServiceRules after) {
    after.sets().forEach((name, def) -> {
      if (!Objects.equals(before.sets().get(name), def)) create.add("add set ip " + table + " " + name + " " + def);
    });
    after.chains().forEach((name, rules) -> {
      List<String> old = before.chains().get(name);
      if (rules.equals(old)) return;
      if (old == null) create.add("add chain ip " + table + " " + name);
      else fill.add("flush chain ip " + table + " " + name);
      for (String r : rules) fill.add("add rule ip " + table + " " + name + " " + r);
    });
    before.elements().forEach((key, verdict) -> {
      if (!verdict.equals(after.elements().get(key))) elements.add("delete element ip " + table + " "
          + map(key) + " { " + elementKey(key) + " }");
    });
    after.elements().forEach((key, verdict) -> {
      if (!verdict.equals(before.elements().get(key))) elements.add("add element ip " + table + " "
          + map(key) + " { " + elementKey(key) + " : " + verdict + " }");
    });
    for (String name : before.chains().keySet()) {
      if (!after.chains().containsKey(name)) {
        flushOld.add("flush chain ip " + table + " " + name);
        deleteOld.add("delete chain ip " + table + " " + name);
      }
    }
    before.sets().forEach((name, def) -> {
      if (!Objects.equals(after.sets().get(name), def)) deleteOld.add("delete set ip " + table + " " + name);
    });
    return this;
  }

  /** Adds and removes addresses of the shared hairpin set (the caller counts references). */
  public NftTransaction hairpin(Collection<String> added, Collection<String> removed) {
    if (!added.isEmpty()) {
      elements.add("add element ip " + table + " " + NftRenderer.HAIRPIN + " { "
          + String.join(", ", added.stream().map(ip -> ip + " . " + ip).toList()) + " }");
    }
    if (!removed.isEmpty()) {
      elements.add("delete element ip " + table + " " + NftRenderer.HAIRPIN + " { "
          + String.join(", ", removed.stream().map(ip -> ip + " . " + ip).toList()) + " }");
    }
    return this;
  }

  public boolean isEmpty() {
    return create.isEmpty() && fill.isEmpty() && elements.isEmpty() && flushOld.isEmpty() && deleteOld.isEmpty();
  }

  /** The script, one command a line. */
  public String body() {
    StringBuilder b = new StringBuilder();
    for (List<String> part : List.of(create, fill, elements, flushOld, deleteOld)) {
      for (String line : part) b.append(line).append('\n');
    }
    return b.toString();
  }

  private static String map(String key) {
    return key.substring(0, key.indexOf('|'));
  }

  private static String elementKey(String key) {
    return key.substring(key.indexOf('|') + 1);
  }
}
