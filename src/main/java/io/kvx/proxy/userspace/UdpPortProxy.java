package io.kvx.proxy.userspace;

import io.kvx.proxy.Endpoint;
import io.kvx.proxy.ServiceView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.net.SocketAddress;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * UDP on the cluster IP's port (and the node port): each client address gets a session, a socket of
 * its own towards one backend, so that replies find their way back; sessions idle for longer than
 * the idle timeout are closed.
 */
final class UdpPortProxy implements PortProxy {

  private static final class Session {
    final DatagramSocket socket;
    final Future<DatagramSocket> bound;
    final Endpoint endpoint;
    volatile long lastUsedMillis;

    Session(DatagramSocket socket, Endpoint endpoint) {
      this.socket = socket;
      this.endpoint = endpoint;
      this.bound = socket.listen(0, "0.0.0.0");
    }
  }

  private final Vertx vertx;
  private final LoadBalancer balancer = new LoadBalancer();
  private final List<DatagramSocket> servers = new ArrayList<>();
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final long idleMillis;
  private final long sweeper;
  private volatile int affinitySeconds;

  UdpPortProxy(Vertx vertx, ServiceView view, int idleSeconds) throws Exception {
    this.vertx = vertx;
    this.idleMillis = idleSeconds * 1000L;
    this.affinitySeconds = view.port().affinitySeconds();
    balancer.update(view.endpoints(), view.port().affinitySeconds());
    sweeper = vertx.setPeriodic(Math.max(1000, idleMillis / 2), t -> sweep());
    try {
      listen(view.port().clusterIP(), view.port().port());
      if (view.port().nodePort() > 0) listen("0.0.0.0", view.port().nodePort());
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  private void listen(String host, int port) throws Exception {
    DatagramSocket server = vertx.createDatagramSocket();
    servers.add(server);
    server.handler(p -> receive(server, p));
    server.listen(port, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void receive(DatagramSocket server, DatagramPacket p) {
    SocketAddress from = p.sender();
    String key = from.hostAddress() + ":" + from.port();
    long now = System.currentTimeMillis();
    Session s = sessions.get(key);
    if (s != null && !balancer.endpoints().contains(s.endpoint)) {
      sessions.remove(key);
      s.socket.close();
      s = null;
    }
    if (s == null) {
      List<Endpoint> order = balancer.order(from.hostAddress(), now);
      if (order.isEmpty()) return;
      Endpoint ep = order.get(0);
      DatagramSocket out = vertx.createDatagramSocket();
      Session created = new Session(out, ep);
      out.handler(reply -> {
        created.lastUsedMillis = System.currentTimeMillis();
        server.send(reply.data(), from.port(), from.hostAddress());
      });
      sessions.put(key, created);
      balancer.used(from.hostAddress(), ep, now);
      s = created;
    }
    s.lastUsedMillis = now;
    Endpoint ep = s.endpoint;
    s.bound.onSuccess(sock -> sock.send(p.data(), ep.port(), ep.ip()));
  }

  private void sweep() {
    long now = System.currentTimeMillis();
    sessions.entrySet().removeIf(e -> {
      if (now - e.getValue().lastUsedMillis < idleMillis) return false;
      e.getValue().socket.close();
      return true;
    });
  }

  @Override
  public void update(ServiceView view) {
    int before = affinitySeconds;
    affinitySeconds = view.port().affinitySeconds();
    balancer.update(view.endpoints(), affinitySeconds);
    if (before != affinitySeconds) {
      // Sessions were placed under the old policy: a client's next datagram is placed anew.
      sessions.values().removeIf(s -> {
        s.socket.close();
        return true;
      });
    }
  }

  @Override
  public void close() throws Exception {
    vertx.cancelTimer(sweeper);
    List<Future<Void>> closing = new ArrayList<>();
    for (DatagramSocket s : servers) closing.add(s.close());
    sessions.values().forEach(s -> closing.add(s.socket.close()));
    sessions.clear();
    Future.join(closing).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
