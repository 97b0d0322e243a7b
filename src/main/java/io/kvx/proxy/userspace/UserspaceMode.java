package io.kvx.proxy.userspace;

import io.kvx.proxy.ProxyMode;
import io.kvx.proxy.ProxyOptions;
import io.kvx.proxy.ProxySnapshot;
import io.kvx.proxy.ServicePort;
import io.kvx.proxy.ServicePortName;
import io.kvx.proxy.ServiceDevice;
import io.kvx.proxy.ServiceView;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.transport.Transport;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The userspace mode: the node itself accepts connections for every service port and proxies them.
 * Cluster IPs are /32 addresses on the service device, so a proxy can listen on clusterIP:port
 * directly and both host processes and pods (routed through the node) reach it without any packet
 * rewriting; node ports listen on every address. (kube-proxy's old userspace mode listened on random
 * ports and redirected with iptables; owning the address is simpler and keeps the client's address
 * visible for ClientIP affinity.) TCP relays run on event loops of their own (io_uring where the
 * kernel allows it, else native epoll), one per CPU by default as nginx's {@code worker_processes auto}, so that proxied traffic
 * neither waits behind nor delays the API server's verticles; UDP runs on Vert.x's event loops.
 */
public final class UserspaceMode implements ProxyMode {

  private static final Logger LOG = Logger.getLogger(UserspaceMode.class.getName());

  private final Vertx vertx;
  private final ProxyOptions options;
  private final ServiceDevice device;
  private final Map<ServicePortName, ServicePort> programmed = new HashMap<>();
  private final Map<ServicePortName, PortProxy> proxies = new HashMap<>();
  /** The TCP relays' event loops, from {@link #start} to {@link #stop}. */
  private EventLoopGroup workers;
  private boolean ioUring;

  public UserspaceMode(Vertx vertx, ProxyOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.device = new ServiceDevice(options.serviceDevice, options.serviceCidr);
  }

  @Override
  public String name() {
    return "userspace";
  }

  @Override
  public boolean natConntrack() {
    return false;
  }

  @Override
  public void start() throws Exception {
    String type = device.create();
    int n = options.userspaceWorkers > 0 ? options.userspaceWorkers : Runtime.getRuntime().availableProcessors();
    Transport transport = ((VertxInternal) vertx).transport();
    ioUring = options.userspaceIoUring && IoUring.isAvailable();
    workers = new MultiThreadIoEventLoopGroup(n, new DefaultThreadFactory("kvx-proxy", true),
        ioUring ? IoUringIoHandler.newFactory() : transport.ioHandlerFactory());
    LOG.info("proxy: userspace mode, cluster IPs on " + options.serviceDevice + " (" + type + ", "
        + (ioUring ? "io_uring" : vertx.isNativeTransportEnabled() ? "native epoll" : "NIO") + " transport, " + n
        + " TCP event loop" + (n == 1 ? "" : "s") + ")");
  }

  @Override
  public void sync(ProxySnapshot snapshot, Set<String> changed, boolean full) throws Exception {
    Set<String> services = new HashSet<>(full ? snapshot.keys() : changed);
    if (full) programmed.keySet().forEach(n -> services.add(n.service()));
    for (String key : services) {
      Map<ServicePortName, ServiceView> wanted = new HashMap<>();
      snapshot.service(key).forEach(v -> wanted.put(v.port().name(), v));
      for (ServicePortName name : Set.copyOf(programmed.keySet())) {
        if (!name.service().equals(key)) continue;
        ServiceView v = wanted.get(name);
        if (v == null || !sameListener(programmed.get(name), v.port())) remove(name);
      }
      for (ServiceView v : wanted.values()) {
        PortProxy p = proxies.get(v.port().name());
        if (p != null) {
          p.update(v);
          programmed.put(v.port().name(), v.port());
          continue;
        }
        device.addAddress(v.port().clusterIP());
        boolean udp = v.port().protocol().equalsIgnoreCase("UDP");
        if (!udp && !v.port().protocol().equalsIgnoreCase("TCP")) continue; // SCTP: not in userspace
        proxies.put(v.port().name(), udp ? new UdpPortProxy(vertx, v, options.udpIdleSeconds)
            : new TcpPortProxy(vertx, workers, v, options.userspaceSocketRelay, ioUring));
        programmed.put(v.port().name(), v.port());
      }
    }
  }

  private static boolean sameListener(ServicePort a, ServicePort b) {
    return a.clusterIP().equals(b.clusterIP()) && a.port() == b.port() && a.nodePort() == b.nodePort()
        && a.protocol().equals(b.protocol());
  }

  private void remove(ServicePortName name) throws Exception {
    ServicePort old = programmed.remove(name);
    PortProxy p = proxies.remove(name);
    if (p != null) p.close();
    if (old != null && programmed.values().stream().noneMatch(sp -> sp.clusterIP().equals(old.clusterIP()))) {
      device.removeAddress(old.clusterIP());
    }
  }

  @Override
  public void stop() throws Exception {
    try {
      for (ServicePortName n : Set.copyOf(programmed.keySet())) remove(n);
    } finally {
      try {
        if (workers != null) workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
      } finally {
        device.delete();
      }
    }
  }
}
