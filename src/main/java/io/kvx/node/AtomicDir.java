package io.kvx.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A volume directory whose files change all at once, laid out as the kubelet's atomic writer lays out configMap,
 * secret, downwardAPI and projected volumes: the files live in a timestamped directory {@code ..2026_11_24_...}, a
 * symlink {@code ..data} names the current one, and each visible name is a symlink through {@code ..data}. An
 * update writes a new timestamped directory and renames a new {@code ..data} over the old one, so a reader in the
 * container sees either the old files or the new ones, never a mix. Blocking (file I/O).
 */
final class AtomicDir {

  /** One file of a payload: its bytes and its permission bits (e.g. 0644). */
  record File(byte[] content, int mode) {}

  static final String DATA = "..data";
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy_MM_dd_HH_mm_ss.SSSSSSSSS");

  private AtomicDir() {
  }

  /**
   * Makes {@code dir} hold exactly {@code payload} (relative paths); false when it already did (nothing written).
   * Files of an older, plain layout in the directory are replaced.
   */
  static boolean write(Path dir, Map<String, File> payload) throws IOException {
    Files.createDirectories(dir);
    Path data = dir.resolve(DATA);
    if (Files.isSymbolicLink(data) && holds(dir.resolve(Files.readSymbolicLink(data)), payload)) return false;
    Path stamped = Files.createDirectory(dir.resolve(".." + LocalDateTime.now(ZoneOffset.UTC).format(STAMP)));
    for (Map.Entry<String, File> f : payload.entrySet()) {
      Path file = stamped.resolve(f.getKey());
      Files.createDirectories(file.getParent());
      Files.write(file, f.getValue().content());
      Files.setPosixFilePermissions(file, permissions(f.getValue().mode()));
    }
    Path next = dir.resolve("..data_tmp");
    Files.deleteIfExists(next);
    Files.createSymbolicLink(next, stamped.getFileName());
    Files.move(next, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Set<String> visible = new HashSet<>();
    for (String path : payload.keySet()) visible.add(path.split("/", 2)[0]);
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path p : entries.toList()) {
        String name = p.getFileName().toString();
        boolean internal = name.startsWith("..");
        if (internal ? !name.equals(DATA) && !p.equals(stamped) : !visible.contains(name) || !Files.isSymbolicLink(p)) {
          deleteTree(p);
        }
      }
    }
    for (String name : visible) {
      Path link = dir.resolve(name);
      if (!Files.isSymbolicLink(link)) Files.createSymbolicLink(link, Path.of(DATA, name));
    }
    return true;
  }

  /** Whether the directory holds exactly these files with these contents and modes. */
  private static boolean holds(Path current, Map<String, File> payload) throws IOException {
    if (!Files.isDirectory(current)) return false;
    List<Path> files;
    try (Stream<Path> s = Files.walk(current)) {
      files = s.filter(Files::isRegularFile).toList();
    }
    if (files.size() != payload.size()) return false;
    for (Path f : files) {
      File want = payload.get(current.relativize(f).toString());
      if (want == null) return false;
      // Group bits aside: an fsGroup adds group read after the write.
      Set<PosixFilePermission> have = EnumSet.noneOf(PosixFilePermission.class);
      have.addAll(Files.getPosixFilePermissions(f));
      Set<PosixFilePermission> expected = permissions(want.mode() & ~0070);
      have.removeAll(permissions(0070));
      if (want == null || !Arrays.equals(want.content(), Files.readAllBytes(f)) || !have.equals(expected)) {
        return false;
      }
    }
    return true;
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] bits = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
        PosixFilePermission.OWNER_READ};
    for (int i = 0; i < bits.length; i++) {
      if ((mode & (1 << i)) != 0) out.add(bits[i]);
    }
    return out;
  }

  private static void deleteTree(Path p) throws IOException {
    if (Files.isSymbolicLink(p) || !Files.isDirectory(p)) {
      Files.deleteIfExists(p);
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
    }
  }
}
