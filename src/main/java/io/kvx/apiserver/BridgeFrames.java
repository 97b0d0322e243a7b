package io.kvx.apiserver;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.ext.eventbus.bridge.tcp.impl.protocol.FrameHelper;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.function.Function;

/**
 * The event-bus bridge's frames (a 4-byte big-endian length, then that many bytes of JSON) checked before Vert.x's
 * bridge parses them: a frame longer than the limit is answered with an {@code err} frame and the connection closed
 * before its bytes are buffered; one that is not a JSON object, or that {@code check} refuses, is answered with an
 * {@code err} frame naming what is wrong and dropped, the connection staying open.
 */
final class BridgeFrames {

  private BridgeFrames() {
  }

  /**
   * The socket as the bridge should see it: the data handler it sets receives whole, checked frames only; every
   * other call goes to {@code socket}.
   */
  static NetSocket checked(NetSocket socket, int maxFrame, Function<JsonObject, String> check) {
    NetSocket[] self = new NetSocket[1];
    self[0] = (NetSocket) Proxy.newProxyInstance(NetSocket.class.getClassLoader(), new Class<?>[] {NetSocket.class},
        (proxy, method, args) -> {
          if (method.getName().equals("handler") && args != null && args.length == 1) {
            @SuppressWarnings("unchecked")
            Handler<Buffer> next = (Handler<Buffer>) args[0];
            socket.handler(next == null ? null : parser(socket, maxFrame, check, next));
            return self[0];
          }
          if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
              case "equals" -> proxy == args[0];
              case "hashCode" -> System.identityHashCode(proxy);
              default -> "checked " + socket;
            };
          }
          try {
            Object result = method.invoke(socket, args);
            return result == socket ? self[0] : result;
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    return self[0];
  }

  private static Handler<Buffer> parser(NetSocket socket, int maxFrame, Function<JsonObject, String> check,
                                        Handler<Buffer> next) {
    RecordParser parser = RecordParser.newFixed(4);
    parser.handler(new Handler<>() {
      private boolean header = true;

      @Override
      public void handle(Buffer record) {
        if (header) {
          int length = record.getInt(0);
          if (length < 0 || length > maxFrame) {
            FrameHelper.sendErrFrame("frame_too_large: a frame of " + Integer.toUnsignedString(length)
                + " bytes is over the limit of " + maxFrame, socket);
            socket.close();
            parser.handler(null);
            return;
          }
          if (length == 0) {
            FrameHelper.sendErrFrame("invalid_frame: an empty frame", socket);
            return;
          }
          header = false;
          parser.fixedSizeMode(length);
          return;
        }
        header = true;
        parser.fixedSizeMode(4);
        String error;
        try {
          error = check.apply(new JsonObject(record.toString(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
          error = "invalid_json: a frame must be a JSON object (" + e.getMessage() + ")";
        }
        if (error != null) {
          FrameHelper.sendErrFrame(error, socket);
          return;
        }
        next.handle(Buffer.buffer(record.length() + 4).appendInt(record.length()).appendBuffer(record));
      }
    });
    return parser;
  }
}
