package io.kvx.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class RemoteCommandTest {

  @Test
  void framesStartWithTheirChannel() {
    Buffer f = RemoteCommand.frame(RemoteCommand.STDERR, "oops");
    assertEquals(2, RemoteCommand.channel(f));
    assertEquals("oops", RemoteCommand.payload(f).toString());
    assertEquals(-1, RemoteCommand.channel(Buffer.buffer()));
    assertEquals(0, RemoteCommand.payload(Buffer.buffer().appendByte((byte) 1)).length());
    byte[] data = {9, 8, 7, 6};
    assertArrayEquals(new byte[] {1, 8, 7}, RemoteCommand.frame(RemoteCommand.STDOUT, data, 1, 2).getBytes());
  }

  @Test
  void closeAndEndAreUnsignedChannels() {
    Buffer close = RemoteCommand.close(RemoteCommand.STDIN);
    assertEquals(255, RemoteCommand.channel(close));
    assertArrayEquals(new byte[] {(byte) 255, 0}, close.getBytes());
    assertEquals(254, RemoteCommand.channel(RemoteCommand.end()));
  }

  @Test
  void successIsWhatKubectlTreatsAsExitZero() {
    JsonObject s = RemoteCommand.status(0, List.of("true"));
    assertEquals("Success", s.getString("status"));
    assertEquals(0, RemoteCommand.exitCodeOf(s));
  }

  @Test
  void nonZeroExitCarriesTheCodeAsACause() {
    JsonObject s = RemoteCommand.status(3, List.of("sh", "-c", "exit 3"));
    assertEquals("Failure", s.getString("status"));
    assertEquals("NonZeroExitCode", s.getString("reason"));
    JsonObject cause = s.getJsonObject("details").getJsonArray("causes").getJsonObject(0);
    assertEquals("ExitCode", cause.getString("reason"));
    assertEquals("3", cause.getString("message"));
    assertEquals(3, RemoteCommand.exitCodeOf(s));
    assertEquals("command terminated with non-zero exit code: error executing command [sh, -c, exit 3], exit code 3",
        s.getString("message"));
  }

  @Test
  void aFailureWithoutAnExitCodeHasNone() {
    assertNull(RemoteCommand.exitCodeOf(RemoteCommand.failure("no such container")));
  }

  @Test
  void resizeIsWidthAndHeight() {
    assertArrayEquals(new int[] {120, 40}, RemoteCommand.resize(Buffer.buffer("{\"Width\":120,\"Height\":40}")));
    assertNull(RemoteCommand.resize(Buffer.buffer("{\"Width\":120}")));
    assertNull(RemoteCommand.resize(Buffer.buffer("not json")));
  }
}
