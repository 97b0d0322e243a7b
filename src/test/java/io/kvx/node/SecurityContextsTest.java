package io.kvx.node;

import io.kvx.node.runtime.ContainerSpec;
import io.kvx.node.runtime.OciSpec;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecurityContextsTest {

  private static JsonObject pod(String podSc) {
    return new JsonObject("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u1\"},\"spec\":{"
        + "\"securityContext\":" + podSc + "}}");
  }

  private static ContainerSpec.Security resolve(String podSc, String containerSc, String imageUser) throws Exception {
    JsonObject c = new JsonObject("{\"name\":\"c\",\"securityContext\":" + containerSc + "}");
    return SecurityContexts.resolve(pod(podSc), c, imageUser,
        n -> n.equals("app") ? new SecurityContexts.PasswdEntry(500, 501) : null,
        n -> n.equals("staff") ? 50L : null);
  }

  @Test
  void usersAndGroups() throws Exception {
    ContainerSpec.Security d = resolve("{}", "{}", "");
    assertEquals(0, d.uid());
    assertEquals(OciSpec.DEFAULT_CAPABILITIES, d.capabilities());
    assertFalse(d.noNewPrivileges() || d.readOnlyRoot() || d.privileged());

    ContainerSpec.Security s = resolve("{\"runAsUser\":1000,\"runAsGroup\":3000,\"fsGroup\":2000,"
        + "\"supplementalGroups\":[4000]}", "{\"runAsUser\":1001}", "");
    assertEquals(1001, s.uid(), "the container's field wins");
    assertEquals(3000, s.gid());
    assertEquals(List.of(4000L, 2000L), s.additionalGids());

    assertEquals(500, resolve("{}", "{}", "app").uid(), "a user name from the image's passwd");
    assertEquals(501, resolve("{}", "{}", "app").gid());
    assertEquals(50, resolve("{}", "{}", "app:staff").gid());
    assertEquals(7, resolve("{}", "{}", "7:8").uid());
    assertEquals(8, resolve("{}", "{}", "7:8").gid());
  }

  @Test
  void runAsNonRootWithTheKubeletsErrors() throws Exception {
    SecurityContexts.ConfigError root = assertThrows(SecurityContexts.ConfigError.class,
        () -> resolve("{\"runAsNonRoot\":true}", "{}", ""));
    assertEquals("container has runAsNonRoot and image will run as root (pod: \"p_ns(u1)\", container: c)",
        root.getMessage());
    SecurityContexts.ConfigError named = assertThrows(SecurityContexts.ConfigError.class,
        () -> resolve("{}", "{\"runAsNonRoot\":true}", "app"));
    assertTrue(named.getMessage().startsWith("container has runAsNonRoot and image has non-numeric user (app)"),
        named.getMessage());
    SecurityContexts.ConfigError zero = assertThrows(SecurityContexts.ConfigError.class,
        () -> resolve("{\"runAsNonRoot\":true}", "{\"runAsUser\":0}", ""));
    assertTrue(zero.getMessage().startsWith("container's runAsUser breaks non-root policy"), zero.getMessage());
    assertEquals(1000, resolve("{\"runAsNonRoot\":true,\"runAsUser\":1000}", "{}", "").uid());
    assertEquals(7, resolve("{\"runAsNonRoot\":true}", "{}", "7").uid());
  }

  @Test
  void capabilitiesAsContainerdComputesThem() throws Exception {
    assertEquals(List.of("CAP_NET_BIND_SERVICE"),
        resolve("{}", "{\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\"]}}", "").capabilities());
    List<String> all = resolve("{}", "{\"capabilities\":{\"add\":[\"ALL\"],\"drop\":[\"CHOWN\"]}}", "").capabilities();
    assertTrue(all.contains("CAP_SYS_ADMIN") && !all.contains("CAP_CHOWN"), all.toString());
    List<String> plus = resolve("{}", "{\"capabilities\":{\"add\":[\"NET_ADMIN\"],\"drop\":[\"KILL\"]}}", "")
        .capabilities();
    assertTrue(plus.contains("CAP_NET_ADMIN") && !plus.contains("CAP_KILL") && plus.contains("CAP_CHOWN"));
    ContainerSpec.Security sec = resolve("{}", "{\"allowPrivilegeEscalation\":false,\"readOnlyRootFilesystem\":true}", "");
    assertTrue(sec.noNewPrivileges() && sec.readOnlyRoot());
    assertTrue(resolve("{}", "{\"privileged\":true}", "").privileged());
  }
}
