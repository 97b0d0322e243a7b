package io.kvx.node;

import io.kvx.api.Meta;
import io.kvx.node.runtime.ContainerSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A pod's volumes and configuration inputs as the kubelet provides them: emptyDir, hostPath,
 * configMap, secret, downwardAPI, projected (including the ServiceAccount token, CA and namespace
 * that Kubernetes mounts at /var/run/secrets/kubernetes.io/serviceaccount), persistentVolumeClaim (a
 * directory per claim on this node), and env from ConfigMaps, Secrets and the downward API. The
 * materializing calls block (file I/O); the caller runs them on a worker.
 */
final class PodVolumes {

  static final String SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

  /** What the API must supply before containers can start. */
  /** {@code allocatable}: the node's, for a downward API limit the container does not set (null: unknown). */
  record Inputs(Map<String, JsonObject> configMaps, Map<String, JsonObject> secrets, Map<String, String> tokens,
                String caPem, Map<String, String> claimPaths, JsonObject allocatable) {
  }

  /** A volume is not there yet (an unbound claim): the pod waits in ContainerCreating and is synced again. */
  static final class NotReady extends Exception {
    NotReady(String message) {
      super(message);
    }
  }

  /** The claims the pod mounts. */
  static Set<String> claims(JsonObject pod) {
    Set<String> out = new LinkedHashSet<>();
    for (Object o : spec(pod).getJsonArray("volumes", new JsonArray())) {
      JsonObject pvc = ((JsonObject) o).getJsonObject("persistentVolumeClaim");
      if (pvc != null && pvc.getString("claimName") != null) out.add(pvc.getString("claimName"));
    }
    return out;
  }

  /**
   * Where a bound claim's volume lives on this node: a local volume's path or a hostPath volume's path;
   * null while the claim is unbound.
   */
  static String claimPath(JsonObject pvc, JsonObject pv) {
    if (pvc == null || pv == null) return null;
    JsonObject spec = pv.getJsonObject("spec", new JsonObject());
    JsonObject local = spec.getJsonObject("local");
    if (local != null && local.getString("path") != null) return local.getString("path");
    JsonObject hostPath = spec.getJsonObject("hostPath");
    if (hostPath != null && hostPath.getString("path") != null) return hostPath.getString("path");
    return null;
  }

  /** A container cannot be configured: kubelet's CreateContainerConfigError. */
  static final class ConfigError extends Exception {
    ConfigError(String message) {
      super(message);
    }
  }

  private PodVolumes() {
  }

  static JsonObject spec(JsonObject pod) {
    return pod.getJsonObject("spec", new JsonObject());
  }

