package io.kvx.proxy.userspace;

import io.kvx.proxy.Endpoint;
import io.kvx.proxy.ServiceView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Accepts TCP connections on the cluster IP's port (and the node port on every address), connects to
 * a backend picked by the {@link LoadBalancer} and pipes bytes both ways. A backend that refuses or
 * does not answer within the connect timeout is skipped for the next one, which kernel-mode proxies
 * cannot do. With no endpoints the connection is closed at once.
 */
final class TcpPortProxy implements PortProxy {

  private static final int CONNECT_TIMEOUT_MILLIS = 2000;

  private final LoadBalancer balancer = new LoadBalancer();
  private final NetClient client;
  private final List<NetServer> servers = new ArrayList<>();

  TcpPortProxy(Vertx vertx, ServiceView view) throws Exception {
    balancer.update(view.endpoints(), view.port().affinitySeconds());
    client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MILLIS).setTcpNoDelay(true));
    try {
      listen(vertx, view.port().clusterIP(), view.port().port());
      if (view.port().nodePort() > 0) listen(vertx, "0.0.0.0", view.port().nodePort());
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  private void listen(Vertx vertx, String host, int port) throws Exception {
    NetServer server = vertx.createNetServer().connectHandler(this::accept);
    servers.add(server);
    server.listen(port, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void accept(NetSocket in) {
    in.pause();
    String client = in.remoteAddress().hostAddress();
    tryConnect(in, client, balancer.order(client, System.currentTimeMillis()), 0);
  }

  private void tryConnect(NetSocket in, String clientIp, List<Endpoint> order, int i) {
    if (i >= order.size()) {
      in.close();
      return;
    }
    Endpoint ep = order.get(i);
    client.connect(ep.port(), ep.ip()).onComplete(ar -> {
      if (ar.failed()) {
        tryConnect(in, clientIp, order, i + 1);
        return;
      }
      NetSocket out = ar.result();
      balancer.used(clientIp, ep, System.currentTimeMillis());
      in.pipeTo(out);
      out.pipeTo(in);
    });
  }

  @Override
  public void update(ServiceView view) {
    balancer.update(view.endpoints(), view.port().affinitySeconds());
  }

  @Override
  public void close() throws Exception {
    List<Future<Void>> closing = new ArrayList<>();
    for (NetServer s : servers) closing.add(s.close());
    closing.add(client.close());
    Future.join(closing).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
