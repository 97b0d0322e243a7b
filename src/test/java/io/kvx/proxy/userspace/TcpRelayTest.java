package io.kvx.proxy.userspace;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TCP relays on loopback: the bare-socket relays on epoll and on io_uring (the userspace mode's
 * defaults), the pipeline relay on io_uring (userspaceSocketRelay: false); NIO_PIPELINE, the last fallback, stalled in the
 * first case under back-pressure and is left out until that is understood): megabytes both ways (more than the socket
 * buffers hold, so a side must stop reading while its peer is full), a client's half-close reaching
 * the backend, the backend's close reaching the client after every byte it sent, and a client's
 * reset closing the backend connection.
 */
class TcpRelayTest {

  enum Kind { EPOLL_SOCKET, IO_URING_SOCKET, IO_URING_PIPELINE, NIO_PIPELINE }

  /** An event loop group of that kind, or a skipped test where the kernel or JNI library is missing. */
  static EventLoopGroup group(Kind kind) {
    switch (kind) {
      case EPOLL_SOCKET -> Assumptions.assumeTrue(Epoll.isAvailable(), "no native epoll here");
      case IO_URING_SOCKET, IO_URING_PIPELINE -> Assumptions.assumeTrue(IoUring.isAvailable(), "no io_uring here");
      default -> { }
    }
    return new MultiThreadIoEventLoopGroup(1, switch (kind) {
      case EPOLL_SOCKET -> EpollIoHandler.newFactory();
      case IO_URING_SOCKET, IO_URING_PIPELINE -> IoUringIoHandler.newFactory();
      case NIO_PIPELINE -> NioIoHandler.newFactory();
    });
  }

