package io.kvx.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class HandedOverJsonTest {

  private final HandedOverJson codec = new HandedOverJson();

  @Test
  void withinAJvmTheReceiverGetsTheSendersObject() {
    JsonObject request = new JsonObject().put("op", "create").put("object", new JsonObject().put("kind", "ConfigMap"));
    assertSame(request, codec.transform(request));
  }

  @Test
  void betweenJvmsTheObjectTravelsAsJsonAfterWhateverPrecedesIt() {
    JsonObject request = new JsonObject().put("op", "update").put("key", "core/configmaps/default/c")
        .put("expect", 42L).put("object", new JsonObject().put("data", new JsonObject().put("k", "välue ✓"))
            .put("list", new JsonArray().add(1).add("two").addNull()));
    Buffer wire = Buffer.buffer().appendString("header");
    codec.encodeToWire(wire, request);
    wire.appendString("trailer");
    JsonObject received = codec.decodeFromWire("header".length(), wire);
    assertEquals(request, received);
    assertEquals(42L, received.getLong("expect"));
  }
}
