package io.kvx.node.network;

import io.kvx.node.Exec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Pod networking through Debian's CNI plugins: one network namespace per pod with its loopback up
 * (both made by the agent itself, {@link NetNamespaces}), and a veth to the node's bridge with an address from the node's podCIDR (bridge + host-local). The
 * bridge plugin switches on ip_forward and leaves the bridge behind; {@link #close()} undoes both.
 * Blocking.
 */
public final class CniNetwork implements AutoCloseable {

  private static final Path NETNS_DIR = Path.of("/var/run/netns");
  private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

  private final String bridge;
  private final String podCidr;
  private final Path pluginDir;
  private final Path dataDir;
  private final String ipForwardBefore;

  public CniNetwork(String bridge, String podCidr, Path pluginDir, Path dataDir) throws IOException {
    this.bridge = bridge;
    this.podCidr = podCidr;
    this.pluginDir = pluginDir;
    this.dataDir = dataDir;
    Files.createDirectories(dataDir);
    Path saved = dataDir.resolve("ip_forward.before");
    // Remember the machine's setting from before kvx first touched it, across restarts.
    if (!Files.exists(saved)) Files.writeString(saved, Files.readString(IP_FORWARD).trim());
    this.ipForwardBefore = Files.readString(saved).trim();
  }

  /** Whether this machine has what CNI pod networking needs. */
  public static boolean available(Path pluginDir) {
    return "root".equals(System.getProperty("user.name")) && Files.isExecutable(pluginDir.resolve("bridge"))
        && Files.isExecutable(pluginDir.resolve("host-local")) && Exec.onPath("ip");
  }

  public String bridge() {
    return bridge;
  }

  public static String netnsName(String podUid) {
    return "kvx-" + podUid;
  }

  public static String netnsPath(String podUid) {
    return NETNS_DIR.resolve(netnsName(podUid)).toString();
  }

  public String podCidr() {
    return podCidr;
  }

  /**
   * The pod's hostPorts as CNI portMappings (the runtimeConfig the portmap plugin reads): one per
   * container port with a hostPort, as the kubelet passes them.
   */
  public static JsonArray portMappings(JsonObject pod) {
    JsonArray out = new JsonArray();
    for (Object c : pod.getJsonObject("spec", new JsonObject()).getJsonArray("containers", new JsonArray())) {
      for (Object o : ((JsonObject) c).getJsonArray("ports", new JsonArray())) {
        JsonObject p = (JsonObject) o;
        Integer hostPort = p.getInteger("hostPort");
        if (hostPort == null || hostPort <= 0) continue;
        out.add(new JsonObject().put("hostPort", hostPort).put("containerPort", p.getInteger("containerPort"))
            .put("protocol", p.getString("protocol", "TCP").toLowerCase()).put("hostIP", p.getString("hostIP", "")));
      }
    }
    return out;
  }

  /** Creates the pod's namespace and interfaces; returns its IP. Idempotent. */
  public String setUp(String podUid) throws IOException {
    return setUp(podUid, new JsonArray());
  }

  /** As {@link #setUp(String)}, with the pod's hostPorts forwarded by the portmap plugin (chained after bridge). */
  public String setUp(String podUid, JsonArray portMappings) throws IOException {
    createNamespace(podUid);
    return attach(podUid, portMappings);
  }

  /**
   * The pod's network namespace with its loopback up (what the CNI loopback plugin would do, without a
   * process: {@link NetNamespaces}): containers may be created in it (joining it by path) while
   * {@link #attach} sets up its other interface. Idempotent.
   */
  public void createNamespace(String podUid) throws IOException {
    Path file = Path.of(netnsPath(podUid));
    if (Files.exists(file)) {
      NetNamespaces.loopbackUp(file);
    } else {
      NetNamespaces.create(file);
    }
  }

  /**
   * The CNI chain's ADD in a namespace {@link #createNamespace} made: bridge with host-local IPAM, then
   * portmap only when the pod has hostPorts. Returns the pod's IP.
   */
  public String attach(String podUid, JsonArray portMappings) throws IOException {
    JsonObject result = new JsonObject(invoke("ADD", podUid, bridgeConf()));
    JsonArray ips = result.getJsonArray("ips", new JsonArray());
    if (ips.isEmpty()) throw new IOException("CNI bridge returned no IP: " + result.encode());
    if (!portMappings.isEmpty()) invoke("ADD", podUid, portmapConf(portMappings).put("prevResult", result));
    String address = ips.getJsonObject(0).getString("address");
    return address.substring(0, address.indexOf('/'));
  }

  /** Releases the IP and removes the namespace; safe to call twice. */
  public void tearDown(String podUid) throws IOException {
    tearDown(podUid, new JsonArray());
  }

  /** As {@link #tearDown(String)}; the portmap plugin's rules go first, as a chain is deleted in reverse. */
  public void tearDown(String podUid, JsonArray portMappings) throws IOException {
    if (!portMappings.isEmpty()) {
      try {
        invoke("DEL", podUid, portmapConf(portMappings));
      } catch (IOException e) {
        // nothing forwarded any more
      }
    }
    if (Files.exists(Path.of(netnsPath(podUid)))) {
      try {
        invoke("DEL", podUid, bridgeConf());
      } catch (IOException e) {
        // the interface is gone already; release the address below regardless
      }
      NetNamespaces.delete(Path.of(netnsPath(podUid)));
    } else {
      try {
        invoke("DEL", podUid, bridgeConf());
      } catch (IOException ignored) {
        // nothing left to release
      }
    }
  }

  private String invoke(String command, String podUid, JsonObject conf) throws IOException {
    Map<String, String> env = Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", podUid,
        "CNI_NETNS", netnsPath(podUid), "CNI_IFNAME", "eth0",
        "CNI_PATH", pluginDir.toString());
    return Exec.run(List.of(pluginDir.resolve(conf.getString("type")).toString()), env, conf.encode());
  }

  private JsonObject bridgeConf() {
    return new JsonObject().put("cniVersion", "1.0.0").put("name", "kvx-" + bridge).put("type", "bridge")
        .put("bridge", bridge).put("isGateway", true).put("ipMasq", false).put("hairpinMode", true)
        .put("ipam", new JsonObject().put("type", "host-local")
            .put("ranges", new JsonArray().add(new JsonArray().add(new JsonObject().put("subnet", podCidr))))
            // A default route through the bridge: other nodes' pods and cluster IPs are off this subnet.
            .put("routes", new JsonArray().add(new JsonObject().put("dst", "0.0.0.0/0")))
            .put("dataDir", dataDir.resolve("ipam").toString()));
  }

  /** hostPort forwarding; the same network name as the bridge, as in one CNI conflist. */
  private JsonObject portmapConf(JsonArray portMappings) {
    return new JsonObject().put("cniVersion", "1.0.0").put("name", "kvx-" + bridge).put("type", "portmap")
        .put("capabilities", new JsonObject().put("portMappings", true)).put("snat", true)
        .put("runtimeConfig", new JsonObject().put("portMappings", portMappings));
  }

  /** Removes the bridge and restores ip_forward to what it was before kvx. */
  @Override
  public void close() throws IOException {
    try {
      Exec.run(List.of("ip", "link", "del", bridge));
    } catch (IOException ignored) {
      // no bridge was made
    }
    removePortmapChains();
    Files.writeString(IP_FORWARD, ipForwardBefore);
    Files.deleteIfExists(dataDir.resolve("ip_forward.before"));
  }

  /** portmap's shared chains, unless some hostPort (of any CNI user in this namespace) still needs them. */
  private static void removePortmapChains() {
    for (String tool : List.of("iptables", "ip6tables")) {
      if (!Exec.onPath(tool + "-save")) continue;
      try {
        List<List<String>> cleanup = PortmapChains.cleanup(Exec.run(List.of(tool + "-save", "-t", "nat")));
        for (List<String> args : cleanup) {
          List<String> cmd = new java.util.ArrayList<>(List.of(tool, "-w", "-t", "nat"));
          cmd.addAll(args);
          Exec.run(cmd);
        }
        // The nat table portmap made (iptables-nft) goes too once nothing is left in it.
        if (!cleanup.isEmpty() && Exec.onPath("nft")
            && PortmapChains.emptyTable(Exec.run(List.of(tool + "-save", "-t", "nat")))) {
          Exec.run(List.of("nft", "delete", "table", tool.equals("iptables") ? "ip" : "ip6", "nat"));
        }
      } catch (IOException e) {
        // no nat table, or it changed under us: nothing of portmap's to remove now
      }
    }
  }

  /** The bridge's address on the pod network (the first host of the pod CIDR): pods' gateway and DNS. */
  public String gateway() {
    String[] parts = podCidr.split("/")[0].split("\\.");
    return parts[0] + "." + parts[1] + "." + parts[2] + "." + (Integer.parseInt(parts[3]) + 1);
  }
}
