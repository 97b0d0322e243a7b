package io.kvx.proxy.ipvs;

import io.kvx.proxy.Endpoint;
import io.kvx.proxy.ProxyMode;
import io.kvx.proxy.ProxyOptions;
import io.kvx.proxy.ProxySnapshot;
import io.kvx.proxy.ServiceDevice;
import io.kvx.proxy.ServiceView;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * IPVS mode: one virtual service per cluster IP and port (scheduler from the options, persistence
 * for ClientIP affinity), one NAT destination per ready endpoint, the cluster IPs as addresses on the
 * service device so that the kernel accepts the packets IPVS then rewrites. Programmed over generic
 * netlink; only the changed services are touched. Node ports and the masquerade rules that IPVS
 * itself lacks are not done here (kube-proxy adds iptables rules for both). Only used where
 * {@link #probe()} finds IP_VS in the kernel.
 */
public final class IpvsMode implements ProxyMode {

  private final ProxyOptions options;
  private final ServiceDevice device;
  private final Map<String, Map<IpvsMessages.VirtualService, Set<IpvsMessages.Destination>>> programmed = new HashMap<>();
  private GenericNetlink netlink;
  private int family;

  public IpvsMode(ProxyOptions options) {
    this.options = options;
    this.device = new ServiceDevice(options.serviceDevice, options.serviceCidr);
  }

  /** Null when the kernel has IPVS; otherwise why not. */
  public static String probe() {
    if (!Files.exists(Path.of("/proc/net/ip_vs"))) {
      String reason = "/proc/net/ip_vs missing";
      try (GenericNetlink nl = new GenericNetlink()) {
        nl.familyId(IpvsMessages.FAMILY);
        return null;
      } catch (GenericNetlink.NetlinkException e) {
        return reason + ", generic netlink family IPVS: " + (e.errno() == 2 ? "ENOENT" : "errno " + e.errno());
      } catch (IOException | RuntimeException | LinkageError e) {
        return reason + ", generic netlink: " + e.getMessage();
      }
    }
    return null;
  }

  @Override
  public String name() {
    return "ipvs";
  }

  @Override
  public void start() throws IOException {
    netlink = new GenericNetlink();
    family = netlink.familyId(IpvsMessages.FAMILY);
    int s = netlink.nextSeq();
    netlink.request(IpvsMessages.flush(family, s), s, "IPVS flush");
    device.create();
  }

  @Override
  public void sync(ProxySnapshot snapshot, Set<String> changed, boolean full) throws IOException {
    Set<String> keys = new HashSet<>(full ? snapshot.keys() : changed);
    if (full) keys.addAll(programmed.keySet());
    for (String key : keys) {
      Map<IpvsMessages.VirtualService, Set<IpvsMessages.Destination>> want = desired(snapshot, key);
      Map<IpvsMessages.VirtualService, Set<IpvsMessages.Destination>> have = programmed.getOrDefault(key, Map.of());
      for (var e : have.entrySet()) {
        if (!want.containsKey(e.getKey())) send(IpvsMessages.delService(family, seq(), e.getKey()), "delete service");
      }
      for (var e : want.entrySet()) {
        Set<IpvsMessages.Destination> old = have.get(e.getKey());
        if (old == null) {
          device.addAddress(e.getKey().address());
          send(IpvsMessages.newService(family, seq(), e.getKey()), "new service");
          old = Set.of();
        }
        for (IpvsMessages.Destination d : old) {
          if (!e.getValue().contains(d)) send(IpvsMessages.delDest(family, seq(), e.getKey(), d), "delete destination");
        }
        for (IpvsMessages.Destination d : e.getValue()) {
          if (!old.contains(d)) send(IpvsMessages.newDest(family, seq(), e.getKey(), d), "new destination");
        }
      }
      if (want.isEmpty()) programmed.remove(key);
      else programmed.put(key, want);
      Set<String> inUse = new HashSet<>();
      programmed.values().forEach(m -> m.keySet().forEach(vs -> inUse.add(vs.address())));
      for (var vs : have.keySet()) if (!inUse.contains(vs.address())) device.removeAddress(vs.address());
    }
  }

  private Map<IpvsMessages.VirtualService, Set<IpvsMessages.Destination>> desired(ProxySnapshot snapshot, String key) {
    Map<IpvsMessages.VirtualService, Set<IpvsMessages.Destination>> out = new LinkedHashMap<>();
    for (ServiceView v : snapshot.service(key)) {
      var vs = new IpvsMessages.VirtualService(v.port().clusterIP(), v.port().port(),
          IpvsMessages.protocol(v.port().protocol()), options.ipvsScheduler, v.port().affinitySeconds());
      Set<IpvsMessages.Destination> dests = new HashSet<>();
      for (Endpoint e : v.endpoints()) dests.add(new IpvsMessages.Destination(e.ip(), e.port(), 1));
      out.put(vs, dests);
    }
    return out;
  }

  private int lastSeq;

  private int seq() {
    lastSeq = netlink.nextSeq();
    return lastSeq;
  }

  private void send(NetlinkMessage m, String what) throws IOException {
    netlink.request(m, lastSeq, "IPVS " + what);
  }

  @Override
  public void stop() throws IOException {
    try {
      for (var m : programmed.values()) {
        for (var vs : m.keySet()) send(IpvsMessages.delService(family, seq(), vs), "delete service");
      }
    } finally {
      programmed.clear();
      device.delete();
      if (netlink != null) netlink.close();
    }
  }
}
