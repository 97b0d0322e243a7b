package io.kvx.proxy.nftables;

import io.kvx.proxy.ProxyMode;
import io.kvx.proxy.ProxyOptions;
import io.kvx.proxy.ProxySnapshot;
import io.kvx.proxy.ServiceDevice;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * kube-proxy's nftables mode: one {@code ip} table rendered by {@link NftRenderer}. It remembers what
 * it programmed per service, so a sync sends one transaction holding only the changed services'
 * chains, sets and map elements; a full sync (first, after a failure, periodic) replaces the table
 * atomically. Stop deletes the table, the service route and its device.
 */
public final class NftablesMode implements ProxyMode {

  private static final Logger LOG = Logger.getLogger(NftablesMode.class.getName());
  private static final java.nio.file.Path ROUTE_LOCALNET = java.nio.file.Path.of("/proc/sys/net/ipv4/conf/all/route_localnet");

  private final ProxyOptions options;
  private final NftRenderer renderer;
  private final ServiceDevice device;
  private final Map<String, ServiceRules> programmed = new HashMap<>();
  /** Endpoint address → how many programmed services have it (the hairpin set holds those above 0). */
  private final Map<String, Integer> hairpinRefs = new HashMap<>();
  private Nft nft;
  private String lastScript = "";

  public NftablesMode(ProxyOptions options) {
    this.options = options;
    this.renderer = new NftRenderer(options.table, options.clusterCidr, options.masqueradeMark);
    this.device = new ServiceDevice(options.serviceDevice, options.serviceCidr);
  }

  @Override
  public String name() {
    return "nftables";
  }

  @Override
  public void start() throws IOException {
    nft = new Nft(options.libnftables);
    nft.run(NftTransaction.deleteTable(options.table));
    // Node ports on 127.0.0.1 as well, as kube-proxy's iptables mode serves them (k3s users curl localhost): a
    // packet from 127.0.0.1 DNATed to a pod may leave loopback (route_localnet), masqueraded on its way; the
    // filter-input rule drops what arrives from elsewhere for 127.0.0.0/8, as kube-proxy's firewall rule does.
    try {
      Files.writeString(ROUTE_LOCALNET, "1");
    } catch (IOException e) {
      LOG.warning("proxy: node ports on 127.0.0.1 stay closed, cannot set route_localnet: " + e.getMessage());
    }
    String type = device.create();
    LOG.info("proxy: nftables mode, table ip " + options.table + " through " + nft.via() + ", route "
        + options.serviceCidr + " dev " + options.serviceDevice + " (" + type + ")");
  }

  @Override
  public void sync(ProxySnapshot snapshot, Set<String> changed, boolean full) throws IOException {
    if (full) {
      Map<String, ServiceRules> all = new HashMap<>();
      List<ServiceRules> list = new ArrayList<>();
      for (String key : snapshot.keys()) {
        ServiceRules r = renderer.render(key, snapshot.service(key));
        all.put(key, r);
        list.add(r);
      }
      programmed.clear();
      hairpinRefs.clear();
      lastScript = NftTransaction.full(renderer, list);
      nft.run(lastScript);
      programmed.putAll(all);
      all.values().forEach(r -> r.hairpin().forEach(ip -> hairpinRefs.merge(ip, 1, Integer::sum)));
      return;
    }
    NftTransaction tx = new NftTransaction(options.table);
    Map<String, ServiceRules> next = new HashMap<>();
    Map<String, Integer> refs = new HashMap<>(hairpinRefs);
    for (String key : changed) {
      ServiceRules before = programmed.getOrDefault(key, ServiceRules.none(key));
      ServiceRules after = renderer.render(key, snapshot.service(key));
      tx.change(before, after);
      next.put(key, after);
      before.hairpin().forEach(ip -> refs.merge(ip, -1, Integer::sum));
      after.hairpin().forEach(ip -> refs.merge(ip, 1, Integer::sum));
    }
    List<String> added = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    refs.forEach((ip, n) -> {
      int was = hairpinRefs.getOrDefault(ip, 0);
      if (was == 0 && n > 0) added.add(ip);
      if (was > 0 && n <= 0) removed.add(ip);
    });
    refs.values().removeIf(n -> n <= 0);
    tx.hairpin(added, removed);
    if (tx.isEmpty()) return;
    lastScript = tx.body();
    nft.run(lastScript);
    next.forEach((key, r) -> {
      if (r.isEmpty()) programmed.remove(key);
      else programmed.put(key, r);
    });
    hairpinRefs.clear();
    hairpinRefs.putAll(refs);
  }

  /** The last script sent (for tests and debugging). */
  public String lastScript() {
    return lastScript;
  }

  @Override
  public void stop() throws IOException {
    try {
      if (nft != null) nft.run(NftTransaction.deleteTable(options.table));
    } finally {
      device.delete();
      programmed.clear();
      hairpinRefs.clear();
      if (nft != null) nft.close();
    }
  }
}
