package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.RemoteCommand;
import io.kvx.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The API server's end of one session with a node agent (see {@code node.StreamServer}): frames from
 * the container arrive on a per-session address and are acknowledged when the handler's future
 * completes (when the client connection took them), frames for the container are sent one at a
 * time. The node agent may be in another JVM.
 */
final class NodeStream {

  private static final DeliveryOptions OPEN = new DeliveryOptions().setSendTimeout(15_000);
  private static final DeliveryOptions FRAME = new DeliveryOptions().setSendTimeout(TimeUnit.HOURS.toMillis(12));

  private final Vertx vertx;
  private final String node;
  private final String session;
  private final MessageConsumer<Buffer> consumer;
  private boolean closed;
  private Future<Void> lastSend = Future.succeededFuture();

  private NodeStream(Vertx vertx, String node, String session, MessageConsumer<Buffer> consumer) {
    this.vertx = vertx;
    this.node = node;
    this.session = session;
    this.consumer = consumer;
  }

  /**
   * Opens a session: {@code request} says what (kind, pod uid, container, ...); {@code onFrame} gets
   * every frame from the node, the END frame last. Fails with the node's Status (400 for a container
   * that is not running, ...).
   */
  static Future<NodeStream> open(Vertx vertx, String node, JsonObject request, Function<Buffer, Future<Void>> onFrame) {
    String session = UUID.randomUUID().toString();
    MessageConsumer<Buffer> consumer = vertx.eventBus().consumer(Addresses.apiSession(session));
    consumer.handler((Message<Buffer> m) -> onFrame.apply(m.body()).onComplete(ar -> {
      if (ar.succeeded()) m.reply(null);
      else m.fail(500, String.valueOf(ar.cause().getMessage()));
    }));
    NodeStream s = new NodeStream(vertx, node, session, consumer);
    JsonObject q = request.copy().put("session", session).put("replyTo", Addresses.apiSession(session));
    return consumer.completion()
        .compose(v -> vertx.eventBus().<JsonObject>request(Addresses.nodeStream(node), q, OPEN))
        .<NodeStream>map(reply -> s)
        .recover(e -> {
          consumer.unregister();
          ApiError carried = ApiError.fromReplyFailure(e);
          return Future.failedFuture(carried != null ? carried : new ApiError(ApiError.Reason.InternalError,
              "the node " + node + " did not answer: " + e.getMessage()));
        });
  }

  /** Sends a client frame; frames go out in call order, each after the previous one was taken. */
  Future<Void> send(Buffer frame) {
    Promise<Void> done = Promise.promise();
    // Frames the client sent before it went away still go (an upload closes right after its last byte).
    boolean after = closed;
    lastSend = lastSend.transform(ar -> after ? Future.succeededFuture()
        : vertx.eventBus().request(Addresses.nodeSession(node, session), frame, FRAME).<Void>mapEmpty())
        .onComplete(done);
    return done.future();
  }

  /** The client went away or the session is over: tells the node (it stops the command) and forgets it. */
  void close() {
    if (closed) return;
    closed = true;
    // After whatever is still queued; the node may have ended the session already, which is fine.
    lastSend = lastSend.transform(ar -> vertx.eventBus().request(Addresses.nodeSession(node, session),
        RemoteCommand.end(), FRAME)).<Void>mapEmpty().recover(e -> Future.succeededFuture());
    consumer.unregister();
  }
}
