package io.kvx.proxy.userspace;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
 * The bare-socket relay on loopback: megabytes both ways (more than the socket buffers hold, so a
 * side must stop reading while its peer is full), a client's half-close reaching the backend, and the
 * backend's close reaching the client after every byte it sent.
 */
class EpollRelayTest {

  private static final int SIZE = 8 * 1024 * 1024;

  @Test
  void relaysBothWaysThroughBackPressureAndHalfClose() throws Exception {
    Assumptions.assumeTrue(Epoll.isAvailable(), "no native epoll here");
    byte[] up = new byte[SIZE];
    byte[] down = new byte[SIZE];
    new Random(1).nextBytes(up);
    new Random(2).nextBytes(down);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
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
      Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
          .childOption(ChannelOption.AUTO_READ, false)
          .childHandler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel in) {
              new Bootstrap().group(in.eventLoop()).channel(EpollSocketChannel.class)
                  .option(ChannelOption.AUTO_READ, false).handler(new ChannelInboundHandlerAdapter())
                  .connect(backend.getLocalSocketAddress()).addListener((ChannelFutureListener) f -> {
                    Channel out = ((ChannelFuture) f).channel();
                    boolean usable = f.isSuccess() && EpollRelay.usable(in, out);
                    relayed.complete(usable);
                    if (usable) EpollRelay.start(in, out);
                  });
            }
          }).bind(new InetSocketAddress(lo, 0)).sync().channel();
      try (Socket client = new Socket(lo, ((InetSocketAddress) server.localAddress()).getPort())) {
        client.setSoTimeout(30_000);
        client.getOutputStream().write(up);
        client.shutdownOutput();
        DataInputStream in = new DataInputStream(client.getInputStream());
        long crc = in.readLong();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        in.transferTo(got); // ends only when the relay passes the backend's close on
        assertTrue(relayed.get(10, TimeUnit.SECONDS), "the pair went to the socket relay");
        CRC32 sent = new CRC32();
        sent.update(up);
        assertEquals(sent.getValue(), crc, "the backend got every byte the client sent, in order");
        assertEquals(sent.getValue(), backendSaw.get(10, TimeUnit.SECONDS));
        assertEquals(SIZE, got.size());
        assertArrayEquals(down, got.toByteArray(), "the client got every byte the backend sent, in order");
      } finally {
        server.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void aClientResetClosesTheBackendConnection() throws Exception {
    Assumptions.assumeTrue(Epoll.isAvailable(), "no native epoll here");
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
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
      Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
          .childOption(ChannelOption.AUTO_READ, false)
          .childHandler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel in) {
              new Bootstrap().group(in.eventLoop()).channel(EpollSocketChannel.class)
                  .option(ChannelOption.AUTO_READ, false).handler(new ChannelInboundHandlerAdapter())
                  .connect(backend.getLocalSocketAddress()).addListener((ChannelFutureListener) f ->
                      EpollRelay.start(in, ((ChannelFuture) f).channel()));
            }
          }).bind(new InetSocketAddress(lo, 0)).sync().channel();
      try {
        Socket client = new Socket(lo, ((InetSocketAddress) server.localAddress()).getPort());
        client.getOutputStream().write("hello".getBytes());
        assertEquals("hello", backendGot.get(10, TimeUnit.SECONDS)); // relayed: the pair is up
        client.setSoLinger(true, 0); // close with a reset
        client.close();
        int last = backendRead.get(20, TimeUnit.SECONDS);
        assertTrue(Arrays.asList(-1, -2).contains(last), "the backend connection ended (EOF or reset)");
      } finally {
        server.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
