package io.kvx.node.image;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * The test image: {@code busybox:latest} from a static busybox binary (Debian's busybox-static), laid
 * out as the official image is (/bin/busybox plus a link per applet, /etc/passwd with root and
 * nobody, Cmd ["sh"]), one layer, written as an OCI image layout tarball or as a {@code docker save}
 * tarball. Deterministic: the same binary gives the same digests.
 */
public final class BusyboxImage {

  public enum Format { OCI, DOCKER }

  public static final String REFERENCE = "docker.io/library/busybox:latest";
  private static final List<String> DIRS = List.of("bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr",
      "usr/bin", "usr/sbin", "sbin", "var", "var/www");
  private static final String PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private BusyboxImage() {
  }

  public static void write(Path busybox, Path out, Format format) throws IOException {
    if (!Files.isRegularFile(busybox)) {
      throw new IOException("no busybox binary at " + busybox + " (install Debian's busybox-static)");
    }
    byte[] layer = layer(busybox);
    String diffId = "sha256:" + ImageArchive.sha256(layer);
    JsonObject config = new JsonObject().put("architecture", "amd64").put("os", "linux")
        .put("created", "1970-01-01T00:00:00Z")
        .put("config", new JsonObject().put("Env", new JsonArray().add(PATH_ENV)).put("Cmd", new JsonArray().add("sh"))
            .put("WorkingDir", "/"))
        .put("rootfs", new JsonObject().put("type", "layers").put("diff_ids", new JsonArray().add(diffId)))
        .put("history", new JsonArray().add(new JsonObject().put("created", "1970-01-01T00:00:00Z")
            .put("created_by", "kvx image build-busybox " + busybox.getFileName())));
    byte[] configBytes = config.encode().getBytes(StandardCharsets.UTF_8);
    String configHex = ImageArchive.sha256(configBytes);
    Files.createDirectories(out.toAbsolutePath().getParent());
    try (OutputStream fo = Files.newOutputStream(out); TarArchiveOutputStream tar = new TarArchiveOutputStream(fo)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      if (format == Format.DOCKER) {
        String layerHex = diffId.substring(7);
        file(tar, configHex + ".json", configBytes, 0644);
        file(tar, layerHex + "/layer.tar", layer, 0644);
        JsonArray manifest = new JsonArray().add(new JsonObject().put("Config", configHex + ".json")
            .put("RepoTags", new JsonArray().add("busybox:latest"))
            .put("Layers", new JsonArray().add(layerHex + "/layer.tar")));
        file(tar, "manifest.json", manifest.encode().getBytes(StandardCharsets.UTF_8), 0644);
      } else {
        byte[] gz = gzip(layer);
        String gzHex = ImageArchive.sha256(gz);
        JsonObject manifest = new JsonObject().put("schemaVersion", 2)
            .put("mediaType", "application/vnd.oci.image.manifest.v1+json")
            .put("config", new JsonObject().put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", "sha256:" + configHex).put("size", configBytes.length))
            .put("layers", new JsonArray().add(new JsonObject()
                .put("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip")
                .put("digest", "sha256:" + gzHex).put("size", gz.length)));
        byte[] manifestBytes = manifest.encode().getBytes(StandardCharsets.UTF_8);
        String manifestHex = ImageArchive.sha256(manifestBytes);
        JsonObject index = new JsonObject().put("schemaVersion", 2)
            .put("mediaType", ImageArchive.OCI_INDEX)
            .put("manifests", new JsonArray().add(new JsonObject()
                .put("mediaType", "application/vnd.oci.image.manifest.v1+json")
                .put("digest", "sha256:" + manifestHex).put("size", manifestBytes.length)
                .put("annotations", new JsonObject().put("io.containerd.image.name", REFERENCE)
                    .put("org.opencontainers.image.ref.name", "latest"))));
        file(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8), 0644);
        file(tar, "index.json", index.encode().getBytes(StandardCharsets.UTF_8), 0644);
        file(tar, "blobs/sha256/" + configHex, configBytes, 0644);
        file(tar, "blobs/sha256/" + manifestHex, manifestBytes, 0644);
        file(tar, "blobs/sha256/" + gzHex, gz, 0644);
      }
    }
  }

  /** The one layer: directories, /bin/busybox, a symbolic link per applet, passwd and group. */
  private static byte[] layer(Path busybox) throws IOException {
    Process p = new ProcessBuilder(busybox.toString(), "--list").redirectErrorStream(true).start();
    List<String> applets = new ArrayList<>();
    for (String a : new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\\s+")) {
      if (!a.isBlank() && !a.equals("busybox")) applets.add(a);
    }
    applets.sort(null);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (String d : DIRS) {
        TarArchiveEntry e = new TarArchiveEntry(d + "/");
        e.setMode(d.equals("tmp") ? 01777 : 0755);
        e.setModTime(0);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
      }
      file(tar, "bin/busybox", Files.readAllBytes(busybox), 0755);
      for (String a : applets) {
        TarArchiveEntry e = new TarArchiveEntry("bin/" + a, TarConstants.LF_SYMLINK);
        e.setLinkName("busybox");
        e.setModTime(0);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
      }
      file(tar, "etc/passwd", ("root:x:0:0:root:/root:/bin/sh\n"
          + "nobody:x:65534:65534:nobody:/home:/bin/false\n").getBytes(StandardCharsets.UTF_8), 0644);
      file(tar, "etc/group", "root:x:0:\nnobody:x:65534:\n".getBytes(StandardCharsets.UTF_8), 0644);
    }
    return bytes.toByteArray();
  }

  private static void file(TarArchiveOutputStream tar, String name, byte[] data, int mode) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(data.length);
    e.setMode(mode);
    e.setModTime(0);
    tar.putArchiveEntry(e);
    tar.write(data);
    tar.closeArchiveEntry();
  }

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    }
    return out.toByteArray();
  }
}