  /** The ConfigMaps (kind "configmaps") or Secrets ("secrets") the pod refers to. */
  static Set<String> referenced(JsonObject pod, String kind) {
    Set<String> out = new LinkedHashSet<>();
    String volumeKey = kind.equals("configmaps") ? "configMap" : "secret";
    String nameKey = kind.equals("configmaps") ? "name" : "secretName";
    for (Object o : spec(pod).getJsonArray("volumes", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      JsonObject src = v.getJsonObject(volumeKey);
      if (src != null && src.getString(nameKey) != null) out.add(src.getString(nameKey));
      JsonObject projected = v.getJsonObject("projected");
      if (projected != null) {
        for (Object s : projected.getJsonArray("sources", new JsonArray())) {
          JsonObject p = ((JsonObject) s).getJsonObject(volumeKey);
          if (p != null && p.getString("name") != null) out.add(p.getString("name"));
        }
      }
    }
    String refKey = kind.equals("configmaps") ? "configMapKeyRef" : "secretKeyRef";
    String fromKey = kind.equals("configmaps") ? "configMapRef" : "secretRef";
    for (JsonObject c : allContainers(pod)) {
      for (Object e : c.getJsonArray("env", new JsonArray())) {
        JsonObject ref = ((JsonObject) e).getJsonObject("valueFrom", new JsonObject()).getJsonObject(refKey);
        if (ref != null && ref.getString("name") != null) out.add(ref.getString("name"));
      }
      for (Object e : c.getJsonArray("envFrom", new JsonArray())) {
        JsonObject ref = ((JsonObject) e).getJsonObject(fromKey);
        if (ref != null && ref.getString("name") != null) out.add(ref.getString("name"));
      }
    }
    if (kind.equals("configmaps") && automount(pod)) out.add("kube-root-ca.crt");
    return out;
  }

  static List<JsonObject> allContainers(JsonObject pod) {
    List<JsonObject> out = new ArrayList<>();
    for (String list : List.of("initContainers", "containers", "ephemeralContainers")) {
      for (Object o : spec(pod).getJsonArray(list, new JsonArray())) out.add((JsonObject) o);
    }
    return out;
  }

  static boolean automount(JsonObject pod) {
    return spec(pod).getBoolean("automountServiceAccountToken", true);
  }

  /**
   * The audiences the pod's ServiceAccount tokens are for: "" (the API server's) when the token is mounted, and each
   * projected serviceAccountToken source's audience ("" when it names none). A token for another audience does not
   * authenticate to the API, as in kube.
   */
  static Set<String> tokenAudiences(JsonObject pod) {
    Set<String> out = new java.util.TreeSet<>();
    if (automount(pod)) out.add("");
    for (Object o : spec(pod).getJsonArray("volumes", new JsonArray())) {
      JsonObject projected = ((JsonObject) o).getJsonObject("projected");
      if (projected == null) continue;
      for (Object s : projected.getJsonArray("sources", new JsonArray())) {
        JsonObject token = ((JsonObject) s).getJsonObject("serviceAccountToken");
        if (token != null) out.add(token.getString("audience", ""));
      }
    }
    return out;
  }

  /** Writes every volume under {@code podDir/volumes} (blocking); volume name → host directory. */
  static Map<String, Path> materialize(JsonObject pod, Path podDir, Inputs in,
                                       Function<String, String> fieldValue) throws IOException, ConfigError, NotReady {
    Map<String, Path> out = new LinkedHashMap<>();
    Path root = podDir.resolve("volumes");
    for (Object o : spec(pod).getJsonArray("volumes", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      String name = v.getString("name");
      Path dir = root.resolve(name);
      if (v.containsKey("hostPath")) {
        Path host = Path.of(v.getJsonObject("hostPath").getString("path", "/"));
        String type = v.getJsonObject("hostPath").getString("type", "");
        if (type.equals("DirectoryOrCreate")) Files.createDirectories(host);
        if (type.equals("Directory") && !Files.isDirectory(host)) throw new ConfigError("hostPath type check failed: "
            + host + " is not a directory");
        out.put(name, host);
        continue;
      }
      if (v.containsKey("persistentVolumeClaim")) {
        String claim = v.getJsonObject("persistentVolumeClaim").getString("claimName", name);
        String path = in.claimPaths().get(claim);
        if (path == null) {
          throw new NotReady("persistentvolumeclaim \"" + claim + "\" is not bound yet");
        }
        // The kvx.io/local-path provisioner's volumes are DirectoryOrCreate; a local volume's path must exist.
        Files.createDirectories(Path.of(path));
        out.put(name, Path.of(path));
        continue;
      }
      Files.createDirectories(dir);
      out.put(name, dir);
      if (v.getValue("emptyDir") instanceof JsonObject empty && "Memory".equals(empty.getString("medium"))) {
        memoryBacked(dir, empty.getValue("sizeLimit"));
      }
      Map<String, AtomicDir.File> payload = payload(v, pod, in, fieldValue);
      if (payload != null) AtomicDir.write(dir, payload);
      // emptyDir: the directory itself.
    }
    if (automount(pod) && in.tokens.get("") != null) {
      Path sa = podDir.resolve("serviceaccount");
      Files.createDirectories(sa);
      write(sa.resolve("token"), in.tokens.get("").getBytes(StandardCharsets.UTF_8));
      write(sa.resolve("namespace"), Meta.namespace(pod).getBytes(StandardCharsets.UTF_8));
      if (in.caPem != null) write(sa.resolve("ca.crt"), in.caPem.getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  /**
   * The files of a configMap, secret, downwardAPI or projected volume, with their modes (defaultMode, an item's
   * mode; 0644 when none), as the kubelet's atomic writer gets them; null for any other kind of volume.
   */
  static Map<String, AtomicDir.File> payload(JsonObject v, JsonObject pod, Inputs in, Function<String, String> fieldValue)
      throws ConfigError {
    Map<String, AtomicDir.File> out = new LinkedHashMap<>();
    if (v.containsKey("configMap")) {
      JsonObject src = v.getJsonObject("configMap");
      addData(out, lookup(in.configMaps, src.getString("name"), "configmap", src.getBoolean("optional", false)),
          false, src.getJsonArray("items"), src.getInteger("defaultMode", DEFAULT_MODE));
    } else if (v.containsKey("secret")) {
      JsonObject src = v.getJsonObject("secret");
      addData(out, lookup(in.secrets, src.getString("secretName"), "secret", src.getBoolean("optional", false)),
          true, src.getJsonArray("items"), src.getInteger("defaultMode", DEFAULT_MODE));
    } else if (v.containsKey("downwardAPI")) {
      JsonObject src = v.getJsonObject("downwardAPI");
      addDownward(out, src.getJsonArray("items", new JsonArray()), fieldValue, pod, in,
          src.getInteger("defaultMode", DEFAULT_MODE));
    } else if (v.containsKey("projected")) {
      JsonObject projected = v.getJsonObject("projected");
      int mode = projected.getInteger("defaultMode", DEFAULT_MODE);
      for (Object s : projected.getJsonArray("sources", new JsonArray())) {
        JsonObject src = (JsonObject) s;
        if (src.containsKey("configMap")) {
          JsonObject cm = src.getJsonObject("configMap");
          addData(out, lookup(in.configMaps, cm.getString("name"), "configmap", cm.getBoolean("optional", false)),
              false, cm.getJsonArray("items"), mode);
        } else if (src.containsKey("secret")) {
          JsonObject sec = src.getJsonObject("secret");
          addData(out, lookup(in.secrets, sec.getString("name"), "secret", sec.getBoolean("optional", false)),
              true, sec.getJsonArray("items"), mode);
        } else if (src.containsKey("downwardAPI")) {
          addDownward(out, src.getJsonObject("downwardAPI").getJsonArray("items", new JsonArray()), fieldValue, pod,
              in, mode);
        } else if (src.containsKey("serviceAccountToken")) {
          JsonObject source = src.getJsonObject("serviceAccountToken");
          String token = in.tokens.get(source.getString("audience", ""));
          if (token != null) {
            out.put(source.getString("path", "token"), new AtomicDir.File(token.getBytes(StandardCharsets.UTF_8), mode));
          }
        }
      }
    } else {
      return null;
    }
    return out;
  }

  /**
   * An emptyDir with medium Memory: a tmpfs on its directory (of its sizeLimit, if any), as the kubelet mounts it;
   * the pod's removal unmounts it. Without the privilege to mount (the process runtime) it stays a directory.
   */
  private static void memoryBacked(Path dir, Object sizeLimit) throws IOException {
    String target = dir.toAbsolutePath().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
      String[] f = line.split(" ");
      if (f.length > 1 && f[1].equals(target)) return;
    }
    String options = "mode=1777" + (sizeLimit == null ? "" : ",size=" + io.kvx.api.Quantities.bytes(String.valueOf(sizeLimit)));
    try {
      io.kvx.nativeio.Libc.mount("tmpfs", target, "tmpfs", 0, options);
    } catch (IOException | RuntimeException | LinkageError e) {
      java.util.logging.Logger.getLogger(PodVolumes.class.getName()).fine("emptyDir " + dir + " stays on disk: " + e);
    }
  }

  /** 0644, the kubelet's mode for volume files when the volume names none. */
  static final int DEFAULT_MODE = 0644;

  /**
   * Rewrites the pod's configMap, secret, downwardAPI and projected volumes from fresh inputs (blocking), as the
   * kubelet's periodic sync does: a running container sees updated files (subPath mounts keep what they bound).
   * True when any volume changed.
   */
  static boolean refresh(JsonObject pod, Map<String, Path> volumes, Inputs in, Function<String, String> fieldValue)
      throws IOException, ConfigError {
    boolean changed = false;
    for (Object o : spec(pod).getJsonArray("volumes", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      Path dir = volumes.get(v.getString("name"));
      Map<String, AtomicDir.File> payload = dir == null ? null : payload(v, pod, in, fieldValue);
      if (payload != null) changed |= AtomicDir.write(dir, payload);
    }
    return changed;
  }

  /** Whether the pod has a volume {@link #refresh} keeps up to date. */
  static boolean hasPayloadVolumes(JsonObject pod) {
    for (Object o : spec(pod).getJsonArray("volumes", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      if (v.containsKey("configMap") || v.containsKey("secret") || v.containsKey("downwardAPI")
          || v.containsKey("projected")) {
        return true;
      }
    }
    return false;
  }

  /** A container's bind mounts: its volumeMounts (with subPath), and the ServiceAccount directory. */
  static List<ContainerSpec.Mount> mounts(JsonObject pod, JsonObject container, Map<String, Path> volumes,
                                          Path podDir) throws IOException, ConfigError {
    List<ContainerSpec.Mount> out = new ArrayList<>();
    boolean saMounted = false;
    for (Object o : container.getJsonArray("volumeMounts", new JsonArray())) {
      JsonObject m = (JsonObject) o;
      Path source = volumes.get(m.getString("name"));
      if (source == null) throw new ConfigError("volume \"" + m.getString("name") + "\" not found");
      String sub = m.getString("subPath", "");
      if (!sub.isEmpty()) {
        if (sub.contains("..")) throw new ConfigError("subPath \"" + sub + "\" may not contain '..'");
        source = source.resolve(sub);
        if (!Files.exists(source)) Files.createDirectories(source);
      }
      String dest = m.getString("mountPath");
      if (SA_MOUNT.equals(dest)) saMounted = true;
      out.add(new ContainerSpec.Mount(source, dest, m.getBoolean("readOnly", false)));
    }
    Path sa = podDir.resolve("serviceaccount");
    if (!saMounted && automount(pod) && Files.isDirectory(sa)) out.add(new ContainerSpec.Mount(sa, SA_MOUNT, true));
    return out;
  }

  /** env and envFrom, resolved (later entries win, env after envFrom), as NAME=value strings. */
  static List<String> env(JsonObject container, Inputs in, Function<String, String> fieldValue) throws ConfigError {
    Map<String, String> out = new LinkedHashMap<>();
    for (Object o : container.getJsonArray("envFrom", new JsonArray())) {
      JsonObject from = (JsonObject) o;
      String prefix = from.getString("prefix", "");
      if (from.containsKey("configMapRef")) {
        JsonObject ref = from.getJsonObject("configMapRef");
        JsonObject cm = lookup(in.configMaps, ref.getString("name"), "configmap", ref.getBoolean("optional", false));
        if (cm != null) cm.getJsonObject("data", new JsonObject()).forEach(e -> out.put(prefix + e.getKey(),
            String.valueOf(e.getValue())));
      } else if (from.containsKey("secretRef")) {
        JsonObject ref = from.getJsonObject("secretRef");
        JsonObject s = lookup(in.secrets, ref.getString("name"), "secret", ref.getBoolean("optional", false));
        if (s != null) s.getJsonObject("data", new JsonObject()).forEach(e -> out.put(prefix + e.getKey(),
            new String(Base64.getDecoder().decode(String.valueOf(e.getValue())), StandardCharsets.UTF_8)));
      }
    }
    for (Object o : container.getJsonArray("env", new JsonArray())) {
      JsonObject e = (JsonObject) o;
      String value = expand(e.getString("value", ""), out);
      JsonObject from = e.getJsonObject("valueFrom");
      if (from != null) {
        if (from.containsKey("fieldRef")) {
          value = fieldValue.apply(from.getJsonObject("fieldRef").getString("fieldPath", ""));
        } else if (from.containsKey("configMapKeyRef")) {
          JsonObject ref = from.getJsonObject("configMapKeyRef");
          JsonObject cm = lookup(in.configMaps, ref.getString("name"), "configmap", ref.getBoolean("optional", false));
          value = key(cm, "data", ref, "configmap", false);
          if (value == null) continue;
        } else if (from.containsKey("secretKeyRef")) {
          JsonObject ref = from.getJsonObject("secretKeyRef");
          JsonObject s = lookup(in.secrets, ref.getString("name"), "secret", ref.getBoolean("optional", false));
          value = key(s, "data", ref, "secret", true);
          if (value == null) continue;
        } else if (from.containsKey("resourceFieldRef")) {
          value = resourceField(container, from.getJsonObject("resourceFieldRef"), in.allocatable());
        }
      }
      out.put(e.getString("name"), value);
    }
    List<String> list = new ArrayList<>();
    out.forEach((k, v) -> list.add(k + "=" + v));
    return list;
  }

  /** $(VAR) references to earlier variables, as Kubernetes expands them; $$ escapes. */
  static String expand(String value, Map<String, String> defined) {
    if (!value.contains("$")) return value;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '$' && i + 1 < value.length() && value.charAt(i + 1) == '$') {
        sb.append('$');
        i++;
      } else if (c == '$' && i + 1 < value.length() && value.charAt(i + 1) == '(') {
        int end = value.indexOf(')', i);
        if (end < 0) {
          sb.append(value.substring(i));
          break;
        }
        String name = value.substring(i + 2, end);
        sb.append(defined.containsKey(name) ? defined.get(name) : "$(" + name + ")");
        i = end;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * A container's resource as the downward API gives it: the quantity divided by the divisor ("1" when none),
   * rounded up ("250m" of cpu with divisor 1m is 250, with 1 it is 1); a limit the container does not set is the
   * node's allocatable amount, as the kubelet gives it.
   */
  static String resourceField(JsonObject container, JsonObject ref, JsonObject allocatable) {
    String resource = ref.getString("resource", "");
    String[] parts = resource.split("\\.", 2);
    if (parts.length != 2) return "";
    Object amount = container.getJsonObject("resources", new JsonObject()).getJsonObject(parts[0], new JsonObject())
        .getValue(parts[1]);
    if (amount == null && parts[0].equals("limits") && allocatable != null) amount = allocatable.getValue(parts[1]);
    Object divisor = ref.getValue("divisor");
    java.math.BigDecimal value = io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(
        new io.fabric8.kubernetes.api.model.Quantity(amount == null ? "0" : String.valueOf(amount)));
    java.math.BigDecimal by = io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(
        new io.fabric8.kubernetes.api.model.Quantity(divisor == null ? "1" : String.valueOf(divisor)));
    if (by.signum() == 0) return value.setScale(0, java.math.RoundingMode.CEILING).toPlainString();
    return value.divide(by, 0, java.math.RoundingMode.CEILING).toPlainString();
  }

  private static JsonObject lookup(Map<String, JsonObject> map, String name, String kind, boolean optional)
      throws ConfigError {
    JsonObject o = map.get(name);
    if (o == null && !optional) throw new ConfigError(kind + " \"" + name + "\" not found");
    return o;
  }

  private static String key(JsonObject obj, String field, JsonObject ref, String kind, boolean base64)
      throws ConfigError {
    if (obj == null) return null;
    Object v = obj.getJsonObject(field, new JsonObject()).getValue(ref.getString("key"));
    if (v == null) {
      if (ref.getBoolean("optional", false)) return null;
      throw new ConfigError("couldn't find key " + ref.getString("key") + " in " + kind + " " + Meta.namespace(obj)
          + "/" + Meta.name(obj));
    }
    return base64 ? new String(Base64.getDecoder().decode(String.valueOf(v)), StandardCharsets.UTF_8)
        : String.valueOf(v);
  }

  private static void addData(Map<String, AtomicDir.File> out, JsonObject obj, boolean base64, JsonArray items,
                              int mode) {
    if (obj == null) return;
    JsonObject data = obj.getJsonObject("data", new JsonObject());
    JsonObject binary = obj.getJsonObject("binaryData", new JsonObject());
    Map<String, byte[]> files = new LinkedHashMap<>();
    data.forEach(e -> files.put(e.getKey(), base64 ? Base64.getDecoder().decode(String.valueOf(e.getValue()))
        : String.valueOf(e.getValue()).getBytes(StandardCharsets.UTF_8)));
    binary.forEach(e -> files.put(e.getKey(), Base64.getDecoder().decode(String.valueOf(e.getValue()))));
    if (items != null && !items.isEmpty()) {
      for (Object o : items) {
        JsonObject item = (JsonObject) o;
        byte[] content = files.get(item.getString("key"));
        if (content != null) {
          out.put(item.getString("path", item.getString("key")), new AtomicDir.File(content, item.getInteger("mode", mode)));
        }
      }
      return;
    }
    files.forEach((k, content) -> out.put(k, new AtomicDir.File(content, mode)));
  }

  private static void addDownward(Map<String, AtomicDir.File> out, JsonArray items, Function<String, String> fieldValue,
                                  JsonObject pod, Inputs in, int mode) throws ConfigError {
    for (Object o : items) {
      JsonObject item = (JsonObject) o;
      JsonObject ref = item.getJsonObject("fieldRef");
      JsonObject resource = item.getJsonObject("resourceFieldRef");
      String value;
      if (ref != null) {
        String path = ref.getString("fieldPath", "");
        if (path.equals("metadata.labels") || path.equals("metadata.annotations")) {
          JsonObject map = Meta.meta(pod).getJsonObject(path.substring("metadata.".length()), new JsonObject());
          StringBuilder sb = new StringBuilder();
          new java.util.TreeMap<>(map.getMap()).forEach((k, v) -> sb.append(k).append("=\"").append(v).append("\"\n"));
          value = sb.toString();
        } else {
          value = fieldValue.apply(path);
        }
      } else if (resource != null) {
        String name = resource.getString("containerName", "");
        JsonObject container = null;
        for (Object c : spec(pod).getJsonArray("containers", new JsonArray())) {
          if (name.equals(((JsonObject) c).getString("name"))) container = (JsonObject) c;
        }
        if (container == null) throw new ConfigError("resourceFieldRef: container \"" + name + "\" not found");
        value = resourceField(container, resource, in.allocatable());
      } else {
        continue;
      }
      out.put(item.getString("path"), new AtomicDir.File(value.getBytes(StandardCharsets.UTF_8),
          item.getInteger("mode", mode)));
    }
  }

  private static void write(Path file, byte[] content) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, content);
  }
}
