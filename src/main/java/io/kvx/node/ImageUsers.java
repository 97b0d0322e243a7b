package io.kvx.node;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * File-system side of securityContext: user and group names looked up in an image's /etc/passwd and
 * /etc/group, and fsGroup applied to a pod's writable volumes (group-owned, group-writable, setgid
 * directories) as the kubelet does for emptyDir, configMap, secret, downwardAPI and projected volumes.
 * Blocking.
 */
final class ImageUsers {

  private static final Set<String> FS_GROUP_VOLUMES = Set.of("emptyDir", "configMap", "secret", "downwardAPI",
      "projected");

  private ImageUsers() {
  }

  static SecurityContexts.PasswdEntry passwd(Path rootfs, String name) {
    String[] f = lookup(rootfs.resolve("etc/passwd"), name);
    if (f == null || f.length < 4) return null;
    try {
      return new SecurityContexts.PasswdEntry(Long.parseLong(f[2]), Long.parseLong(f[3]));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static Long group(Path rootfs, String name) {
    String[] f = lookup(rootfs.resolve("etc/group"), name);
    try {
      return f == null || f.length < 3 ? null : Long.valueOf(f[2]);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String[] lookup(Path file, String name) {
    if (Files.isSymbolicLink(file) || !Files.isRegularFile(file)) return null;
    try {
      for (String line : Files.readAllLines(file)) {
        String[] f = line.split(":", -1);
        if (f.length > 0 && f[0].equals(name)) return f;
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  /** Gives the pod's fsGroup ownership of its writable volumes. */
  static void applyFsGroup(JsonObject pod, Map<String, Path> volumes) throws IOException {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    Object fsGroup = spec.getJsonObject("securityContext", new JsonObject()).getValue("fsGroup");
    if (!(fsGroup instanceof Number gid) || volumes == null) return;
    for (Object o : spec.getJsonArray("volumes", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      if (FS_GROUP_VOLUMES.stream().noneMatch(v::containsKey)) continue;
      Path dir = volumes.get(v.getString("name"));
      if (dir == null || !Files.isDirectory(dir)) continue;
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.toList()) {
          Files.setAttribute(p, "unix:gid", gid.intValue(), LinkOption.NOFOLLOW_LINKS);
          if (Files.isSymbolicLink(p)) continue;
          Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
          perms.add(PosixFilePermission.GROUP_READ);
          if (Files.isDirectory(p)) {
            perms.add(PosixFilePermission.GROUP_EXECUTE);
            perms.add(PosixFilePermission.GROUP_WRITE);
            Files.setPosixFilePermissions(p, perms);
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            Files.setAttribute(p, "unix:mode", (mode & 07777) | 02000);
          } else {
            Files.setPosixFilePermissions(p, perms);
          }
        }
      }
    }
  }
}
