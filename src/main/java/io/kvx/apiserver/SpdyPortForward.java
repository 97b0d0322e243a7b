package io.kvx.apiserver;

import io.kvx.api.RemoteCommand;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyGoAwayFrame;
import io.netty.handler.codec.spdy.DefaultSpdyPingFrame;
import io.netty.handler.codec.spdy.DefaultSpdyRstStreamFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyHeadersFrame;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdyStreamStatus;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * kubectl port-forward's protocol (portforward.k8s.io): a SPDY/3.1 session carried inside WebSocket
 * binary messages (kubectl 1.31+ asks for subprotocol {@code SPDY/3.1+portforward.k8s.io}; a plain
 * SPDY upgrade is its fallback, which kvx does not take). For every local
 * connection kubectl opens two streams with headers {@code streamType} (error or data), {@code port}
 * and {@code requestID}; the data stream carries the bytes both ways, the error stream carries a
 * message from the server if the pod's port could not be reached. Each data stream becomes a
 * port-forward session with the node agent ({@link NodeStream}).
 *
 * <p>Frames are decoded and encoded by Netty's SPDY codec in an embedded channel; everything runs on
 * the connection's event loop. SPDY flow control is not enforced (kubectl's SPDY library does not
 * send window updates); reading the client pauses while too many bytes wait for the node instead.
 */
final class SpdyPortForward {

  private static final int PAUSE_BYTES = 1 << 20;

  /** One forwarded connection: its two streams and the node session. */
  private static final class Pair {
    int errorStream;
    int dataStream;
    Future<NodeStream> node;
    boolean serverClosed;
  }

