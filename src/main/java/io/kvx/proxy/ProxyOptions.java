package io.kvx.proxy;

import io.vertx.core.json.JsonObject;

/**
 * The proxy's settings with their defaults, read from the verticle config (verticles/proxy.json
 * merged with the launcher's flags).
 */
public final class ProxyOptions {

  /** nftables, ipvs or userspace. */
  public String mode = "nftables";
  /** Syncs start at most this often; changes in between are coalesced. */
  public long minSyncMillis = 100;
  /** A full resync every so often repairs anything changed behind the proxy's back. */
  public long fullSyncSeconds = 300;
  /** nftables table (family ip) that holds every rule; also the prefix of nothing else. */
  public String table = "kvx";
  /** Cluster IPs come from here; the proxy routes it to {@link #serviceDevice} for host traffic. */
  public String serviceCidr = "10.96.0.0/12";
  /** Pod addresses; traffic to a cluster IP from outside it is masqueraded. Empty: masquerade all. */
  public String clusterCidr = "10.42.0.0/16";
  /** A dummy interface that carries the service route (and, in userspace and ipvs mode, the cluster IPs). */
  public String serviceDevice = "kvx-svc0";
  /** Packet mark that asks postrouting to masquerade. */
  public int masqueradeMark = 0x4000;
  /** IPVS scheduler: rr, lc, dh, sh, sed, nq. */
  public String ipvsScheduler = "rr";
  /**
   * Userspace mode: event-loop threads that relay TCP connections (as nginx's worker_processes);
   * 0: one per CPU this JVM may run on.
   */
  public int userspaceWorkers = 0;
  /**
   * Userspace mode: established TCP pairs relay as bare sockets on the event loop's io_uring (one
   * receive and one send per message, submitted with the loop's others) or epoll set (one recv and one
   * send per message); false: through Netty pipelines.
   */
  public boolean userspaceSocketRelay = true;
  /**
   * Userspace mode: TCP relays on io_uring event loops (Netty's io_uring transport) where the kernel
   * allows io_uring; false, or no io_uring: native epoll (or NIO).
   */
  public boolean userspaceIoUring = true;
  /** Userspace UDP sessions without traffic for this long are closed. */
  public int udpIdleSeconds = 60;
  /** HOST:PORT where the active proxy serves /metrics and /healthz, as kube-proxy does; empty: off. */
  public String metricsBindAddress = "127.0.0.1:10249";
  /** Try libnftables through java.lang.foreign before the nft binary. */
  public boolean libnftables = true;

  public static ProxyOptions fromJson(JsonObject c) {
    ProxyOptions o = new ProxyOptions();
    o.mode = c.getString("proxyMode", o.mode);
    o.minSyncMillis = c.getLong("minSyncMillis", o.minSyncMillis);
    o.fullSyncSeconds = c.getLong("fullSyncSeconds", o.fullSyncSeconds);
    o.table = c.getString("proxyTable", o.table);
    o.serviceCidr = c.getString("serviceCidr", o.serviceCidr);
    o.clusterCidr = c.getString("clusterCidr", o.clusterCidr);
    o.serviceDevice = c.getString("serviceDevice", o.serviceDevice);
    o.masqueradeMark = c.getInteger("masqueradeMark", o.masqueradeMark);
    o.ipvsScheduler = c.getString("ipvsScheduler", o.ipvsScheduler);
    o.udpIdleSeconds = c.getInteger("udpIdleSeconds", o.udpIdleSeconds);
    o.userspaceWorkers = c.getInteger("userspaceWorkers", o.userspaceWorkers);
    o.userspaceSocketRelay = c.getBoolean("userspaceSocketRelay", o.userspaceSocketRelay);
    o.userspaceIoUring = c.getBoolean("userspaceIoUring", o.userspaceIoUring);
    o.libnftables = c.getBoolean("libnftables", o.libnftables);
    o.metricsBindAddress = c.getString("metricsBindAddress", o.metricsBindAddress);
    return o;
  }
}
