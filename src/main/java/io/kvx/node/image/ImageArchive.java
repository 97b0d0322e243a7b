package io.kvx.node.image;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * {@code kvx image import}: reads an OCI image layout (a directory or a tarball of one) or a
 * {@code docker save} tarball, checks every blob against its digest, unpacks the layers into the
 * {@link ImageStore} once per image ID and points the archive's tags (or the ones given) at it.
 * Blocking.
 */
public final class ImageArchive {

  /** What was imported: the image ID and the references now pointing at it. */
  public record Imported(String id, List<String> references, int layers, long sizeBytes) {}

  static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
  private static final String CONTAINERD_NAME = "io.containerd.image.name";
  private static final String OCI_REF_NAME = "org.opencontainers.image.ref.name";

  private final ImageStore store;

  public ImageArchive(ImageStore store) {
    this.store = store;
  }

  /** Imports every image in the archive; {@code tags} (if any) name the first one. */
  public List<Imported> importFrom(Path file, List<String> tags) throws IOException {
    if (!Files.exists(file)) throw new IOException("no such file: " + file);
    Path work = null;
    Path dir = file;
    try {
      if (!Files.isDirectory(file)) {
        Files.createDirectories(store.root());
        work = Files.createTempDirectory(store.root(), ".import-");
        extract(file, work);
        dir = work;
      }
      List<Imported> out;
      if (Files.isRegularFile(dir.resolve("index.json"))) out = fromOciLayout(dir, tags);
      else if (Files.isRegularFile(dir.resolve("manifest.json"))) out = fromDockerArchive(dir, tags);
      else throw new IOException(file + " is neither an OCI image layout (index.json) nor a docker save archive "
            + "(manifest.json)");
      if (out.isEmpty()) throw new IOException(file + " holds no image");
      return out;
    } finally {
      if (work != null) Layers.deleteTree(work);
    }
  }

  private List<Imported> fromOciLayout(Path dir, List<String> tags) throws IOException {
    JsonObject index = json(dir.resolve("index.json"));
    List<Imported> out = new ArrayList<>();
    for (Object o : index.getJsonArray("manifests", new JsonArray())) {
      JsonObject desc = (JsonObject) o;
      JsonObject annotations = desc.getJsonObject("annotations", new JsonObject());
      JsonObject manifestDesc = platformManifest(dir, desc);
      JsonObject manifest = new JsonObject(new String(blob(dir, manifestDesc.getString("digest")), "UTF-8"));
      String configDigest = manifest.getJsonObject("config").getString("digest");
      byte[] config = blob(dir, configDigest);
      List<Path> layers = new ArrayList<>();
      List<String> digests = new ArrayList<>();
      long size = config.length;
      for (Object l : manifest.getJsonArray("layers", new JsonArray())) {
        String digest = ((JsonObject) l).getString("digest");
        Path p = blobPath(dir, digest);
        verify(p, digest);
        layers.add(p);
        digests.add(digest);
        size += Files.size(p);
      }
      List<String> refs = new ArrayList<>();
      if (out.isEmpty()) refs.addAll(tags);
      String name = annotations.getString(CONTAINERD_NAME);
      String refName = annotations.getString(OCI_REF_NAME);
      if (name != null) refs.add(name);
      else if (refName != null && (refName.contains(":") || refName.contains("/"))) refs.add(refName);
      String repoDigest = refs.isEmpty() ? null : repoName(refs.getFirst()) + "@" + desc.getString("digest");
      out.add(store(configDigest, config, layers, digests, size, refs, repoDigest));
    }
    return out;
  }

  /** A manifest descriptor; for an index (multi-platform), the linux/amd64 entry (or the first). */
  private JsonObject platformManifest(Path dir, JsonObject desc) throws IOException {
    String type = desc.getString("mediaType", "");
    if (!type.equals(OCI_INDEX) && !type.equals(DOCKER_LIST)) return desc;
    JsonObject nested = new JsonObject(new String(blob(dir, desc.getString("digest")), "UTF-8"));
    JsonObject pick = null;
    for (Object o : nested.getJsonArray("manifests", new JsonArray())) {
      JsonObject m = (JsonObject) o;
      JsonObject p = m.getJsonObject("platform", new JsonObject());
      if (pick == null) pick = m;
      if ("linux".equals(p.getString("os")) && "amd64".equals(p.getString("architecture"))) {
        pick = m;
        break;
      }
    }
    if (pick == null) throw new IOException("empty image index " + desc.getString("digest"));
    return platformManifest(dir, pick);
  }

  private List<Imported> fromDockerArchive(Path dir, List<String> tags) throws IOException {
    JsonArray manifest = new JsonArray(Files.readString(dir.resolve("manifest.json")));
    List<Imported> out = new ArrayList<>();
    for (Object o : manifest) {
      JsonObject m = (JsonObject) o;
      Path configFile = inside(dir, m.getString("Config"));
      byte[] config = Files.readAllBytes(configFile);
      String configDigest = "sha256:" + sha256(config);
      List<Path> layers = new ArrayList<>();
      List<String> digests = new ArrayList<>();
      long size = config.length;
      for (Object l : m.getJsonArray("Layers", new JsonArray())) {
        Path p = inside(dir, String.valueOf(l));
        layers.add(p);
        digests.add("sha256:" + sha256(p));
        size += Files.size(p);
      }
      List<String> refs = new ArrayList<>();
      if (out.isEmpty()) refs.addAll(tags);
      m.getJsonArray("RepoTags", new JsonArray()).forEach(t -> refs.add(String.valueOf(t)));
      out.add(store(configDigest, config, layers, digests, size, refs, null));
    }
    return out;
  }

