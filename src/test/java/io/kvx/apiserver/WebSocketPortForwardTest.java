package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebSocketPortForwardTest {

  @Test
  void portsComeRepeatedOrCommaSeparated() {
    assertEquals(List.of(8080, 9090, 53), WebSocketPortForward.ports(List.of("8080,9090", "53")));
    assertEquals(400, assertThrows(ApiError.class, () -> WebSocketPortForward.ports(List.of())).code());
    assertEquals(400, assertThrows(ApiError.class, () -> WebSocketPortForward.ports(List.of("http"))).code());
    assertEquals(400, assertThrows(ApiError.class, () -> WebSocketPortForward.ports(List.of("70000"))).code());
  }

  @Test
  void eachChannelFirstCarriesItsPortAndAFailedSessionReportsOnTheErrorChannel() {
    List<Buffer> sent = new ArrayList<>();
    boolean[] closed = {false};
    new WebSocketPortForward(List.of(8080, 443), sent::add, () -> closed[0] = true,
        (port, onFrame) -> Future.failedFuture("connection refused"));
    // data 0 and error 1 name 8080 (0x1f90, little-endian); then channels 2 and 3 name 443
    assertEquals(Buffer.buffer(new byte[] {0, (byte) 0x90, 0x1f}), sent.get(0));
    assertEquals(Buffer.buffer(new byte[] {1, (byte) 0x90, 0x1f}), sent.get(1));
    assertEquals(Buffer.buffer(new byte[] {2, (byte) 0xbb, 0x01}), sent.get(3));
    assertEquals(Buffer.buffer(new byte[] {3, (byte) 0xbb, 0x01}), sent.get(4));
    assertEquals(1, sent.get(2).getByte(0));
    assertTrue(sent.get(2).getBuffer(1, sent.get(2).length()).toString().contains("8080"));
    assertTrue(closed[0], "every session ended: the socket closes");
  }
}
