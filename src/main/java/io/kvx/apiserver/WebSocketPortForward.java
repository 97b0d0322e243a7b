package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.RemoteCommand;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * port-forward in the plain WebSocket channel protocol that the client libraries speak (fabric8, client-java,
 * client-node; kubectl uses SPDY inside a WebSocket, {@link SpdyPortForward}): the ports come in the query
 * ({@code ports=8080,9090}); port i has data channel 2i and error channel 2i+1; the server first writes each channel's
 * port number (two bytes, little-endian), then data frames are {channel, bytes...} both ways. One node session per
 * port; the socket closes when every port's session has ended.
 */
final class WebSocketPortForward {

  private final Consumer<Buffer> toClient;
  private final Runnable closeClient;
  private final List<Future<NodeStream>> sessions = new ArrayList<>();
  private int open;

  /**
   * @param ports       the ports asked for, in the query's order
   * @param toClient    writes one binary message to the client
   * @param closeClient closes the client's socket
   * @param opener      opens a node session for a port, given the handler of the node's frames
   */
  WebSocketPortForward(List<Integer> ports, Consumer<Buffer> toClient, Runnable closeClient,
                       BiFunction<Integer, Function<Buffer, Future<Void>>, Future<NodeStream>> opener) {
    this.toClient = toClient;
    this.closeClient = closeClient;
    this.open = ports.size();
    for (int i = 0; i < ports.size(); i++) {
      int port = ports.get(i);
      byte data = (byte) (2 * i);
      byte error = (byte) (2 * i + 1);
      toClient.accept(Buffer.buffer(3).appendByte(data).appendUnsignedShortLE(port));
      toClient.accept(Buffer.buffer(3).appendByte(error).appendUnsignedShortLE(port));
      sessions.add(opener.apply(port, frame -> fromNode(data, error, frame)).onFailure(e -> {
        toClient.accept(RemoteCommand.frame(error, "error forwarding port " + port + ": " + e.getMessage()));
        ended();
      }));
    }
  }

  /** The ports of a request's {@code ports} parameters (repeated or comma-separated); a 400 for a bad one. */
  static List<Integer> ports(List<String> params) {
    List<Integer> out = new ArrayList<>();
    for (String p : params) {
      for (String one : p.split(",")) {
        if (one.isBlank()) continue;
        int port;
        try {
          port = Integer.parseInt(one.trim());
        } catch (NumberFormatException e) {
          port = -1;
        }
        if (port < 1 || port > 65535) throw ApiError.badRequest("invalid port \"" + one.trim() + "\"");
        out.add(port);
      }
    }
    if (out.isEmpty()) throw ApiError.badRequest("at least one port must be specified (the ports parameter)");
    return out;
  }

  /** A binary message from the client: {data channel, bytes...} for one of the ports. */
  void receive(Buffer message) {
    int channel = RemoteCommand.channel(message);
    if (channel < 0 || channel % 2 != 0 || channel / 2 >= sessions.size() || message.length() <= 1) return;
    Buffer payload = message.getBuffer(1, message.length());
    sessions.get(channel / 2).onSuccess(ns -> ns.send(RemoteCommand.frame(RemoteCommand.STDIN, payload)));
  }

  private Future<Void> fromNode(byte data, byte error, Buffer frame) {
    int channel = RemoteCommand.channel(frame);
    if (channel == RemoteCommand.STDOUT) {
      toClient.accept(RemoteCommand.frame(data, RemoteCommand.payload(frame)));
    } else if (channel == RemoteCommand.ERROR) {
      toClient.accept(RemoteCommand.frame(error, RemoteCommand.payload(frame)));
    } else if (channel == (RemoteCommand.END & 0xff)) {
      ended();
    }
    return Future.succeededFuture();
  }

  private void ended() {
    if (--open == 0) closeClient.run();
  }

  /** The client went away: end every node session. */
  void close() {
    for (Future<NodeStream> s : sessions) s.onSuccess(NodeStream::close);
  }
}