  private Imported store(String id, byte[] configBytes, List<Path> layers, List<String> digests, long size,
                         List<String> refs, String repoDigest) throws IOException {
    JsonObject config = new JsonObject(new String(configBytes, "UTF-8"));
    Path target = store.imageDir(id);
    if (!Files.isRegularFile(target.resolve("image.json"))) {
      Files.createDirectories(target.getParent());
      Path tmp = Files.createTempDirectory(target.getParent(), ".unpack-");
      try {
        Path rootfs = tmp.resolve("rootfs");
        Files.createDirectories(rootfs);
        for (Path layer : layers) {
          Layers.apply(rootfs, () -> {
            try {
              return Layers.open(layer);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
        }
        JsonObject runtime = config.getJsonObject("config", new JsonObject());
        JsonObject rc = new JsonObject();
        for (String k : List.of("Entrypoint", "Cmd", "Env")) {
          if (runtime.getValue(k) instanceof JsonArray a) rc.put(k, a);
        }
        rc.put("WorkingDir", runtime.getString("WorkingDir") == null ? "" : runtime.getString("WorkingDir"))
            .put("User", runtime.getString("User") == null ? "" : runtime.getString("User"));
        JsonObject meta = new JsonObject().put("id", id).put("config", rc)
            .put("layers", new JsonArray(digests)).put("size", size)
            .put("repoDigests", repoDigest == null ? new JsonArray() : new JsonArray().add(repoDigest));
        Files.writeString(tmp.resolve("image.json"), meta.encodePrettily());
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException | RuntimeException e) {
        Layers.deleteTree(tmp);
        if (Files.isRegularFile(target.resolve("image.json"))) return new Imported(id, refs, layers.size(), size);
        throw e;
      }
    } else if (repoDigest != null) {
      Path metaFile = target.resolve("image.json");
      JsonObject meta = new JsonObject(Files.readString(metaFile));
      JsonArray rd = meta.getJsonArray("repoDigests", new JsonArray());
      if (!rd.contains(repoDigest)) {
        meta.put("repoDigests", rd.add(repoDigest));
        Files.writeString(metaFile, meta.encodePrettily());
      }
    }
    store.tag(id, refs);
    return new Imported(id, refs.stream().map(ImageStore::normalize).toList(), layers.size(), size);
  }

  private static String repoName(String ref) {
    String n = ImageStore.normalize(ref);
    int at = n.indexOf('@');
    if (at >= 0) n = n.substring(0, at);
    int colon = n.lastIndexOf(':');
    return colon > n.lastIndexOf('/') ? n.substring(0, colon) : n;
  }

  private static Path blobPath(Path dir, String digest) throws IOException {
    if (digest == null || !digest.matches("sha256:[0-9a-f]{64}")) throw new IOException("bad digest " + digest);
    Path p = dir.resolve("blobs").resolve("sha256").resolve(digest.substring(7));
    if (!Files.isRegularFile(p)) throw new IOException("blob " + digest + " missing from the layout");
    return p;
  }

  private static byte[] blob(Path dir, String digest) throws IOException {
    byte[] b = Files.readAllBytes(blobPath(dir, digest));
    if (!("sha256:" + sha256(b)).equals(digest)) throw new IOException("blob " + digest + " does not match its digest");
    return b;
  }

  private static void verify(Path p, String digest) throws IOException {
    if (!("sha256:" + sha256(p)).equals(digest)) throw new IOException("blob " + digest + " does not match its digest");
  }

  private static Path inside(Path dir, String name) throws IOException {
    Path p = dir.resolve(Layers.clean(name)).normalize();
    if (!p.startsWith(dir) || !Files.isRegularFile(p)) throw new IOException("archive entry " + name + " missing");
    return p;
  }

  static String sha256(byte[] b) {
    return HexFormat.of().formatHex(digest().digest(b));
  }

  static String sha256(Path p) throws IOException {
    MessageDigest md = digest();
    try (InputStream in = Files.newInputStream(p)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject json(Path p) throws IOException {
    return new JsonObject(Files.readString(p));
  }

  /** Unpacks the archive's regular files (the layout's blobs and JSON); gzip is recognised. */
  private static void extract(Path archive, Path into) throws IOException {
    try (TarArchiveInputStream tar = new TarArchiveInputStream(Layers.open(archive))) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        if (!e.isFile()) continue;
        String name = Layers.clean(e.getName());
        if (name.isEmpty()) continue;
        Path p = into.resolve(name);
        Files.createDirectories(p.getParent());
        Files.copy(tar, p, StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