  /**
   * A proxy on loopback relaying each accepted connection to backend as the userspace mode does;
   * {@code relayed} completes with whether the pair went to the relay of that kind.
   */
  static Channel proxy(Kind kind, EventLoopGroup group, SocketAddress backend, CompletableFuture<Boolean> relayed)
      throws InterruptedException {
    ChannelFactory<? extends ServerChannel> server = switch (kind) {
      case EPOLL_SOCKET -> EpollServerSocketChannel::new;
      case IO_URING_SOCKET, IO_URING_PIPELINE -> IoUringServerSocketChannel::new;
      case NIO_PIPELINE -> NioServerSocketChannel::new;
    };
    ChannelFactory<? extends Channel> client = switch (kind) {
      case EPOLL_SOCKET -> EpollSocketChannel::new;
      case IO_URING_SOCKET, IO_URING_PIPELINE -> IoUringSocketChannel::new;
      case NIO_PIPELINE -> NioSocketChannel::new;
    };
    return new ServerBootstrap().group(group).channelFactory(server)
        .childOption(ChannelOption.AUTO_READ, false).childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel in) {
            new Bootstrap().group(in.eventLoop()).channelFactory(client)
                .option(ChannelOption.AUTO_READ, false).option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(kind == Kind.EPOLL_SOCKET || kind == Kind.IO_URING_SOCKET ? new ChannelInboundHandlerAdapter()
                    : new TcpPortProxy.Relay(in))
                .connect(backend).addListener((ChannelFutureListener) f -> {
                  Channel out = ((ChannelFuture) f).channel();
                  if (!f.isSuccess()) {
                    relayed.complete(false);
                    in.close();
                  } else if (kind == Kind.EPOLL_SOCKET) {
                    boolean usable = EpollRelay.usable(in, out);
                    relayed.complete(usable);
                    if (usable) EpollRelay.start(in, out);
                  } else if (kind == Kind.IO_URING_SOCKET) {
                    boolean usable = IoUringRelay.usable(in, out);
                    relayed.complete(usable);
                    if (usable) IoUringRelay.start(in, out);
                  } else {
                    relayed.complete(true);
                    TcpPortProxy.pipelineRelay(in, out);
                  }
                });
          }
        }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
  }

  private static final int SIZE = 8 * 1024 * 1024;

  /** The io_uring socket relay gives its receive buffers back to the pool once a pair is over. */
  private static void buffersGoBack(Kind kind) throws InterruptedException {
    if (kind != Kind.IO_URING_SOCKET) return;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (IoUringRelay.BUFFERS_HELD.get() != 0 && System.nanoTime() < deadline) Thread.sleep(10);
    assertEquals(0, IoUringRelay.BUFFERS_HELD.get(), "receive buffers still held after the pair closed");
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"EPOLL_SOCKET", "IO_URING_SOCKET", "IO_URING_PIPELINE"})
  void relaysBothWaysThroughBackPressureAndHalfClose(Kind kind) throws Exception {
    byte[] up = new byte[SIZE];
    byte[] down = new byte[SIZE];
    new Random(1).nextBytes(up);
    new Random(2).nextBytes(down);
    EventLoopGroup group = group(kind);
    InetAddress lo = InetAddress.getLoopbackAddress();
    try (ServerSocket backend = new ServerSocket(0, 10, lo)) {
      // the backend reads until the client's half-close, answers with a checksum and 8 MB, then closes
      CompletableFuture<Long> backendSaw = CompletableFuture.supplyAsync(() -> {
        try (Socket s = backend.accept()) {
          s.setSoTimeout(30_000);
          CRC32 crc = new CRC32();
          byte[] buf = new byte[16 * 1024];
          InputStream in = s.getInputStream();
          for (int n; (n = in.read(buf)) > 0; ) {
            crc.update(buf, 0, n);
            Thread.sleep(0, 1); // slower than the client: the relay's backend side fills up
          }
          DataOutputStream out = new DataOutputStream(s.getOutputStream());
          out.writeLong(crc.getValue());
          out.write(down);
          out.flush();
          return crc.getValue();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      CompletableFuture<Boolean> relayed = new CompletableFuture<>();
      Channel server = proxy(kind, group, backend.getLocalSocketAddress(), relayed);
      try (Socket client = new Socket(lo, ((InetSocketAddress) server.localAddress()).getPort())) {
        client.setSoTimeout(30_000);
        client.getOutputStream().write(up);
        client.shutdownOutput();
        DataInputStream in = new DataInputStream(client.getInputStream());
        long crc = in.readLong();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        in.transferTo(got); // ends only when the relay passes the backend's close on
        assertTrue(relayed.get(10, TimeUnit.SECONDS), "the pair went to the " + kind + " relay");
        CRC32 sent = new CRC32();
        sent.update(up);
        assertEquals(sent.getValue(), crc, "the backend got every byte the client sent, in order");
        assertEquals(sent.getValue(), backendSaw.get(10, TimeUnit.SECONDS));
        assertEquals(SIZE, got.size());
        assertArrayEquals(down, got.toByteArray(), "the client got every byte the backend sent, in order");
        buffersGoBack(kind);
      } finally {
        server.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"EPOLL_SOCKET", "IO_URING_SOCKET", "IO_URING_PIPELINE"})
  void aClientResetClosesTheBackendConnection(Kind kind) throws Exception {
    EventLoopGroup group = group(kind);
    InetAddress lo = InetAddress.getLoopbackAddress();
    try (ServerSocket backend = new ServerSocket(0, 10, lo)) {
      CompletableFuture<String> backendGot = new CompletableFuture<>();
      CompletableFuture<Integer> backendRead = CompletableFuture.supplyAsync(() -> {
        try (Socket s = backend.accept()) {
          s.setSoTimeout(30_000);
          byte[] buf = new byte[5];
          new DataInputStream(s.getInputStream()).readFully(buf);
          backendGot.complete(new String(buf));
          try {
            return s.getInputStream().read(); // -1 once the relay has closed its side
          } catch (SocketException reset) {
            return -2;
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      Channel server = proxy(kind, group, backend.getLocalSocketAddress(), new CompletableFuture<>());
      try {
        Socket client = new Socket(lo, ((InetSocketAddress) server.localAddress()).getPort());
        client.getOutputStream().write("hello".getBytes());
        assertEquals("hello", backendGot.get(10, TimeUnit.SECONDS)); // relayed: the pair is up
        client.setSoLinger(true, 0); // close with a reset
        client.close();
        int last = backendRead.get(20, TimeUnit.SECONDS);
        assertTrue(Arrays.asList(-1, -2).contains(last), "the backend connection ended (EOF or reset)");
        buffersGoBack(kind);
      } finally {
        server.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
