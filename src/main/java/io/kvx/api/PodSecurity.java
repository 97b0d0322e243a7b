package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
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
  private static final Set<String> SAFE_SYSCTLS = Set.of("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
      "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
      "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
      "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes");
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
    if (level == null) return new Level("privileged", "latest");
    if (!LEVELS.contains(level)) return new Level("restricted", "latest");
    if (!validVersion(version)) version = "latest";
    return new Level(level, version);
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
            "must be \"latest\" or of the form \"v1.x\""));
      }
    }
  }

  /** The pod's violations of a level, in kube's order. */
  public static List<Violation> check(Level level, JsonObject podMeta, JsonObject podSpec) {
    List<Violation> out = new ArrayList<>();
    if (level.privileged() || podSpec == null) return out;
    JsonObject meta = podMeta == null ? new JsonObject() : podMeta;
    JsonObject psc = podSpec.getValue("securityContext") instanceof JsonObject o ? o : new JsonObject();
    List<JsonObject> containers = containers(podSpec);
    boolean restricted = level.level().equals("restricted");
    // baseline
    appArmor(meta, psc, containers, out);
    if (!restricted) baselineCapabilities(containers, out);
    hostNamespaces(podSpec, out);
    hostPathVolumes(podSpec, out);
    hostPorts(containers, out);
    hostProbes(containers, out);
    privileged(containers, out);
    procMount(containers, out);
    seLinux(psc, containers, out);
    if (!restricted) seccompBaseline(psc, containers, out);
    sysctls(psc, out);
    windowsHostProcess(psc, containers, out);
    if (restricted) {
      allowPrivilegeEscalation(containers, out);
      restrictedCapabilities(containers, out);
      restrictedVolumes(podSpec, out);
      runAsNonRoot(psc, containers, out);
      runAsUser(psc, containers, out);
      seccompRestricted(psc, containers, out);
    }
    out.sort(Comparator.comparing(Violation::id));
    return out;
  }

  /** "violates PodSecurity "L:V": reason (detail), ..." (or "would violate" for a warning). */
  public static String message(Level level, List<Violation> violations, boolean warning) {
    List<String> parts = new ArrayList<>();
    for (Violation v : violations) parts.add(v.detail().isEmpty() ? v.reason() : v.reason() + " (" + v.detail() + ")");
    return (warning ? "would violate" : "violates") + " PodSecurity \"" + level + "\": " + String.join(", ", parts);
  }

  /** The pod spec a workload carries (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, RC, PodTemplate, CronJob). */
  public static JsonObject[] template(ResourceType type, JsonObject obj) {
    if (type.isCustom()) return null;
    JsonObject t = switch (type.kind()) {
      case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController" ->
          obj.getJsonObject("spec", new JsonObject()).getJsonObject("template");
      case "PodTemplate" -> obj.getJsonObject("template");
      case "CronJob" -> obj.getJsonObject("spec", new JsonObject()).getJsonObject("jobTemplate", new JsonObject())
          .getJsonObject("spec", new JsonObject()).getJsonObject("template");
      default -> null;
    };
    if (t == null) return null;
    return new JsonObject[] {t.getJsonObject("metadata", new JsonObject()), t.getJsonObject("spec", new JsonObject())};
  }

  /**
   * Whether a pod update needs checking, as kube's: not when only metadata, container images, activeDeadlineSeconds
   * or tolerations changed.
   */
  public static boolean significantUpdate(JsonObject oldPod, JsonObject newPod) {
    JsonObject a = comparable(oldPod);
    JsonObject b = comparable(newPod);
    return !a.equals(b);
  }

  private static JsonObject comparable(JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject()).copy();
    spec.remove("activeDeadlineSeconds");
    spec.remove("tolerations");
    for (String list : List.of("containers", "initContainers", "ephemeralContainers")) {
      if (spec.getValue(list) instanceof JsonArray cs) {
        for (Object c : cs) {
          if (c instanceof JsonObject co) co.remove("image");
        }
      }
    }
    return new JsonObject().put("spec", spec).put("annotations", Meta.meta(pod).getJsonObject("annotations",
        new JsonObject()));
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
    Set<String> ports = new LinkedHashSet<>();
    for (JsonObject c : containers) {
      boolean uses = false;
      for (Object p : c.getValue("ports") instanceof JsonArray a ? a : new JsonArray()) {
        if (p instanceof JsonObject po && po.getValue("hostPort") instanceof Number n && n.intValue() != 0) {
          ports.add(String.valueOf(n.intValue()));
          uses = true;
        }
      }
      if (uses) bad.add(name(c));
    }
    if (!bad.isEmpty()) {
      out.add(new Violation("hostPorts", "hostPort", containersPhrase(bad) + " " + plural("uses", "use", bad.size())
          + " " + plural("hostPort", "hostPorts", ports.size()) + " " + String.join(", ", ports)));
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
    Set<String> problems = new LinkedHashSet<>();
    if (badSeLinux(psc.getJsonObject("seLinuxOptions"), problems)) setters.add("pod");
    List<String> bad = new ArrayList<>();
    for (JsonObject c : containers) {
      if (badSeLinux(sc(c).getJsonObject("seLinuxOptions"), problems)) bad.add(name(c));
    }
    if (!bad.isEmpty()) setters.add(containersPhrase(bad));
    if (!setters.isEmpty()) {
      out.add(new Violation("seLinuxOptions", "seLinuxOptions", String.join(" and ", setters) + " set forbidden "
          + "securityContext.seLinuxOptions: " + String.join("; ", problems)));
    }
  }

  private static boolean badSeLinux(JsonObject o, Set<String> problems) {
    if (o == null) return false;
    boolean bad = false;
    String type = o.getString("type", "");
    if (!SELINUX_TYPES.contains(type)) {
      problems.add("type \"" + type + "\"");
      bad = true;
    }
    for (String f : List.of("user", "role")) {
      if (!o.getString(f, "").isEmpty()) {
        problems.add(f + " \"" + o.getString(f) + "\"");
        bad = true;
      }
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
    List<String> details = new ArrayList<>();
    if (!setters.isEmpty()) {
      details.add(String.join(" and ", setters) + " must not set securityContext.seccompProfile.type to "
          + joinQuote(badTypes));
    }
    if (!implicit.isEmpty()) {
      details.add("pod or " + containersPhrase(implicit) + " must set securityContext.seccompProfile.type to "
          + "\"RuntimeDefault\" or \"Localhost\"");
    }
    if (!details.isEmpty()) out.add(new Violation("seccompProfile_restricted", "seccompProfile", String.join("; ", details)));
  }

  private static void sysctls(JsonObject psc, List<Violation> out) {
    List<String> bad = new ArrayList<>();
    for (Object s : psc.getValue("sysctls") instanceof JsonArray a ? a : new JsonArray()) {
      String name = s instanceof JsonObject o ? o.getString("name", "") : "";
      if (!SAFE_SYSCTLS.contains(name)) bad.add(name);
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
    if (unconfined(psc)) bad.add("pod must not set securityContext.appArmorProfile.type to \"Unconfined\"");
    List<String> cs = new ArrayList<>();
    for (JsonObject c : containers) {
      if (unconfined(sc(c))) cs.add(name(c));
    }
    if (!cs.isEmpty()) {
      bad.add(containersPhrase(cs) + " must not set securityContext.appArmorProfile.type to \"Unconfined\"");
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
    List<String> details = new ArrayList<>();
    if (!setters.isEmpty()) details.add(String.join(" and ", setters) + " must not set securityContext.runAsNonRoot=false");
    if (!implicit.isEmpty()) {
      details.add("pod or " + containersPhrase(implicit) + " must set securityContext.runAsNonRoot=true");
    }
    if (!details.isEmpty()) out.add(new Violation("runAsNonRoot", "runAsNonRoot != true", String.join("; ", details)));
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
