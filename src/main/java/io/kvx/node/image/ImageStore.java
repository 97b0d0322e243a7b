package io.kvx.node.image;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The node's local images: each is a directory holding an unpacked rootfs and its OCI image config
 * (Entrypoint, Cmd, Env, WorkingDir). References are normalized as Docker does
 * ({@code busybox} is {@code docker.io/library/busybox:latest}). Blocking.
 */
public final class ImageStore {

  /** A local image: where its root file system is and its runtime config. */
  public record Image(String reference, Path rootfs, JsonObject config, long sizeBytes) {}

  private static final List<String> BUSYBOX_DIRS = List.of("bin", "sbin", "usr/bin", "usr/sbin", "etc", "tmp",
      "proc", "sys", "dev", "root", "var/www", "home");

  private final Path root;

  public ImageStore(Path root) {
    this.root = root;
  }

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

  private Path dir(String normalized) {
    return root.resolve(normalized.replace("/", "_").replace(":", "+").replace("@", "%"));
  }

  /** The image, or null when it is not on this node. */
  public Image find(String ref) throws IOException {
    String n = normalize(ref);
    Path d = dir(n);
    if (!Files.isDirectory(d.resolve("rootfs"))) return null;
    JsonObject cfg = new JsonObject(Files.readString(d.resolve("config.json")));
    return new Image(n, d.resolve("rootfs"), cfg, cfg.getLong("size", 0L));
  }

  public List<Image> list() throws IOException {
    List<Image> out = new ArrayList<>();
    if (!Files.isDirectory(root)) return out;
    try (Stream<Path> s = Files.list(root)) {
      for (Path d : s.toList()) {
        Path cfgFile = d.resolve("config.json");
        if (!Files.exists(cfgFile)) continue;
        JsonObject cfg = new JsonObject(Files.readString(cfgFile));
        out.add(new Image(cfg.getString("reference"), d.resolve("rootfs"), cfg, cfg.getLong("size", 0L)));
      }
    }
    return out;
  }

  /**
   * Builds {@code busybox:latest} from a static busybox binary: /bin/busybox plus a link per applet,
   * the way the official busybox image is laid out, with Cmd ["sh"].
   */
  public String prepareBusybox(Path busybox) throws IOException {
    String ref = normalize("busybox");
    Path d = dir(ref);
    Path rootfs = d.resolve("rootfs");
    if (Files.exists(d.resolve("config.json"))) return ref;
    if (!Files.isRegularFile(busybox)) throw new IOException("no busybox binary at " + busybox
        + " (install Debian's busybox-static)");
    Path tmp = root.resolve(".tmp-" + ProcessHandle.current().pid());
    Path tmpRoot = tmp.resolve("rootfs");
    for (String sub : BUSYBOX_DIRS) Files.createDirectories(tmpRoot.resolve(sub));
    Files.copy(busybox, tmpRoot.resolve("bin/busybox"), StandardCopyOption.REPLACE_EXISTING);
    tmpRoot.resolve("bin/busybox").toFile().setExecutable(true, false);
    Process p = new ProcessBuilder(busybox.toString(), "--list").redirectErrorStream(true).start();
    String applets = new String(p.getInputStream().readAllBytes());
    for (String applet : applets.split("\\s+")) {
      if (applet.isBlank() || applet.equals("busybox")) continue;
      Path link = tmpRoot.resolve("bin").resolve(applet);
      if (!Files.exists(link)) Files.createSymbolicLink(link, Path.of("busybox"));
    }
    Files.writeString(tmpRoot.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n");
    Files.writeString(tmpRoot.resolve("etc/group"), "root:x:0:\nnobody:x:65534:\n");
    JsonObject cfg = new JsonObject().put("reference", ref)
        .put("Cmd", new JsonArray().add("sh"))
        .put("Env", new JsonArray().add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"))
        .put("WorkingDir", "/")
        .put("size", Files.size(busybox));
    Files.writeString(tmp.resolve("config.json"), cfg.encodePrettily());
    Files.createDirectories(root);
    Files.move(tmp, d, StandardCopyOption.ATOMIC_MOVE);
    return ref;
  }
}
