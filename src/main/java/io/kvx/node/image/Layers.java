package io.kvx.node.image;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Applies image layers (tar, optionally gzip-compressed) onto a root file system the way the OCI
 * image spec says: entries in order, {@code .wh.NAME} deletes NAME from the layers below, and
 * {@code .wh..wh..opq} empties its directory of what the layers below put there. Paths never leave
 * the root: {@code ..} is refused and symbolic links met on the way are resolved inside the root,
 * as if chrooted. Ownership and modes are kept (as root); device nodes are skipped (the runtime
 * provides /dev). Blocking.
 */
final class Layers {

  static final String WHITEOUT = ".wh.";
  static final String OPAQUE = ".wh..wh..opq";

  private Layers() {
  }

  /** Opens a layer blob, gunzipping it when it starts with gzip's magic bytes. */
  static InputStream open(Path blob) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(blob), 1 << 16);
    in.mark(2);
    int b1 = in.read();
    int b2 = in.read();
    in.reset();
    return b1 == 0x1f && b2 == 0x8b ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in;
  }

  /** Applies one layer: first its whiteouts (they only hide what is below), then its entries. */
  static void apply(Path root, Supplier<InputStream> layer) throws IOException {
    List<String> whiteouts = new ArrayList<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(layer.get())) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        String name = clean(e.getName());
        String base = name.substring(name.lastIndexOf('/') + 1);
        if (base.startsWith(WHITEOUT)) whiteouts.add(name);
      }
    }
    for (String w : whiteouts) {
      String dir = w.contains("/") ? w.substring(0, w.lastIndexOf('/')) : "";
      String base = w.substring(w.lastIndexOf('/') + 1);
      Path parent = resolve(root, dir);
      if (parent == null || !Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) continue;
      if (base.equals(OPAQUE)) {
        try (Stream<Path> s = Files.list(parent)) {
          for (Path p : s.toList()) deleteTree(p);
        }
      } else {
        deleteTree(parent.resolve(base.substring(WHITEOUT.length())));
      }
    }
    try (TarArchiveInputStream tar = new TarArchiveInputStream(layer.get())) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        String name = clean(e.getName());
        if (name.isEmpty() || name.substring(name.lastIndexOf('/') + 1).startsWith(WHITEOUT)) continue;
        String dir = name.contains("/") ? name.substring(0, name.lastIndexOf('/')) : "";
        Path parent = resolve(root, dir);
        if (parent == null) continue;
        Files.createDirectories(parent);
        Path target = parent.resolve(name.substring(name.lastIndexOf('/') + 1));
        if (e.isDirectory()) {
          if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            deleteTree(target);
            Files.createDirectory(target);
          }
        } else if (e.isSymbolicLink()) {
          deleteTree(target);
          Files.createSymbolicLink(target, Path.of(e.getLinkName()));
        } else if (e.isLink()) {
          Path existing = resolve(root, clean(e.getLinkName()));
          if (existing == null || !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) continue;
          deleteTree(target);
          Files.createLink(target, existing);
          continue; // a hard link shares its target's mode and owner
        } else if (e.isFile()) {
          deleteTree(target);
          Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
        } else {
          continue; // devices and FIFOs
        }
        attributes(target, e);
      }
    }
  }

  private static void attributes(Path p, TarArchiveEntry e) {
    try {
      Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException | SecurityException ex) {
      // not root: the files stay ours
    }
    if (!e.isSymbolicLink()) {
      try {
        Files.setAttribute(p, "unix:mode", e.getMode() & 07777);
      } catch (IOException | UnsupportedOperationException ex) {
        // keep the default mode
      }
    }
  }

  /** An entry name without a leading "./" or "/" and without a trailing "/"; ".." is refused. */
  static String clean(String name) {
    String n = name;
    while (n.startsWith("./") || n.startsWith("/")) n = n.substring(n.startsWith("/") ? 1 : 2);
    while (n.endsWith("/")) n = n.substring(0, n.length() - 1);
    if (n.equals(".")) return "";
    for (String part : n.split("/")) {
      if (part.equals("..")) throw new IllegalArgumentException("layer entry leaves the root: " + name);
    }
    return n;
  }

  /**
   * The real directory for a relative path under root, following symbolic links as if root were "/"
   * (absolute targets start again at root); null when the links loop.
   */
  static Path resolve(Path root, String relative) throws IOException {
    List<String> todo = new ArrayList<>();
    for (String part : relative.split("/")) if (!part.isEmpty() && !part.equals(".")) todo.add(part);
    List<String> done = new ArrayList<>();
    int hops = 0;
    while (!todo.isEmpty()) {
      String part = todo.removeFirst();
      if (part.equals("..")) {
        if (!done.isEmpty()) done.removeLast();
        continue;
      }
      Path here = root;
      for (String d : done) here = here.resolve(d);
      Path next = here.resolve(part);
      if (Files.isSymbolicLink(next)) {
        if (++hops > 40) return null;
        String target = Files.readSymbolicLink(next).toString();
        List<String> parts = new ArrayList<>();
        for (String t : target.split("/")) if (!t.isEmpty() && !t.equals(".")) parts.add(t);
        if (target.startsWith("/")) done.clear();
        todo.addAll(0, parts);
      } else {
        done.add(part);
      }
    }
    Path out = root;
    for (String d : done) out = out.resolve(d);
    return out;
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> s = Files.walk(p)) {
        for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
      }
    } else {
      try {
        Files.delete(p);
      } catch (FileAlreadyExistsException ignored) {
        // raced
      }
    }
  }
}
