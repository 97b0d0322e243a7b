package io.kvx.node.image;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageArchiveTest {

  @TempDir
  Path tmp;

  @Test
  void busyboxAsOciLayoutAndAsDockerSaveImportToTheSameImage() throws Exception {
    Path busybox = Path.of("/bin/busybox");
    Assumptions.assumeTrue(Files.isExecutable(busybox), "SKIPPED: no /bin/busybox (busybox-static)");
    ImageStore store = new ImageStore(tmp.resolve("images"));
    Path oci = tmp.resolve("bb-oci.tar");
    Path docker = tmp.resolve("bb-docker.tar");
    BusyboxImage.write(busybox, oci, BusyboxImage.Format.OCI);
    BusyboxImage.write(busybox, docker, BusyboxImage.Format.DOCKER);
    List<ImageArchive.Imported> a = new ImageArchive(store).importFrom(oci, List.of());
    List<ImageArchive.Imported> b = new ImageArchive(store).importFrom(docker, List.of("localhost/bb:v1"));
    assertEquals(a.getFirst().id(), b.getFirst().id(), "the same config is the same image ID");
    ImageStore.Image img = store.find("busybox");
    assertNotNull(img);
    assertTrue(Files.isExecutable(img.rootfs().resolve("bin/busybox")));
    assertEquals(Path.of("busybox"), Files.readSymbolicLink(img.rootfs().resolve("bin/sh")));
    assertEquals("sh", img.config().getJsonArray("Cmd").getString(0));
    assertTrue(img.names().contains("docker.io/library/busybox:latest"), img.names().toString());
    assertTrue(img.names().stream().anyMatch(n -> n.startsWith("docker.io/library/busybox@sha256:")), img.names().toString());
    assertNotNull(store.find("localhost/bb:v1"));
    assertNotNull(store.find(img.names().stream().filter(n -> n.contains("@")).findFirst().orElseThrow()));
    assertNull(store.find("busybox:1.36"));
    assertEquals(1, store.list().size());
    List<String> table = store.table();
    assertTrue(table.getFirst().startsWith("REPOSITORY"), table.toString());
    assertTrue(table.stream().anyMatch(l -> l.startsWith("docker.io/library/busybox ") && l.contains(" latest ")),
        table.toString());
    assertTrue(table.stream().anyMatch(l -> l.startsWith("localhost/bb ") && l.contains(" v1 ")), table.toString());
  }

  @Test
  void layersApplyInOrderWithWhiteoutsAndStayInsideTheRoot() throws Exception {
    byte[] l1 = tar(t -> {
      file(t, "etc/keep", "keep");
      file(t, "etc/gone", "gone");
      file(t, "data/old1", "x");
      file(t, "data/old2", "x");
      symlink(t, "escape", "/outside");
      symlink(t, "rel", "../../../../outside2");
    });
    byte[] l2 = tar(t -> {
      file(t, "etc/.wh.gone", "");
      file(t, "data/new", "n");
      file(t, "data/.wh..wh..opq", "");
      file(t, "escape/x", "inside");
      file(t, "rel/y", "inside");
    });
    Path layout = ociLayout(List.of(l1, l2), "localhost/layers:t");
    ImageStore store = new ImageStore(tmp.resolve("images"));
    new ImageArchive(store).importFrom(layout, List.of());
    Path root = store.find("localhost/layers:t").rootfs();
    assertEquals("keep", Files.readString(root.resolve("etc/keep")));
    assertFalse(Files.exists(root.resolve("etc/gone")), "whiteout removed the lower file");
    assertFalse(Files.exists(root.resolve("etc/.wh.gone")));
    assertTrue(Files.exists(root.resolve("data/new")), "the opaque dir keeps this layer's files");
    assertFalse(Files.exists(root.resolve("data/old1")), "the opaque dir hides the lower ones");
    assertEquals("inside", Files.readString(root.resolve("outside/x")), "absolute links resolve inside the root");
    assertEquals("inside", Files.readString(root.resolve("outside2/y")), "'..' stops at the root");
    assertFalse(Files.exists(Path.of("/outside/x"), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aBlobThatDoesNotMatchItsDigestIsRefused() throws Exception {
    Path layout = ociLayout(List.of(tar(t -> file(t, "a", "a"))), "localhost/bad:t");
    try (var s = Files.list(layout.resolve("blobs/sha256"))) {
      for (Path p : s.toList()) {
        if (Files.size(p) > 1000) Files.write(p, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
      }
    }
    ImageStore store = new ImageStore(tmp.resolve("images"));
    IOException e = assertThrows(IOException.class, () -> new ImageArchive(store).importFrom(layout, List.of()));
    assertTrue(e.getMessage().contains("does not match its digest"), e.getMessage());
    assertNull(store.find("localhost/bad:t"));
  }

  @Test
  void sizesPrintAsDockerDoes() {
    assertEquals("4.26MB", ImageStore.humanSize(4_260_000));
    assertEquals("512B", ImageStore.humanSize(512));
    assertEquals("12.5kB", ImageStore.humanSize(12_500));
  }

  interface TarBody {
    void write(TarArchiveOutputStream t) throws IOException;
  }

  private static byte[] tar(TarBody body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
      body.write(t);
    }
    return out.toByteArray();
  }

  private static void file(TarArchiveOutputStream t, String name, String content) throws IOException {
    byte[] b = content.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(b.length);
    t.putArchiveEntry(e);
    t.write(b);
    t.closeArchiveEntry();
  }

  private static void symlink(TarArchiveOutputStream t, String name, String target) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
    e.setLinkName(target);
    t.putArchiveEntry(e);
    t.closeArchiveEntry();
  }

  /** An OCI layout directory with uncompressed layers. */
  private Path ociLayout(List<byte[]> layers, String ref) throws IOException {
    Path dir = Files.createTempDirectory(tmp, "layout");
    Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
    JsonArray descs = new JsonArray();
    JsonArray diffIds = new JsonArray();
    for (byte[] l : layers) {
      String hex = ImageArchive.sha256(l);
      Files.write(blobs.resolve(hex), l);
      descs.add(new JsonObject().put("mediaType", "application/vnd.oci.image.layer.v1.tar").put("digest", "sha256:" + hex)
          .put("size", l.length));
      diffIds.add("sha256:" + hex);
    }
    byte[] config = new JsonObject().put("config", new JsonObject().put("Cmd", new JsonArray().add("sh")))
        .put("rootfs", new JsonObject().put("type", "layers").put("diff_ids", diffIds)).encode().getBytes();
    String configHex = ImageArchive.sha256(config);
    Files.write(blobs.resolve(configHex), config);
    byte[] manifest = new JsonObject().put("schemaVersion", 2).put("config", new JsonObject()
        .put("digest", "sha256:" + configHex).put("size", config.length)).put("layers", descs).encode().getBytes();
    String manifestHex = ImageArchive.sha256(manifest);
    Files.write(blobs.resolve(manifestHex), manifest);
    Files.writeString(dir.resolve("index.json"), new JsonObject().put("schemaVersion", 2).put("manifests",
        new JsonArray().add(new JsonObject().put("mediaType", "application/vnd.oci.image.manifest.v1+json")
            .put("digest", "sha256:" + manifestHex).put("size", manifest.length)
            .put("annotations", new JsonObject().put("org.opencontainers.image.ref.name", ref)))).encode());
    return dir;
  }
}
