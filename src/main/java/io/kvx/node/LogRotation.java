package io.kvx.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The kubelet's container log rotation (containerLogMaxSize, containerLogMaxFiles): a log over the size
 * is renamed to {@code <name>.<yyyyMMdd-HHmmss>} and the shim's next line starts a new file; only the
 * newest {@code maxFiles - 1} rotated files are kept. {@code kubectl logs} reads the current file, as
 * it does from a kubelet. Blocking.
 */
final class LogRotation {

  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  private LogRotation() {
  }

  /** Rotates the log if it is larger than {@code maxBytes}; true when it did. */
  static boolean rotate(Path log, long maxBytes, int maxFiles) throws IOException {
    if (maxBytes <= 0 || !Files.isRegularFile(log) || Files.size(log) <= maxBytes) return false;
    String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(STAMP);
    Path target = log.resolveSibling(log.getFileName() + "." + stamp);
    for (int i = 1; Files.exists(target); i++) target = log.resolveSibling(log.getFileName() + "." + stamp + "-" + i);
    Files.move(log, target);
    List<Path> rotated = rotated(log);
    for (int i = 0; i < rotated.size() - Math.max(0, maxFiles - 1); i++) Files.deleteIfExists(rotated.get(i));
    return true;
  }

  /** The rotated files of a log, oldest first. */
  static List<Path> rotated(Path log) throws IOException {
    String prefix = log.getFileName() + ".";
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(log.getParent())) return out;
    try (Stream<Path> s = Files.list(log.getParent())) {
      s.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().forEach(out::add);
    }
    return out;
  }
}
