package io.kvx.node;

import io.kvx.node.runtime.ContainerSpec;
import io.kvx.node.runtime.OciSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A container's identity and privileges from the pod's and the container's securityContext (the
 * container's fields win) and the image's User, as the kubelet and containerd work them out:
 * runAsUser/runAsGroup over the image's user, runAsNonRoot checked with the kubelet's errors,
 * capabilities add/drop over containerd's default set ("ALL" first, then the single names),
 * supplementalGroups and fsGroup as extra groups, readOnlyRootFilesystem, privileged and
 * allowPrivilegeEscalation (no_new_privs only when it is false). Pure.
 */
final class SecurityContexts {

  /** Refused by the kubelet before the container is created (CreateContainerConfigError). */
  static final class ConfigError extends Exception {
    ConfigError(String message) {
      super(message);
    }
  }

  /** A user of the image's /etc/passwd: uid and primary gid. */
  record PasswdEntry(long uid, long gid) {}

  private SecurityContexts() {
  }

  /**
   * @param imageUser the image config's User ("", "name", "uid", "uid:gid", "name:group")
   * @param passwd looks a user name up in the image's /etc/passwd (null when absent)
   * @param group looks a group name up in the image's /etc/group (null when absent)
   */
  static ContainerSpec.Security resolve(JsonObject pod, JsonObject container, String imageUser,
                                        Function<String, PasswdEntry> passwd, Function<String, Long> group)
      throws ConfigError {
    JsonObject podSc = pod.getJsonObject("spec", new JsonObject()).getJsonObject("securityContext", new JsonObject());
    JsonObject sc = container.getJsonObject("securityContext", new JsonObject());
    Long runAsUser = longOf(sc, podSc, "runAsUser");
    Long runAsGroup = longOf(sc, podSc, "runAsGroup");
    Boolean runAsNonRoot = sc.containsKey("runAsNonRoot") ? sc.getBoolean("runAsNonRoot")
        : podSc.getBoolean("runAsNonRoot");
    String podName = pod.getJsonObject("metadata").getString("name") + "_"
        + pod.getJsonObject("metadata").getString("namespace", "default") + "("
        + pod.getJsonObject("metadata").getString("uid", "") + ")";
    String cname = container.getString("name");

    // The image's user: numeric or looked up in its passwd file.
    String user = imageUser == null ? "" : imageUser;
    String userPart = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
    String groupPart = user.contains(":") ? user.substring(user.indexOf(':') + 1) : "";
    Long imageUid = null;
    Long imageGid = null;
    if (userPart.isEmpty()) {
      imageUid = 0L;
    } else if (userPart.matches("\\d+")) {
      imageUid = Long.parseLong(userPart);
    }
    PasswdEntry entry = userPart.isEmpty() ? null : passwd.apply(userPart);
    if (!groupPart.isEmpty()) imageGid = groupPart.matches("\\d+") ? Long.valueOf(groupPart) : group.apply(groupPart);
    else if (entry != null) imageGid = entry.gid();

    if (Boolean.TRUE.equals(runAsNonRoot)) {
      if (runAsUser != null) {
        if (runAsUser == 0) {
          throw new ConfigError("container's runAsUser breaks non-root policy (pod: \"" + podName + "\", container: "
              + cname + ")");
        }
      } else if (imageUid != null && imageUid == 0) {
        throw new ConfigError("container has runAsNonRoot and image will run as root (pod: \"" + podName
            + "\", container: " + cname + ")");
      } else if (imageUid == null) {
        throw new ConfigError("container has runAsNonRoot and image has non-numeric user (" + userPart
            + "), cannot verify user is non-root (pod: \"" + podName + "\", container: " + cname + ")");
      }
    }
    long uid;
    if (runAsUser != null) {
      uid = runAsUser;
    } else if (imageUid != null) {
      uid = imageUid;
    } else if (entry != null) {
      uid = entry.uid();
    } else {
      throw new ConfigError("unable to find user " + userPart + ": no matching entries in passwd file");
    }
    long gid = runAsGroup != null ? runAsGroup : imageGid != null ? imageGid : 0;

    Set<Long> groups = new LinkedHashSet<>();
    for (Object g : podSc.getJsonArray("supplementalGroups", new JsonArray())) groups.add(((Number) g).longValue());
    if (podSc.getValue("fsGroup") instanceof Number n) groups.add(n.longValue());
    groups.remove(gid);

    boolean privileged = sc.getBoolean("privileged", false);
    List<String> caps = capabilities(sc.getJsonObject("capabilities", new JsonObject()));
    Boolean allowEscalation = sc.getBoolean("allowPrivilegeEscalation");
    boolean noNewPrivs = !privileged && Boolean.FALSE.equals(allowEscalation);
    return new ContainerSpec.Security(uid, gid, new ArrayList<>(groups), caps,
        sc.getBoolean("readOnlyRootFilesystem", false), privileged, noNewPrivs);
  }

  /** containerd's rule: add ALL, then drop ALL, then the single adds, then the single drops. */
  static List<String> capabilities(JsonObject caps) {
    List<String> add = names(caps.getJsonArray("add", new JsonArray()));
    List<String> drop = names(caps.getJsonArray("drop", new JsonArray()));
    Set<String> out = new LinkedHashSet<>(OciSpec.DEFAULT_CAPABILITIES);
    if (add.contains("CAP_ALL")) out.addAll(OciSpec.ALL_CAPABILITIES);
    if (drop.contains("CAP_ALL")) out.clear();
    for (String a : add) if (!a.equals("CAP_ALL")) out.add(a);
    for (String d : drop) out.remove(d);
    return new ArrayList<>(out);
  }

  private static List<String> names(JsonArray list) {
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      String n = String.valueOf(o).toUpperCase();
      out.add(n.startsWith("CAP_") ? n : "CAP_" + n);
    }
    return out;
  }

  private static Long longOf(JsonObject sc, JsonObject podSc, String key) {
    Object v = sc.containsKey(key) ? sc.getValue(key) : podSc.getValue(key);
    return v instanceof Number n ? n.longValue() : null;
  }
}
