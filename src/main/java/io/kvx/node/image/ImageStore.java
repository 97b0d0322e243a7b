package io.kvx.node.image;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The node's local images, as containerd's content and snapshot stores hold them but unpacked once:
 * {@code sha256/<image id>/rootfs} is the image's file system (every layer applied), {@code image.json}
 * beside it its runtime config (Entrypoint, Cmd, Env, WorkingDir, User), layer digests, size and repo
 * digests; {@code refs.json} maps normalized references ({@code busybox} is
 * {@code docker.io/library/busybox:latest}) to image IDs. {@link ImageArchive} fills it from OCI
 * layouts and {@code docker save} tarballs. Blocking.
 */
public final class ImageStore {

  /**
   * A local image: the reference it was found by, its ID (the config's digest), where its root file
   * system is, its runtime config, its size (the content's bytes, as containerd counts them) and every
   * name it goes by (tags and repo digests).
   */
  public record Image(String reference, String id, Path rootfs, JsonObject config, long sizeBytes,
                      List<String> names) {}

  private static final String REFS = "refs.json";

  private final Path root;

  public ImageStore(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /** Docker's normalization: {@code busybox} is {@code docker.io/library/busybox:latest}. */
  public static String normalize(String ref) {
    String r = ref;
    int at = r.indexOf('@');
    String digest = at >= 0 ? r.substring(at) : "";
    if (at >= 0) r = r.substring(0, at);
    String last = r.substring(r.lastIndexOf('/') + 1);
    if (!last.contains(":") && digest.isEmpty()) r = r + ":latest";
    String first = r.contains("/") ? r.substring(0, r.indexOf('/')) : "";
    if (!r.contains("/")) r = "docker.io/library/" + r;
    else if (!first.contains(".") && !first.contains(":") && !first.equals("localhost")) r = "docker.io/" + r;
    return r + digest;
  }

  Path imageDir(String id) {
    return root.resolve("sha256").resolve(id.substring(id.indexOf(':') + 1));
  }

  /** The image a reference (a name, name:tag, name@digest or an image ID) names, or null when absent. */
  public Image find(String ref) throws IOException {
    String id;
    String n;
    if (ref.startsWith("sha256:")) {
      id = ref;
      n = ref;
    } else {
      n = normalize(ref);
      id = refs().get(n);
      if (id == null && n.contains("@")) {
        for (Image img : list()) if (img.names().contains(n)) return img;
      }
    }
    if (id == null) return null;
    Image img = load(id);
    return img == null ? null : new Image(n, img.id(), img.rootfs(), img.config(), img.sizeBytes(), img.names());
  }

  /** Every image with its names (tags first, then repo digests); untagged images too. */
  public List<Image> list() throws IOException {
    List<Image> out = new ArrayList<>();
    Path dir = root.resolve("sha256");
    if (!Files.isDirectory(dir)) return out;
    try (Stream<Path> s = Files.list(dir)) {
      for (Path d : s.sorted().toList()) {
        Image img = load("sha256:" + d.getFileName());
        if (img != null) out.add(img);
      }
    }
    return out;
  }

  private Image load(String id) throws IOException {
    Path d = imageDir(id);
    Path meta = d.resolve("image.json");
    if (!Files.isRegularFile(meta)) return null;
    JsonObject m = new JsonObject(Files.readString(meta));
    List<String> names = new ArrayList<>();
    refs().forEach((ref, target) -> {
      if (target.equals(id)) names.add(ref);
    });
    m.getJsonArray("repoDigests", new JsonArray()).forEach(x -> names.add(String.valueOf(x)));
    String reference = names.isEmpty() ? id : names.getFirst();
    return new Image(reference, id, d.resolve("rootfs"), m.getJsonObject("config", new JsonObject()),
        m.getLong("size", 0L), names);
  }

  /** Reference → image ID. */
  public Map<String, String> refs() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    Path f = root.resolve(REFS);
    if (!Files.isRegularFile(f)) return out;
    new JsonObject(Files.readString(f)).forEach(e -> out.put(e.getKey(), String.valueOf(e.getValue())));
    return out;
  }

  /** Points references at an image (moving them from any other image), under a lock on the store. */
  public void tag(String id, List<String> references) throws IOException {
    if (references.isEmpty()) return;
    Files.createDirectories(root);
    try (FileChannel ch = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
         FileLock ignored = ch.lock()) {
      Map<String, String> refs = refs();
      for (String r : references) refs.put(normalize(r), id);
      Path tmp = root.resolve(REFS + ".tmp");
      Files.writeString(tmp, new JsonObject(new LinkedHashMap<>(refs)).encodePrettily());
      Files.move(tmp, root.resolve(REFS), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * Builds {@code busybox:latest} from a static busybox binary ({@link BusyboxImage}) as an OCI layout
   * tarball under the store and imports it, unless it is already there.
   */
  public String prepareBusybox(Path busybox) throws IOException {
    String ref = normalize("busybox");
    if (find(ref) != null) return ref;
    Files.createDirectories(root);
    Path archive = root.resolve(".busybox-" + ProcessHandle.current().pid() + ".tar");
    try {
      BusyboxImage.write(busybox, archive, BusyboxImage.Format.OCI);
      new ImageArchive(this).importFrom(archive, List.of());
    } finally {
      Files.deleteIfExists(archive);
    }
    return ref;
  }

  /** `kvx image ls`: REPOSITORY TAG IMAGE ID SIZE, one line per tag (untagged images as {@code <none>}). */
  public List<String> table() throws IOException {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"REPOSITORY", "TAG", "IMAGE ID", "SIZE"});
    for (Image img : list()) {
      String shortId = img.id().substring(img.id().indexOf(':') + 1, Math.min(img.id().length(), 7 + 12));
      boolean tagged = false;
      for (String n : img.names()) {
        if (n.contains("@")) continue;
        int colon = n.lastIndexOf(':');
        rows.add(new String[] {n.substring(0, colon), n.substring(colon + 1), shortId, humanSize(img.sizeBytes())});
        tagged = true;
      }
      if (!tagged) rows.add(new String[] {"<none>", "<none>", shortId, humanSize(img.sizeBytes())});
    }
    int[] width = new int[4];
    for (String[] r : rows) for (int i = 0; i < 4; i++) width[i] = Math.max(width[i], r[i].length());
    List<String> out = new ArrayList<>();
    for (String[] r : rows) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < 4; i++) {
        sb.append(r[i]);
        if (i < 3) sb.append(" ".repeat(width[i] - r[i].length() + 3));
      }
      out.add(sb.toString());
    }
    return out;
  }

  /** Sizes as Docker prints them: decimal units, three significant digits. */
  static String humanSize(long bytes) {
    String[] units = {"B", "kB", "MB", "GB", "TB"};
    double v = bytes;
    int u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    String s = v >= 100 || u == 0 ? String.format("%.0f", v) : v >= 10 ? String.format("%.1f", v)
        : String.format("%.2f", v);
    if (s.contains(".")) s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
    return s + units[u];
  }
}