  private final EmbeddedChannel codec = new EmbeddedChannel(new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
  private final Function<Buffer, Future<Void>> transport;
  private final BiFunction<Integer, Function<Buffer, Future<Void>>, Future<NodeStream>> opener;
  private final Runnable pause;
  private final Runnable resume;
  private final Map<String, Pair> byRequest = new HashMap<>();
  private final Map<Integer, String> requestOfStream = new HashMap<>();
  private long pending;
  private boolean paused;
  private boolean closed;

  /**
   * @param transport writes bytes to the client
   * @param opener opens a node session for a port, given the handler of the node's frames
   */
  SpdyPortForward(Function<Buffer, Future<Void>> transport,
                  BiFunction<Integer, Function<Buffer, Future<Void>>, Future<NodeStream>> opener,
                  Runnable pause, Runnable resume) {
    this.transport = transport;
    this.opener = opener;
    this.pause = pause;
    this.resume = resume;
  }

  /** Bytes from the client. */
  void receive(Buffer bytes) {
    if (closed) return;
    codec.writeInbound(Unpooled.wrappedBuffer(bytes.getBytes()));
    Object frame;
    while ((frame = codec.readInbound()) != null) {
      try {
        onFrame(frame);
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }
  }

  private void onFrame(Object frame) {
    if (frame instanceof SpdySynStreamFrame syn) {
      onSynStream(syn);
    } else if (frame instanceof SpdyDataFrame data) {
      onData(data.streamId(), Buffer.buffer(ByteBufUtil.bytes(data.content())), data.isLast());
    } else if (frame instanceof SpdyRstStreamFrame rst) {
      String id = requestOfStream.get(rst.streamId());
      if (id != null) closePair(id);
    } else if (frame instanceof SpdyPingFrame ping) {
      write(new DefaultSpdyPingFrame(ping.id()));
    } else if (frame instanceof SpdyHeadersFrame headers && headers.isLast()) {
      onData(headers.streamId(), Buffer.buffer(), true);
    }
    // SETTINGS, WINDOW_UPDATE and GOAWAY need nothing from this side.
  }

  private static String header(SpdyHeadersFrame f, String name) {
    for (Map.Entry<CharSequence, CharSequence> e : f.headers()) {
      if (e.getKey().toString().equalsIgnoreCase(name)) return e.getValue().toString();
    }
    return null;
  }

  private void onSynStream(SpdySynStreamFrame syn) {
    int id = syn.streamId();
    String type = header(syn, "streamType");
    String requestId = header(syn, "requestID");
    String portText = header(syn, "port");
    if (type == null || portText == null) {
      write(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.PROTOCOL_ERROR));
      return;
    }
    if (requestId == null) requestId = portText + "/" + id;
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      write(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.PROTOCOL_ERROR));
      return;
    }
    // Netty writes no header block at all for an empty header set, which Go's SPDY framer rejects.
    DefaultSpdySynReplyFrame reply = new DefaultSpdySynReplyFrame(id);
    reply.headers().set("streamtype", type);
    write(reply);
    Pair pair = byRequest.computeIfAbsent(requestId, k -> new Pair());
    requestOfStream.put(id, requestId);
    if (type.equals("error")) {
      pair.errorStream = id;
      return;
    }
    if (!type.equals("data")) {
      write(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.PROTOCOL_ERROR));
      return;
    }
    pair.dataStream = id;
    String rid = requestId;
    pair.node = opener.apply(port, frame -> fromNode(rid, frame));
    pair.node.onFailure(e -> {
      Pair p = byRequest.get(rid);
      if (p == null) return;
      if (p.errorStream != 0) {
        write(new DefaultSpdyDataFrame(p.errorStream, Unpooled.wrappedBuffer(String.valueOf(e.getMessage())
            .getBytes(java.nio.charset.StandardCharsets.UTF_8))));
      }
      finishPair(rid);
    });
    if (syn.isLast()) onData(id, Buffer.buffer(), true);
  }

  private void onData(int streamId, Buffer bytes, boolean last) {
    String rid = requestOfStream.get(streamId);
    Pair pair = rid == null ? null : byRequest.get(rid);
    if (pair == null || pair.node == null || streamId != pair.dataStream) return;
    if (bytes.length() > 0) {
      pending += bytes.length();
      if (pending > PAUSE_BYTES && !paused) {
        paused = true;
        pause.run();
      }
      int n = bytes.length();
      pair.node.compose(ns -> ns.send(RemoteCommand.frame(RemoteCommand.STDIN, bytes))).onComplete(ar -> {
        pending -= n;
        if (paused && pending < PAUSE_BYTES / 2) {
          paused = false;
          resume.run();
        }
      });
    }
    if (last) pair.node.onSuccess(ns -> ns.send(RemoteCommand.close(RemoteCommand.STDIN)));
  }

  /** A frame from the node for one forwarded connection. */
  private Future<Void> fromNode(String rid, Buffer frame) {
    Pair pair = byRequest.get(rid);
    if (pair == null || closed) return Future.succeededFuture();
    int channel = RemoteCommand.channel(frame);
    if (channel == RemoteCommand.STDOUT) {
      return write(new DefaultSpdyDataFrame(pair.dataStream, Unpooled.wrappedBuffer(RemoteCommand.payload(frame)
          .getBytes())));
    }
    if (channel == RemoteCommand.ERROR && pair.errorStream != 0) {
      return write(new DefaultSpdyDataFrame(pair.errorStream, Unpooled.wrappedBuffer(RemoteCommand.payload(frame)
          .getBytes())));
    }
    if (channel == (RemoteCommand.END & 0xff)) {
      finishPair(rid);
    }
    return Future.succeededFuture();
  }

  /** The pod side ended: half-close both streams towards the client. */
  private void finishPair(String rid) {
    Pair pair = byRequest.remove(rid);
    if (pair == null || pair.serverClosed) return;
    pair.serverClosed = true;
    for (int id : new int[] {pair.dataStream, pair.errorStream}) {
      if (id == 0) continue;
      DefaultSpdyDataFrame fin = new DefaultSpdyDataFrame(id);
      fin.setLast(true);
      write(fin);
      requestOfStream.remove(id);
    }
    if (pair.node != null) pair.node.onSuccess(NodeStream::close);
  }

  /** The client reset a stream: drop the connection to the pod. */
  private void closePair(String rid) {
    Pair pair = byRequest.remove(rid);
    if (pair == null) return;
    requestOfStream.remove(pair.dataStream);
    requestOfStream.remove(pair.errorStream);
    if (pair.node != null) pair.node.onSuccess(NodeStream::close);
  }

  private Future<Void> write(Object frame) {
    if (closed) {
      ReferenceCountUtil.release(frame);
      return Future.succeededFuture();
    }
    codec.writeOutbound(frame);
    Buffer out = Buffer.buffer();
    ByteBuf b;
    while ((b = codec.readOutbound()) != null) {
      try {
        out.appendBytes(ByteBufUtil.bytes(b));
      } finally {
        b.release();
      }
    }
    return out.length() == 0 ? Future.succeededFuture() : transport.apply(out);
  }

  /** The client connection closed (or the server is closing it). */
  void close() {
    if (closed) return;
    write(new DefaultSpdyGoAwayFrame(0));
    closed = true;
    for (String rid : new java.util.ArrayList<>(byRequest.keySet())) closePair(rid);
    codec.finishAndReleaseAll();
  }

  /** Netty's copy-out helper, kept local so the rest reads as plain Vert.x buffers. */
  private static final class ByteBufUtil {
    static byte[] bytes(ByteBuf b) {
      return io.netty.buffer.ByteBufUtil.getBytes(b);
    }
  }
}
