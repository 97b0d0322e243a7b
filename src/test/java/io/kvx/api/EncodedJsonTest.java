package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class EncodedJsonTest {

  @Test
  void theTextIsFoundForTheSameInstanceOnly() {
    JsonObject o = new JsonObject().put("a", 1);
    EncodedJson.remember(o, o.encode());
    assertEquals("{\"a\":1}", EncodedJson.of(o));
    // An equal object is another instance: it may be changed independently, so it is encoded anew.
    assertNull(EncodedJson.of(o.copy()));
    assertNull(EncodedJson.of(new JsonObject()));
  }
}
