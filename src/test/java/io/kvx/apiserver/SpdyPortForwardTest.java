package io.kvx.apiserver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.spdy.DefaultSpdyPingFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server half of kubectl's port-forward SPDY session, driven by a SPDY client codec. */
class SpdyPortForwardTest {

  private final EmbeddedChannel client = new EmbeddedChannel(new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
  private final List<Integer> openedPorts = new ArrayList<>();
  private final SpdyPortForward server = new SpdyPortForward(bytes -> {
    client.writeInbound(Unpooled.wrappedBuffer(bytes.getBytes()));
    return Future.succeededFuture();
  }, (port, onFrame) -> {
    openedPorts.add(port);
    return Future.failedFuture("connection refused");
  }, () -> { }, () -> { });

  private void send(Object frame) {
    client.writeOutbound(frame);
    ByteBuf b;
    while ((b = client.readOutbound()) != null) {
      server.receive(Buffer.buffer(ByteBufUtil.getBytes(b)));
      b.release();
    }
  }

  private static DefaultSpdySynStreamFrame stream(int id, String type, String port, String requestId) {
    DefaultSpdySynStreamFrame f = new DefaultSpdySynStreamFrame(id, 0, (byte) 0);
    f.headers().set("streamtype", type).set("port", port).set("requestid", requestId);
    return f;
  }

  @Test
  void repliesToEveryStreamWithAHeaderBlockAndReportsAFailedConnectionOnTheErrorStream() {
    send(stream(1, "error", "8080", "0"));
    SpdySynReplyFrame reply = assertInstanceOf(SpdySynReplyFrame.class, client.readInbound());
    assertEquals(1, reply.streamId());
    // Go's framer rejects a SYN_REPLY without a header block: there must be at least one header.
    assertFalse(reply.headers().isEmpty());
    send(stream(3, "data", "8080", "0"));
    assertEquals(3, ((SpdySynReplyFrame) client.readInbound()).streamId());
    assertEquals(List.of(8080), openedPorts);
    SpdyDataFrame error = assertInstanceOf(SpdyDataFrame.class, client.readInbound());
    assertEquals(1, error.streamId());
    assertTrue(error.content().toString(StandardCharsets.UTF_8).contains("connection refused"));
    SpdyDataFrame finData = (SpdyDataFrame) client.readInbound();
    SpdyDataFrame finError = (SpdyDataFrame) client.readInbound();
    assertEquals(3, finData.streamId());
    assertTrue(finData.isLast());
    assertEquals(1, finError.streamId());
    assertTrue(finError.isLast());
  }

  @Test
  void echoesPings() {
    send(new DefaultSpdyPingFrame(7));
    assertEquals(7, assertInstanceOf(SpdyPingFrame.class, client.readInbound()).id());
  }
}
