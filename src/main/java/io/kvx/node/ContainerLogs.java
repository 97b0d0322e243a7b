package io.kvx.node;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;

/**
 * Container log lines and the pods/log options over them. Files are in the CRI format the shim
 * writes ({@code <RFC3339Nano> stdout|stderr F|P <text>}); lines of older files, written without a
 * prefix, pass through as they are (no time, so no timestamp and never filtered out by since). Pure.
 */
public final class ContainerLogs {

  /** One line of a log file; {@code time} and {@code stamp} are null for a line without a prefix. */
  public record Line(Instant time, String stamp, String stream, boolean partial, String text) {

    /** The line as pods/log returns it: its text (and newline unless partial), optionally after its time. */
    public String render(boolean timestamps) {
      String body = partial ? text : text + "\n";
      return timestamps && stamp != null ? stamp + " " + body : body;
    }
  }

  /** pods/log query parameters that shape the output; null means not given. */
  public record Options(boolean timestamps, Instant since, Integer tailLines, Long limitBytes, boolean follow) {

    public boolean accepts(Line line) {
      return since == null || line.time() == null || !line.time().isBefore(since);
    }
  }

  private ContainerLogs() {
  }

  /** Parses one line (without its newline). */
  public static Line parse(String raw) {
    int s1 = raw.indexOf(' ');
    if (s1 > 20 && raw.charAt(4) == '-' && raw.charAt(10) == 'T' && raw.charAt(s1 - 1) == 'Z') {
      int s2 = raw.indexOf(' ', s1 + 1);
      if (s2 > 0 && s2 + 2 <= raw.length()) {
        String stream = raw.substring(s1 + 1, s2);
        char tag = raw.charAt(s2 + 1);
        boolean spaced = s2 + 2 == raw.length() || raw.charAt(s2 + 2) == ' ';
        if ((stream.equals("stdout") || stream.equals("stderr")) && (tag == 'F' || tag == 'P') && spaced) {
          try {
            String stamp = raw.substring(0, s1);
            return new Line(Instant.parse(stamp), stamp, stream, tag == 'P',
                s2 + 3 <= raw.length() ? raw.substring(s2 + 3) : "");
          } catch (DateTimeParseException e) {
            // not a prefix after all
          }
        }
      }
    }
    return new Line(null, null, "stdout", false, raw);
  }

  /**
   * Where reading starts so that only the last {@code n} lines are read: the byte offset of the first
   * of them in {@code data} (the whole file), counting only complete lines plus a trailing partial one.
   */
  public static int tailOffset(byte[] data, int length, int n) {
    if (n <= 0) return length;
    ArrayDeque<Integer> starts = new ArrayDeque<>(Math.min(n, 1024) + 1);
    int start = 0;
    for (int i = 0; i < length; i++) {
      if (data[i] == '\n') {
        starts.addLast(start);
        if (starts.size() > n) starts.removeFirst();
        start = i + 1;
      }
    }
    if (start < length) {
      starts.addLast(start);
      if (starts.size() > n) starts.removeFirst();
    }
    return starts.isEmpty() ? length : starts.peekFirst();
  }

  /** Splits complete lines off a byte chunk: returns where the unfinished rest starts. */
  public static int completeLines(byte[] data, int length, java.util.function.Consumer<String> sink) {
    int start = 0;
    for (int i = 0; i < length; i++) {
      if (data[i] == '\n') {
        sink.accept(new String(data, start, i - start, StandardCharsets.UTF_8));
        start = i + 1;
      }
    }
    return start;
  }
}
