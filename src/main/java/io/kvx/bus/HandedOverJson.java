package io.kvx.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * A JSON message the sender hands over: within a JVM the receiver gets the sender's object itself, not the deep
 * copy Vert.x's JSON codec makes for every local delivery; between JVMs it travels as JSON text, as Vert.x's
 * codec sends it. Only for messages the sender never touches again and the receiver only reads (the store's
 * write requests: the sequencer copies what it keeps).
 */
public final class HandedOverJson implements MessageCodec<JsonObject, JsonObject> {

  public static final String NAME = "kvx.handed-over-json";

  /** Registers the codec on {@code vertx}'s event bus once; every JVM that sends or receives such messages does. */
  public static void register(Vertx vertx) {
    synchronized (HandedOverJson.class) {
      try {
        vertx.eventBus().registerCodec(new HandedOverJson());
      } catch (IllegalStateException alreadyRegistered) {
        // registered by another component of this JVM
      }
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, JsonObject json) {
    Buffer encoded = json.toBuffer();
    buffer.appendInt(encoded.length());
    buffer.appendBuffer(encoded);
  }

  @Override
  public JsonObject decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    return new JsonObject(buffer.slice(pos + 4, pos + 4 + length));
  }

  @Override
  public JsonObject transform(JsonObject json) {
    return json;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
