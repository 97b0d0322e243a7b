package io.kvx.proxy.userspace;

import io.kvx.proxy.Endpoint;
import io.kvx.proxy.ServiceView;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.transport.Transport;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Accepts TCP connections on the cluster IP's port (and the node port on every address), connects to
 * a backend picked by the {@link LoadBalancer} and relays bytes both ways. A backend that refuses or
 * does not answer within the connect timeout is skipped for the next one, which kernel-mode proxies
 * cannot do. With no endpoints the connection is closed at once.
 * <p>
 * Netty channels on the userspace mode's own event loops (io_uring where the kernel allows it, else
 * native epoll, else NIO) accept and connect: accepted connections are spread over every loop, each
 * backend connection lives on its client's loop. Once both are up, the pair is handed to
 * {@link IoUringRelay} on io_uring (bare sockets on the loop's ring: one receive and one send per
 * message, the loop submitting all its connections' in one io_uring_enter per turn) or to
 * {@link EpollRelay} on epoll (bare sockets on the loop's epoll set: one recv and one send per
 * message); otherwise (NIO, or {@code userspaceSocketRelay: false}) a {@link Relay} handler on each
 * side passes buffers (pooled, direct) to the other without copies. Either way a side whose peer
 * cannot keep up stops reading until the peer has taken what is pending.
 */
final class TcpPortProxy implements PortProxy {

  private static final int CONNECT_TIMEOUT_MILLIS = 2000;
  /**
   * Netty's pooled allocator: a relayed message takes one buffer from the event loop thread's cache
   * and gives it back when written (the default adaptive allocator cost ~20% of the relay's samples).
   */
  private static final PooledByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

  private final LoadBalancer balancer = new LoadBalancer();
  /** Accepts and relays: each connection and its backend connection live on one loop of it. */
  private final EventLoopGroup group;
  /** Vert.x's transport: native epoll channels where available, NIO otherwise. */
  private final Transport transport;
  private final List<Channel> servers = new ArrayList<>();
  /** Established pairs relay on the bare epoll set ({@link EpollRelay}) rather than through pipelines. */
  private final boolean socketRelay;

  /** io_uring channels on io_uring loops, else Vert.x's transport's (native epoll where available, NIO). */
  private final ChannelFactory<? extends ServerChannel> serverFactory;
  private final ChannelFactory<? extends Channel> clientFactory;

  TcpPortProxy(Vertx vertx, EventLoopGroup group, ServiceView view, boolean socketRelay, boolean ioUring) throws Exception {
    balancer.update(view.endpoints(), view.port().affinitySeconds());
    this.group = group;
    this.socketRelay = socketRelay;
    transport = ((VertxInternal) vertx).transport();
    serverFactory = ioUring ? IoUringServerSocketChannel::new : transport.serverChannelFactory(false);
    clientFactory = ioUring ? IoUringSocketChannel::new : transport.channelFactory(false);
    try {
      listen(view.port().clusterIP(), view.port().port());
      if (view.port().nodePort() > 0) listen("0.0.0.0", view.port().nodePort());
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  private void listen(String host, int port) throws Exception {
    ServerBootstrap b = new ServerBootstrap().group(group, group).channelFactory(serverFactory)
        .option(ChannelOption.SO_BACKLOG, 1024).option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.AUTO_READ, false).childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            accept(ch);
          }
        });
    Channel server = b.bind(new InetSocketAddress(host, port)).sync().channel();
    servers.add(server);
  }

  private void accept(Channel in) {
    String client = ((InetSocketAddress) in.remoteAddress()).getAddress().getHostAddress();
    tryConnect(in, client, balancer.order(client, System.currentTimeMillis()), 0);
  }

  private void tryConnect(Channel in, String clientIp, List<Endpoint> order, int i) {
    if (!in.isOpen()) return;
    if (i >= order.size()) {
      in.close();
      return;
    }
    Endpoint ep = order.get(i);
    Bootstrap b = new Bootstrap().group(in.eventLoop())
        .channelFactory(clientFactory)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
        .option(ChannelOption.TCP_NODELAY, true).option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.ALLOCATOR, ALLOCATOR)
        .handler(new Relay(in));
    b.connect(ep.ip(), ep.port()).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        tryConnect(in, clientIp, order, i + 1);
        return;
      }
      Channel out = f.channel();
      balancer.used(clientIp, ep, System.currentTimeMillis());
      if (!in.isActive()) {
        out.close();
        return;
      }
      if (socketRelay && EpollRelay.usable(in, out)) {
        EpollRelay.start(in, out);
        return;
      }
      if (socketRelay && IoUringRelay.usable(in, out)) {
        IoUringRelay.start(in, out);
        return;
      }
      pipelineRelay(in, out);
    });
  }

  /**
   * Relays a connected pair through their pipelines (out's pipeline already holds {@code new Relay(in)},
   * both channels have autoRead off and half-closure allowed): in gets its Relay, both start reading.
   */
  static void pipelineRelay(Channel in, Channel out) {
    in.pipeline().addLast(new Relay(out));
    in.config().setAutoRead(true);
    out.config().setAutoRead(true);
  }

  /**
   * Moves whatever one channel reads to its peer. End of input (half-closure allowed) shuts the peer's
   * output once what it was sent is written, so a half-close passes through; a channel closes once
   * its input has ended and its output is shut. A channel gone (reset, error) closes its peer after a
   * flush.
   */
  static final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel peer;

    Relay(Channel peer) {
      this.peer = peer;
    }

    /*
     * Writes go straight to the peer's transport (Channel.unsafe(), on the loop both channels share):
     * the peer's pipeline holds only its own Relay, an inbound handler, so there is nothing to pass
     * on the way out, as Netty's own splice does.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Channel.Unsafe out = peer.unsafe();
      out.write(msg, peer.voidPromise());
      if (!peer.isWritable()) {
        out.flush();
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      peer.unsafe().flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable()) peer.config().setAutoRead(true);
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (!(evt instanceof ChannelInputShutdownEvent)) {
        ctx.fireUserEventTriggered(evt);
        return;
      }
      Channel self = ctx.channel();
      if (!(peer instanceof DuplexChannel p) || !peer.isActive()) {
        closeAfterFlush(self);
        return;
      }
      peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
        if (!f.isSuccess() || !peer.isActive()) {
          peer.close();
          return;
        }
        p.shutdownOutput().addListener(x -> closeIfDone(peer));
      });
      closeIfDone(self);
    }

    /** Both directions of a channel over: its input ended and its output shut. */
    private static void closeIfDone(Channel ch) {
      if (ch instanceof DuplexChannel d && d.isInputShutdown() && d.isOutputShutdown()) ch.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeAfterFlush(peer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeAfterFlush(ctx.channel());
    }

    private static void closeAfterFlush(Channel ch) {
      if (ch.isActive()) ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void update(ServiceView view) {
    balancer.update(view.endpoints(), view.port().affinitySeconds());
  }

  @Override
  public void close() throws Exception {
    for (Channel s : servers) s.close().await(10, TimeUnit.SECONDS);
  }
}
