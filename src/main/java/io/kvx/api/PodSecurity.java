package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Pod Security Admission, kube-apiserver's built-in PodSecurity plugin: a namespace's
 * {@code pod-security.kubernetes.io/enforce|warn|audit} labels (privileged, baseline, restricted, with an optional
 * {@code -version}) and the Pod Security Standards' checks of a pod spec, with kube's wording: a pod that violates the
 * enforce level is refused ({@code violates PodSecurity "restricted:latest": ...}); a pod or a workload's template that
 * violates the warn level gets a warning ({@code would violate PodSecurity ...}). Without labels a namespace is
 * privileged (kube's default configuration, no exemptions). Pure.
 */
public final class PodSecurity {

  public static final String PREFIX = "pod-security.kubernetes.io/";
  static final List<String> LEVELS = List.of("privileged", "baseline", "restricted");
  private static final Set<String> BASELINE_CAPABILITIES = Set.of("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER",
      "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT");
  /** The safe sysctls and the policy version that first allows each. */
  private static final Map<String, Integer> SAFE_SYSCTLS = Map.ofEntries(Map.entry("kernel.shm_rmid_forced", 0),
      Map.entry("net.ipv4.ip_local_port_range", 0), Map.entry("net.ipv4.ip_unprivileged_port_start", 0),
      Map.entry("net.ipv4.tcp_syncookies", 0), Map.entry("net.ipv4.ping_group_range", 0),
      Map.entry("net.ipv4.ip_local_reserved_ports", 27), Map.entry("net.ipv4.tcp_keepalive_time", 29),
      Map.entry("net.ipv4.tcp_fin_timeout", 29), Map.entry("net.ipv4.tcp_keepalive_intvl", 29),
      Map.entry("net.ipv4.tcp_keepalive_probes", 29), Map.entry("net.ipv4.tcp_rmem", 32),
      Map.entry("net.ipv4.tcp_wmem", 32));
  private static final Set<String> RESTRICTED_VOLUMES_ALLOWED = Set.of("configMap", "csi", "downwardAPI", "emptyDir",
      "ephemeral", "image", "persistentVolumeClaim", "projected", "secret");
  private static final Set<String> SELINUX_TYPES = Set.of("", "container_t", "container_init_t", "container_kvm_t",
      "container_engine_t");

  private PodSecurity() {
  }

  /** A level and version, as a namespace label pair names them ("restricted:latest"). */
  public record Level(String level, String version) {
    public boolean privileged() {
      return level.equals("privileged");
    }

    @Override
    public String toString() {
      return level + ":" + version;
    }
  }

  /** One failed check: its id (the order kube reports them in), reason and detail. */
  public record Violation(String id, String reason, String detail) {}

  /**
   * The level of a mode (enforce, warn, audit) from a namespace's labels: privileged:latest when unset; an invalid
   * value counts as restricted:latest (kube fails closed).
   */
  public static Level level(Map<String, String> labels, String mode) {
    String level = labels.get(PREFIX + mode);
    String version = labels.getOrDefault(PREFIX + mode + "-version", "latest");
    // As kube: warn and audit default to a stricter enforce level.
    if (level == null && !mode.equals("enforce") && labels.get(PREFIX + "enforce") != null) {
      Level enforce = level(labels, "enforce");
      return labels.containsKey(PREFIX + mode + "-version") && validVersion(version)
          ? new Level(enforce.level(), version) : enforce;
    }
    if (level == null) return new Level("privileged", "latest");
    if (!LEVELS.contains(level)) return new Level("restricted", "latest");
    if (!validVersion(version)) version = "latest";
    return new Level(level, version);
  }

  /** The minor version a level checks as (latest: 35). */
  static int minor(Level level) {
    return level.version().equals("latest") ? 35 : Integer.parseInt(level.version().substring(3));
  }

  private static boolean validVersion(String v) {
    return v.equals("latest") || v.matches("v1\\.(0|[1-9][0-9]*)");
  }

  /** A namespace's pod-security labels, checked as kube's admission checks them on namespace writes. */
  public static void validateLabels(Map<String, String> labels, List<ApiError.Cause> causes) {
    for (String mode : List.of("enforce", "warn", "audit")) {
      String level = labels.get(PREFIX + mode);
      if (level != null && !LEVELS.contains(level)) {
        causes.add(Causes.invalid("metadata.labels[" + PREFIX + mode + "]", level,
            "must be one of privileged, baseline, restricted"));
      }
      String version = labels.get(PREFIX + mode + "-version");
      if (version != null && !validVersion(version)) {
        causes.add(Causes.invalid("metadata.labels[" + PREFIX + mode + "-version]", version,
            "must be \"latest\" or \"v1.x\""));
      }
    }
  }

  /**
   * The pod's violations of a level, in kube's order: the baseline checks, then the restricted ones (which replace
   * the baseline checks of hostPath volumes, capabilities and seccomp), each group by check id.
   */
  public static List<Violation> check(Level level, JsonObject podMeta, JsonObject podSpec) {
    List<Violation> out = new ArrayList<>();
    if (level.privileged() || podSpec == null) return out;
    int minor = minor(level);
    JsonObject meta = podMeta == null ? new JsonObject() : podMeta;
    JsonObject psc = podSpec.getValue("securityContext") instanceof JsonObject o ? o : new JsonObject();
    List<JsonObject> containers = containers(podSpec);
    boolean restricted = level.level().equals("restricted");
    // Pods in their own user namespace (hostUsers: false) may run as root inside it (kube 1.35).
    boolean userNamespace = Boolean.FALSE.equals(podSpec.getValue("hostUsers")) && minor >= 35;
    boolean windows = podSpec.getValue("os") instanceof JsonObject os && "windows".equals(os.getString("name"))
        && minor >= 25;
    appArmor(meta, psc, containers, out);
    if (!restricted) baselineCapabilities(containers, out);
    hostNamespaces(podSpec, out);
    if (!restricted) hostPathVolumes(podSpec, out);
    hostPorts(containers, out);
    if (minor >= 34) hostProbes(containers, out);
    privileged(containers, out);
    if (!userNamespace) procMount(containers, out);
    seLinux(psc, containers, out);
    if (!restricted) seccompBaseline(psc, containers, out);
    sysctls(psc, minor, out);
    windowsHostProcess(psc, containers, out);
    out.sort(Comparator.comparing(Violation::id));
    if (restricted) {
      List<Violation> more = new ArrayList<>();
      if (!windows) allowPrivilegeEscalation(containers, more);
      if (!windows) restrictedCapabilities(containers, more);
      restrictedVolumes(podSpec, more);
      if (!userNamespace) runAsNonRoot(psc, containers, more);
      if (!userNamespace) runAsUser(psc, containers, more);
      if (!windows) seccompRestricted(psc, containers, more);
      more.sort(Comparator.comparing(Violation::id));
      out.addAll(more);
    }
    return out;
  }

  /**
   * The warnings of a new enforce level over a namespace's pods, as kube's: a header, then one line per distinct list
   * of failed checks, naming the first pod and how many others share it.
   */
  public static List<String> existingPodWarnings(String namespace, Level enforce, List<JsonObject> pods) {
    Map<String, List<String>> byReasons = new java.util.LinkedHashMap<>();
    for (JsonObject p : pods) {
      List<Violation> v = check(enforce, Meta.meta(p), p.getJsonObject("spec"));
      if (v.isEmpty()) continue;
      String reasons = String.join(", ", v.stream().map(Violation::reason).toList());
      byReasons.computeIfAbsent(reasons, k -> new ArrayList<>()).add(Meta.name(p));
    }
    List<String> out = new ArrayList<>();
    if (byReasons.isEmpty()) return out;
    out.add("existing pods in namespace \"" + namespace + "\" violate the new PodSecurity enforce level \"" + enforce
        + "\"");
    for (Map.Entry<String, List<String>> e : byReasons.entrySet()) {
      List<String> names = e.getValue();
      String who = names.get(0) + (names.size() == 1 ? "" : " (and " + (names.size() - 1) + " other "
          + plural("pod", "pods", names.size() - 1) + ")");
      out.add(who + ": " + e.getKey());
    }
    return out;
  }

  /** "violates PodSecurity "L:V": reason (detail), ..." (or "would violate" for a warning). */
  public static String message(Level level, List<Violation> violations, boolean warning) {
    List<String> parts = new ArrayList<>();
    for (Violation v : violations) parts.add(v.detail().isEmpty() ? v.reason() : v.reason() + " (" + v.detail() + ")");
    return (warning ? "would violate" : "violates") + " PodSecurity \"" + level + "\": " + String.join(", ", parts);
  }

  private static final Set<String> WORKLOADS = Set.of("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
      "ReplicationController", "PodTemplate", "CronJob");

  /** The pod template's metadata and spec of a workload (Deployment, ..., PodTemplate, CronJob); null for others. */
  public static JsonObject[] template(ResourceType type, JsonObject obj) {
    if (type.isCustom() || !WORKLOADS.contains(type.kind())) return null;
    JsonObject t = WorkloadColumns.template(obj);
    return new JsonObject[] {t.getJsonObject("metadata", new JsonObject()), t.getJsonObject("spec", new JsonObject())};
  }

  /**
   * Whether a pod update needs checking, as kube's: only when a container's image, the number of containers or the
   * seccomp annotations change (the rest of a pod's spec cannot change).
   */
  public static boolean significantUpdate(JsonObject oldPod, JsonObject newPod) {
    JsonObject a = oldPod.getJsonObject("spec", new JsonObject());
    JsonObject b = newPod.getJsonObject("spec", new JsonObject());
    for (String list : List.of("containers", "initContainers")) {
      JsonArray x = a.getValue(list) instanceof JsonArray l ? l : new JsonArray();
      JsonArray y = b.getValue(list) instanceof JsonArray l ? l : new JsonArray();
      if (x.size() != y.size()) return true;
      for (int i = 0; i < x.size(); i++) {
        if (!java.util.Objects.equals(((JsonObject) x.getValue(i)).getString("image"),
            ((JsonObject) y.getValue(i)).getString("image"))) return true;
      }
    }
    JsonObject oa = Meta.meta(oldPod).getJsonObject("annotations", new JsonObject());
    JsonObject na = Meta.meta(newPod).getJsonObject("annotations", new JsonObject());
    Set<String> keys = new TreeSet<>(oa.fieldNames());
    keys.addAll(na.fieldNames());
    for (String k : keys) {
      if (k.startsWith("seccomp.security.alpha.kubernetes.io/") || k.startsWith("container.seccomp.security.alpha")) {
        if (!java.util.Objects.equals(oa.getValue(k), na.getValue(k))) return true;
      }
    }
    return false;
  }

  // ---- the checks ----

  private static List<JsonObject> containers(JsonObject spec) {
    List<JsonObject> out = new ArrayList<>();
    for (String list : List.of("initContainers", "containers", "ephemeralContainers")) {
      if (spec.getValue(list) instanceof JsonArray cs) {
        for (Object c : cs) {
          if (c instanceof JsonObject co) out.add(co);
        }
      }
    }
    return out;
  }

  private static JsonObject sc(JsonObject container) {
    return container.getValue("securityContext") instanceof JsonObject o ? o : new JsonObject();
  }

  private static String name(JsonObject c) {
    return c.getString("name", "");
  }

  private static String joinQuote(Iterable<String> items) {
    List<String> q = new ArrayList<>();
    for (String s : items) q.add("\"" + s + "\"");
    return String.join(", ", q);
  }

  private static String plural(String one, String many, int n) {
    return n == 1 ? one : many;
  }

  private static String containersPhrase(List<String> names) {
    return plural("container", "containers", names.size()) + " " + joinQuote(names);
  }

  private static void privileged(List<JsonObject> containers, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    for (JsonObject c : containers) {
      if (Boolean.TRUE.equals(sc(c).getValue("privileged"))) bad.add(name(c));
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("privileged", "privileged", containersPhrase(bad)
          + " must not set securityContext.privileged=true"));
    }
  }

  private static void hostNamespaces(JsonObject spec, List<Violation> out) {
    List<String> set = new ArrayList<>();
    for (String f : List.of("hostNetwork", "hostPID", "hostIPC")) {
      if (Boolean.TRUE.equals(spec.getValue(f))) set.add(f + "=true");
    }
    if (!set.isEmpty()) out.add(new Violation("hostNamespaces", "host namespaces", String.join(", ", set)));
  }

  private static void capabilities(List<JsonObject> containers, Set<String> allowed, String id, String reason,
                                   boolean requireDropAll, List<Violation> out) {
    List<String> missingDrop = new ArrayList<>();
    List<String> adding = new ArrayList<>();
    Set<String> forbidden = new TreeSet<>();
    for (JsonObject c : containers) {
      JsonObject caps = sc(c).getValue("capabilities") instanceof JsonObject o ? o : new JsonObject();
      JsonArray drop = caps.getValue("drop") instanceof JsonArray d ? d : new JsonArray();
      if (requireDropAll && !drop.contains("ALL")) missingDrop.add(name(c));
      boolean added = false;
      for (Object a : caps.getValue("add") instanceof JsonArray arr ? arr : new JsonArray()) {
        if (!allowed.contains(String.valueOf(a))) {
          forbidden.add(String.valueOf(a));
          added = true;
        }
      }
      if (added) adding.add(name(c));
    }
    List<String> details = new ArrayList<>();
    if (!missingDrop.isEmpty()) {
      details.add(containersPhrase(missingDrop) + " must set securityContext.capabilities.drop=[\"ALL\"]");
    }
    if (!adding.isEmpty()) {
      details.add(containersPhrase(adding) + " must not include " + joinQuote(forbidden)
          + " in securityContext.capabilities.add");
    }
    if (!details.isEmpty()) out.add(new Violation(id, reason, String.join("; ", details)));
  }

  private static void baselineCapabilities(List<JsonObject> containers, List<Violation> out) {
    capabilities(containers, BASELINE_CAPABILITIES, "capabilities_baseline", "non-default capabilities", false, out);
  }

  private static void restrictedCapabilities(List<JsonObject> containers, List<Violation> out) {
    capabilities(containers, Set.of("NET_BIND_SERVICE"), "capabilities_restricted", "unrestricted capabilities", true,
        out);
  }

  private static List<JsonObject> volumes(JsonObject spec) {
    List<JsonObject> out = new ArrayList<>();
    for (Object v : spec.getValue("volumes") instanceof JsonArray a ? a : new JsonArray()) {
      if (v instanceof JsonObject o) out.add(o);
    }
    return out;
  }

  private static String volumeType(JsonObject v) {
    for (String f : v.fieldNames()) {
      if (!f.equals("name")) return f;
    }
    return "";
  }

  private static void hostPathVolumes(JsonObject spec, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    for (JsonObject v : volumes(spec)) {
      if (v.getValue("hostPath") != null) bad.add(v.getString("name", ""));
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("hostPathVolumes", "hostPath volumes", plural("volume", "volumes", bad.size()) + " "
          + joinQuote(bad)));
    }
  }

  private static void restrictedVolumes(JsonObject spec, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    Set<String> types = new TreeSet<>();
    for (JsonObject v : volumes(spec)) {
      String type = volumeType(v);
      if (!RESTRICTED_VOLUMES_ALLOWED.contains(type)) {
        bad.add(v.getString("name", ""));
        types.add(type);
      }
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("restrictedVolumes", "restricted volume types", plural("volume", "volumes", bad.size())
          + " " + joinQuote(bad) + " " + plural("uses", "use", bad.size()) + " "
          + plural("restricted volume type", "restricted volume types", types.size()) + " " + joinQuote(types)));
    }
  }

  private static void hostPorts(List<JsonObject> containers, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    Set<Integer> ports = new TreeSet<>();
    for (JsonObject c : containers) {
      boolean uses = false;
      for (Object p : c.getValue("ports") instanceof JsonArray a ? a : new JsonArray()) {
        if (p instanceof JsonObject po && po.getValue("hostPort") instanceof Number n && n.intValue() != 0) {
          ports.add(n.intValue());
          uses = true;
        }
      }
      if (uses) bad.add(name(c));
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("hostPorts", "hostPort", containersPhrase(bad) + " " + plural("uses", "use", bad.size())
          + " " + plural("hostPort", "hostPorts", ports.size()) + " "
          + String.join(", ", ports.stream().map(String::valueOf).toList())));
    }
  }

  private static void hostProbes(List<JsonObject> containers, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    Set<String> hosts = new TreeSet<>();
    for (JsonObject c : containers) {
      boolean uses = false;
      List<JsonObject> handlers = new ArrayList<>();
      for (String p : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
        if (c.getValue(p) instanceof JsonObject o) handlers.add(o);
      }
      if (c.getValue("lifecycle") instanceof JsonObject l) {
        for (String h : List.of("postStart", "preStop")) {
          if (l.getValue(h) instanceof JsonObject o) handlers.add(o);
        }
      }
      for (JsonObject h : handlers) {
        for (String kind : List.of("httpGet", "tcpSocket")) {
          if (h.getValue(kind) instanceof JsonObject a && !a.getString("host", "").isEmpty()) {
            hosts.add(a.getString("host"));
            uses = true;
          }
        }
      }
      if (uses) bad.add(name(c));
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("hostProbesAndHostLifecycle", "probe or lifecycle host", containersPhrase(bad) + " "
          + plural("uses", "use", bad.size()) + " " + plural("probe or lifecycle host", "probe or lifecycle hosts",
          hosts.size()) + " " + joinQuote(hosts)));
    }
  }

  private static void procMount(List<JsonObject> containers, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    Set<String> types = new TreeSet<>();
    for (JsonObject c : containers) {
      String pm = sc(c).getString("procMount");
      if (pm != null && !pm.equals("Default")) {
        bad.add(name(c));
        types.add(pm);
      }
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("procMount", "procMount", containersPhrase(bad) + " must not set securityContext.procMount to "
          + joinQuote(types)));
    }
  }

  private static void seLinux(JsonObject psc, List<JsonObject> containers, List<Violation> out) {
    List<String> setters = new ArrayList<>();
    Set<String> badTypes = new TreeSet<>();
    boolean[] userRole = new boolean[2];
    if (badSeLinux(psc.getJsonObject("seLinuxOptions"), badTypes, userRole)) setters.add("pod");
    List<String> bad = new ArrayList<>();
    for (JsonObject c : containers) {
      if (badSeLinux(sc(c).getJsonObject("seLinuxOptions"), badTypes, userRole)) bad.add(name(c));
    }
    if (!bad.isEmpty()) setters.add(containersPhrase(bad));
    if (setters.isEmpty()) return;
    List<String> detail = new ArrayList<>();
    if (!badTypes.isEmpty()) detail.add(plural("type", "types", badTypes.size()) + " " + joinQuote(badTypes));
    if (userRole[0]) detail.add("user may not be set");
    if (userRole[1]) detail.add("role may not be set");
    out.add(new Violation("seLinuxOptions", "seLinuxOptions", String.join(" and ", setters) + " set forbidden "
        + "securityContext.seLinuxOptions: " + String.join("; ", detail)));
  }

  private static boolean badSeLinux(JsonObject o, Set<String> badTypes, boolean[] userRole) {
    if (o == null) return false;
    boolean bad = false;
    String type = o.getString("type", "");
    if (!SELINUX_TYPES.contains(type)) {
      badTypes.add(type);
      bad = true;
    }
    if (!o.getString("user", "").isEmpty()) {
      userRole[0] = true;
      bad = true;
    }
    if (!o.getString("role", "").isEmpty()) {
      userRole[1] = true;
      bad = true;
    }
    return bad;
  }

  private static String seccompType(JsonObject sc) {
    return sc.getValue("seccompProfile") instanceof JsonObject p ? p.getString("type") : null;
  }

  private static void seccompBaseline(JsonObject psc, List<JsonObject> containers, List<Violation> out) {
    List<String> setters = new ArrayList<>();
    if ("Unconfined".equals(seccompType(psc))) setters.add("pod");
    List<String> bad = new ArrayList<>();
    for (JsonObject c : containers) {
      if ("Unconfined".equals(seccompType(sc(c)))) bad.add(name(c));
    }
    if (!bad.isEmpty()) setters.add(containersPhrase(bad));
    if (!setters.isEmpty()) {
      out.add(new Violation("seccompProfile_baseline", "seccompProfile", String.join(" and ", setters)
          + " must not set securityContext.seccompProfile.type to \"Unconfined\""));
    }
  }

  private static void seccompRestricted(JsonObject psc, List<JsonObject> containers, List<Violation> out) {
    String podType = seccompType(psc);
    boolean podOk = "RuntimeDefault".equals(podType) || "Localhost".equals(podType);
    List<String> setters = new ArrayList<>();
    Set<String> badTypes = new TreeSet<>();
    if (podType != null && !podOk) {
      setters.add("pod");
      badTypes.add(podType);
    }
    List<String> explicit = new ArrayList<>();
    List<String> implicit = new ArrayList<>();
    for (JsonObject c : containers) {
      String t = seccompType(sc(c));
      if (t == null) {
        if (!podOk) implicit.add(name(c));
      } else if (!t.equals("RuntimeDefault") && !t.equals("Localhost")) {
        explicit.add(name(c));
        badTypes.add(t);
      }
    }
    if (!explicit.isEmpty()) setters.add(containersPhrase(explicit));
    // As kube's: what is set wrongly is reported first, and alone.
    if (!setters.isEmpty()) {
      out.add(new Violation("seccompProfile_restricted", "seccompProfile", String.join(" and ", setters)
          + " must not set securityContext.seccompProfile.type to " + joinQuote(badTypes)));
    } else if (!implicit.isEmpty()) {
      out.add(new Violation("seccompProfile_restricted", "seccompProfile", "pod or " + containersPhrase(implicit)
          + " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""));
    }
  }

  private static void sysctls(JsonObject psc, int minor, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    for (Object s : psc.getValue("sysctls") instanceof JsonArray a ? a : new JsonArray()) {
      String name = s instanceof JsonObject o ? o.getString("name", "") : "";
      Integer since = SAFE_SYSCTLS.get(name);
      if (since == null || minor < since) bad.add(name);
    }
    if (!bad.isEmpty()) out.add(new Violation("sysctls", "forbidden sysctls", String.join(", ", bad)));
  }

  private static void appArmor(JsonObject meta, JsonObject psc, List<JsonObject> containers, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    JsonObject annotations = meta.getValue("annotations") instanceof JsonObject a ? a : new JsonObject();
    for (String key : new TreeSet<>(annotations.fieldNames())) {
      if (key.startsWith("container.apparmor.security.beta.kubernetes.io/")) {
        String v = String.valueOf(annotations.getValue(key));
        if (!v.equals("runtime/default") && !v.startsWith("localhost/")) bad.add(key + "=\"" + v + "\"");
      }
    }
    if (unconfined(psc)) bad.add("pod must not set AppArmor profile type to \"Unconfined\"");
    List<String> cs = new ArrayList<>();
    for (JsonObject c : containers) {
      if (unconfined(sc(c))) cs.add(name(c));
    }
    if (!cs.isEmpty()) {
      bad.add(containersPhrase(cs) + " must not set AppArmor profile type to \"Unconfined\"");
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("appArmorProfile", plural("forbidden AppArmor profile", "forbidden AppArmor profiles",
          bad.size()), String.join(", ", bad)));
    }
  }

  private static boolean unconfined(JsonObject sc) {
    return sc.getValue("appArmorProfile") instanceof JsonObject p && "Unconfined".equals(p.getString("type"));
  }

  private static void windowsHostProcess(JsonObject psc, List<JsonObject> containers, List<Violation> out) {
    List<String> setters = new ArrayList<>();
    if (hostProcess(psc)) setters.add("pod");
    List<String> bad = new ArrayList<>();
    for (JsonObject c : containers) {
      if (hostProcess(sc(c))) bad.add(name(c));
    }
    if (!bad.isEmpty()) setters.add(containersPhrase(bad));
    if (!setters.isEmpty()) {
      out.add(new Violation("windowsHostProcess", "hostProcess", String.join(" and ", setters)
          + " must not set securityContext.windowsOptions.hostProcess=true"));
    }
  }

  private static boolean hostProcess(JsonObject sc) {
    return sc.getValue("windowsOptions") instanceof JsonObject w && Boolean.TRUE.equals(w.getValue("hostProcess"));
  }

  private static void allowPrivilegeEscalation(List<JsonObject> containers, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    for (JsonObject c : containers) {
      if (!Boolean.FALSE.equals(sc(c).getValue("allowPrivilegeEscalation"))) bad.add(name(c));
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("allowPrivilegeEscalation", "allowPrivilegeEscalation != false", containersPhrase(bad)
          + " must set securityContext.allowPrivilegeEscalation=false"));
    }
  }

  private static void runAsNonRoot(JsonObject psc, List<JsonObject> containers, List<Violation> out) {
    Object pod = psc.getValue("runAsNonRoot");
    List<String> setters = new ArrayList<>();
    if (Boolean.FALSE.equals(pod)) setters.add("pod");
    List<String> explicit = new ArrayList<>();
    List<String> implicit = new ArrayList<>();
    for (JsonObject c : containers) {
      Object v = sc(c).getValue("runAsNonRoot");
      if (Boolean.FALSE.equals(v)) explicit.add(name(c));
      else if (v == null && !Boolean.TRUE.equals(pod)) implicit.add(name(c));
    }
    if (!explicit.isEmpty()) setters.add(containersPhrase(explicit));
    if (!setters.isEmpty()) {
      out.add(new Violation("runAsNonRoot", "runAsNonRoot != true", String.join(" and ", setters)
          + " must not set securityContext.runAsNonRoot=false"));
    } else if (!implicit.isEmpty()) {
      out.add(new Violation("runAsNonRoot", "runAsNonRoot != true", "pod or " + containersPhrase(implicit)
          + " must set securityContext.runAsNonRoot=true"));
    }
  }

  private static void runAsUser(JsonObject psc, List<JsonObject> containers, List<Violation> out) {
    List<String> setters = new ArrayList<>();
    if (psc.getValue("runAsUser") instanceof Number n && n.longValue() == 0) setters.add("pod");
    List<String> bad = new ArrayList<>();
    for (JsonObject c : containers) {
      if (sc(c).getValue("runAsUser") instanceof Number n && n.longValue() == 0) bad.add(name(c));
    }
    if (!bad.isEmpty()) setters.add(containersPhrase(bad));
    if (!setters.isEmpty()) {
      out.add(new Violation("runAsUser", "runAsUser=0", String.join(" and ", setters) + " must not set runAsUser=0"));
    }
  }
}
