package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PodSecurityTest {

  private static final PodSecurity.Level RESTRICTED = new PodSecurity.Level("restricted", "latest");
  private static final PodSecurity.Level BASELINE = new PodSecurity.Level("baseline", "v1.35");

  private static String check(PodSecurity.Level level, String spec) {
    List<PodSecurity.Violation> v = PodSecurity.check(level, new JsonObject(), new JsonObject(spec));
    return v.isEmpty() ? "" : PodSecurity.message(level, v, false);
  }

  @Test
  void aPlainPodViolatesRestrictedInKubesWords() {
    assertEquals("violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"p\" must "
        + "set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"p\" must set "
        + "securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"p\" must set "
        + "securityContext.runAsNonRoot=true), seccompProfile (pod or container \"p\" must set "
        + "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
        check(RESTRICTED, "{\"containers\":[{\"name\":\"p\",\"image\":\"busybox\"}]}"));
    assertEquals("", check(BASELINE, "{\"containers\":[{\"name\":\"p\",\"image\":\"busybox\"}]}"));
  }

  @Test
  void aCompliantPodPassesRestricted() {
    assertEquals("", check(RESTRICTED, """
        {"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
         "volumes":[{"name":"c","configMap":{"name":"x"}},{"name":"e","emptyDir":{}}],
         "containers":[{"name":"p","securityContext":{"allowPrivilegeEscalation":false,
           "capabilities":{"drop":["ALL"],"add":["NET_BIND_SERVICE"]}}}]}"""));
  }

  @Test
  void baselineChecks() {
    assertEquals("violates PodSecurity \"baseline:v1.35\": host namespaces (hostNetwork=true, hostPID=true), hostPath "
        + "volumes (volume \"h\"), hostPort (containers \"a\", \"b\" use hostPorts 80, 443), privileged (container \"a\" "
        + "must not set securityContext.privileged=true), forbidden sysctls (net.core.somaxconn)",
        check(BASELINE, """
        {"hostNetwork":true,"hostPID":true,"securityContext":{"sysctls":[{"name":"net.core.somaxconn","value":"1"},
           {"name":"net.ipv4.ip_local_port_range","value":"1 2"}]},
         "volumes":[{"name":"h","hostPath":{"path":"/"}}],
         "containers":[{"name":"a","ports":[{"containerPort":80,"hostPort":80}],"securityContext":{"privileged":true}},
           {"name":"b","ports":[{"containerPort":443,"hostPort":443}]}]}"""));
    assertTrue(check(BASELINE, "{\"containers\":[{\"name\":\"b\",\"securityContext\":{\"capabilities\":{\"add\":"
        + "[\"SYS_TIME\",\"NET_ADMIN\",\"CHOWN\"]}}}]}").endsWith("non-default capabilities (container \"b\" must not "
        + "include \"NET_ADMIN\", \"SYS_TIME\" in securityContext.capabilities.add)"));
  }

  @Test
  void levelsFromLabelsAndTheirValidation() {
    assertEquals("privileged:latest", PodSecurity.level(Map.of(), "enforce").toString());
    assertEquals("baseline:v1.30", PodSecurity.level(Map.of(PodSecurity.PREFIX + "warn", "baseline",
        PodSecurity.PREFIX + "warn-version", "v1.30"), "warn").toString());
    assertEquals("restricted:latest", PodSecurity.level(Map.of(PodSecurity.PREFIX + "enforce", "strict"), "enforce")
        .toString(), "an invalid level fails closed");
    List<ApiError.Cause> causes = new ArrayList<>();
    PodSecurity.validateLabels(Map.of(PodSecurity.PREFIX + "enforce", "strict"), causes);
    assertEquals("metadata.labels[pod-security.kubernetes.io/enforce]", causes.get(0).field());
  }

  @Test
  void onlySignificantPodUpdatesAreChecked() {
    JsonObject pod = new JsonObject("{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
        + "\"image\":\"x:1\"}]}}");
    JsonObject relabelled = pod.copy();
    relabelled.getJsonObject("metadata").put("labels", new JsonObject().put("a", "c"));
    relabelled.getJsonObject("spec").put("activeDeadlineSeconds", 5);
    assertFalse(PodSecurity.significantUpdate(pod, relabelled), "metadata and other mutable fields: not checked");
    JsonObject newImage = pod.copy();
    newImage.getJsonObject("spec").getJsonArray("containers").getJsonObject(0).put("image", "x:2");
    assertTrue(PodSecurity.significantUpdate(pod, newImage), "an image change is checked, as kube's");
  }

  @Test
  void restrictedListsBaselineChecksFirstAndReplacesSomeOfThem() {
    String message = check(RESTRICTED, """
        {"hostNetwork":true,"volumes":[{"name":"h","hostPath":{"path":"/"}}],
         "securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
         "containers":[{"name":"p","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}""");
    assertEquals("violates PodSecurity \"restricted:latest\": host namespaces (hostNetwork=true), restricted volume types "
        + "(volume \"h\" uses restricted volume type \"hostPath\")", message);
  }

  @Test
  void versionsAndRelaxations() {
    String sysctl = "{\"securityContext\":{\"sysctls\":[{\"name\":\"net.ipv4.ip_local_reserved_ports\",\"value\":\"1\"}]},"
        + "\"containers\":[{\"name\":\"c\"}]}";
    assertEquals("", check(BASELINE, sysctl));
    assertTrue(check(new PodSecurity.Level("baseline", "v1.26"), sysctl).contains("forbidden sysctls "
        + "(net.ipv4.ip_local_reserved_ports)"));
    assertEquals("", check(BASELINE, "{\"securityContext\":{\"sysctls\":[{\"name\":\"net.ipv4.tcp_rmem\"}]},"
        + "\"containers\":[{\"name\":\"c\"}]}"));
    // A pod in its own user namespace may run as root; a Windows pod needs no Linux-only settings.
    assertEquals("", check(RESTRICTED, """
        {"hostUsers":false,"securityContext":{"runAsUser":0,"seccompProfile":{"type":"RuntimeDefault"}},
         "containers":[{"name":"p","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}"""));
    assertEquals("", check(RESTRICTED, "{\"os\":{\"name\":\"windows\"},\"securityContext\":{\"runAsNonRoot\":true},"
        + "\"containers\":[{\"name\":\"p\"}]}"));
    assertEquals("restricted:latest", PodSecurity.level(Map.of(PodSecurity.PREFIX + "enforce", "restricted"), "warn")
        .toString(), "warn defaults to enforce");
  }

  @Test
  void existingPodsWithTheSameViolationsAreGrouped() {
    List<JsonObject> pods = new ArrayList<>();
    for (String n : List.of("a", "b", "c")) {
      pods.add(new JsonObject().put("metadata", new JsonObject().put("name", n))
          .put("spec", new JsonObject("{\"hostNetwork\":true,\"containers\":[{\"name\":\"c\"}]}")));
    }
    pods.add(new JsonObject().put("metadata", new JsonObject().put("name", "d"))
        .put("spec", new JsonObject("{\"containers\":[{\"name\":\"c\",\"securityContext\":{\"privileged\":true}}]}")));
    assertEquals(List.of("existing pods in namespace \"ns\" violate the new PodSecurity enforce level \"baseline:v1.35\"",
        "a (and 2 other pods): host namespaces", "d: privileged"), PodSecurity.existingPodWarnings("ns", BASELINE, pods));
  }
}
