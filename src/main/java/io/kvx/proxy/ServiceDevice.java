package io.kvx.proxy;

import io.kvx.node.Exec;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The dummy interface that owns the service CIDR route on this node (so that host processes can
 * reach cluster IPs: the route gets the packet to the nat output hook) and, in the modes that accept
 * connections on cluster IPs themselves, the cluster IPs as /32 addresses (as kube-ipvs0 does).
 * Blocking; everything it adds, {@link #delete()} removes.
 */
public final class ServiceDevice {

  private final String device;
  private final String serviceCidr;
  private final Set<String> addresses = new TreeSet<>();

  public ServiceDevice(String device, String serviceCidr) {
    this.device = device;
    this.serviceCidr = serviceCidr;
  }

  /**
   * Creates the device (replacing a stale one) and routes the service CIDR to it. A dummy device where
   * the kernel has the module; otherwise a bridge without ports, which routes and holds addresses
   * the same way. Returns the type used.
   */
  public String create() throws IOException {
    delete();
    String type = "dummy";
    try {
      Exec.run(List.of("ip", "link", "add", device, "type", type));
    } catch (IOException e) {
      type = "bridge";
      Exec.run(List.of("ip", "link", "add", device, "type", type));
    }
    Exec.run(List.of("ip", "link", "set", device, "up"));
    Exec.run(List.of("ip", "route", "replace", serviceCidr, "dev", device));
    return type;
  }

  public void addAddress(String ip) throws IOException {
    if (!addresses.add(ip)) return;
    Exec.run(List.of("ip", "addr", "replace", ip + "/32", "dev", device));
  }

  public void removeAddress(String ip) throws IOException {
    if (!addresses.remove(ip)) return;
    try {
      Exec.run(List.of("ip", "addr", "del", ip + "/32", "dev", device));
    } catch (IOException ignored) {
      // already gone
    }
    // Deleting a device's last IPv4 address drops its routes too: keep the service CIDR here.
    Exec.run(List.of("ip", "route", "replace", serviceCidr, "dev", device));
  }

  /** Removes the device, with its route and addresses; nothing if it is not there. */
  public void delete() {
    addresses.clear();
    try {
      Exec.run(List.of("ip", "link", "del", device));
    } catch (IOException ignored) {
      // not there
    }
  }

  public String name() {
    return device;
  }
}
