package io.kvx.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The channel.k8s.io stream protocol of exec and attach (v4 and v5), as kubectl speaks it over a
 * WebSocket: every binary message starts with one byte naming its channel. kvx uses the same framing
 * between the API server and the node agent, plus two internal markers that never reach a client.
 * Pure.
 */
public final class RemoteCommand {

  public static final String V5 = "v5.channel.k8s.io";
  public static final String V4 = "v4.channel.k8s.io";
  /** Subprotocols the API server offers for exec and attach, best first. */
  public static final List<String> PROTOCOLS = List.of(V5, V4, "v3.channel.k8s.io", "v2.channel.k8s.io",
      "channel.k8s.io");

  public static final byte STDIN = 0;
  public static final byte STDOUT = 1;
  public static final byte STDERR = 2;
  /** The final Status of the command, JSON. */
  public static final byte ERROR = 3;
  /** A terminal size, JSON {"Width": w, "Height": h}. */
  public static final byte RESIZE = 4;
  /** v5: {255, channel} says the sender will write no more on that channel (stdin's EOF). */
  public static final byte CLOSE = (byte) 255;
  /** kvx-internal: the session is over (node → API server) or the client went away (API server → node). */
  public static final byte END = (byte) 254;

  private RemoteCommand() {
  }

  public static Buffer frame(byte channel, Buffer data) {
    return Buffer.buffer(data.length() + 1).appendByte(channel).appendBuffer(data);
  }

  public static Buffer frame(byte channel, byte[] data, int offset, int length) {
    return Buffer.buffer(length + 1).appendByte(channel).appendBytes(data, offset, length);
  }

  public static Buffer frame(byte channel, String text) {
    return frame(channel, Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)));
  }

  public static Buffer close(byte channel) {
    return Buffer.buffer(2).appendByte(CLOSE).appendByte(channel);
  }

  public static Buffer end() {
    return Buffer.buffer(1).appendByte(END);
  }

  /** The channel of a frame, as an unsigned number (so CLOSE is 255), or -1 for an empty frame. */
  public static int channel(Buffer frame) {
    return frame.length() == 0 ? -1 : frame.getUnsignedByte(0);
  }

  public static Buffer payload(Buffer frame) {
    return frame.length() <= 1 ? Buffer.buffer() : frame.slice(1, frame.length());
  }

  /** The Status that tells kubectl the command succeeded. */
  public static JsonObject success() {
    return new JsonObject().put("metadata", new JsonObject()).put("status", "Success");
  }

  /**
   * The Status for a command that ended with a non-zero code: kubectl reads the code from the cause
   * of reason ExitCode and exits with it.
   */
  public static JsonObject exitCode(int code, List<String> command) {
    return new JsonObject().put("metadata", new JsonObject()).put("status", "Failure")
        .put("message", "command terminated with non-zero exit code: error executing command " + command
            + ", exit code " + code)
        .put("reason", "NonZeroExitCode")
        .put("details", new JsonObject().put("causes", new JsonArray().add(new JsonObject()
            .put("reason", "ExitCode").put("message", String.valueOf(code)))));
  }

  /** The Status for a command that could not run at all (the message is shown to the user). */
  public static JsonObject failure(String message) {
    return new JsonObject().put("metadata", new JsonObject()).put("status", "Failure").put("message", message)
        .put("reason", "InternalError").put("code", 500);
  }

  /** The status a node reports: success for 0, NonZeroExitCode otherwise. */
  public static JsonObject status(int code, List<String> command) {
    return code == 0 ? success() : exitCode(code, command);
  }

  /** The exit code a Status carries, as kubectl reads it: 0 for Success, null when it names none. */
  public static Integer exitCodeOf(JsonObject status) {
    if ("Success".equals(status.getString("status"))) return 0;
    if (!"NonZeroExitCode".equals(status.getString("reason"))) return null;
    JsonArray causes = status.getJsonObject("details", new JsonObject()).getJsonArray("causes", new JsonArray());
    for (Object o : causes) {
      JsonObject c = (JsonObject) o;
      if ("ExitCode".equals(c.getString("reason"))) {
        try {
          return Integer.parseInt(c.getString("message", ""));
        } catch (NumberFormatException e) {
          return null;
        }
      }
    }
    return null;
  }

  /** A resize payload as {width, height}; null when it is not one. */
  public static int[] resize(Buffer payload) {
    try {
      JsonObject o = new JsonObject(payload.toString(StandardCharsets.UTF_8));
      Integer w = o.getInteger("Width");
      Integer h = o.getInteger("Height");
      return w == null || h == null ? null : new int[] {w, h};
    } catch (RuntimeException e) {
      return null;
    }
  }
}
