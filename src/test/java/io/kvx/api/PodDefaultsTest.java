package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class PodDefaultsTest {

  private static JsonObject spec(JsonObject extra) {
    return new JsonObject().put("containers", new JsonArray().add(new JsonObject().put("name", "c").put("image", "busybox")))
        .mergeIn(extra);
  }

  private static JsonObject pod(JsonObject spec) {
    JsonObject pod = new JsonObject().put("apiVersion", "v1").put("kind", "Pod")
        .put("metadata", new JsonObject().put("name", "p").put("namespace", "default")).put("spec", spec);
    Defaults.apply(Resources.PODS, pod);
    return pod.getJsonObject("spec");
  }

  @Test
  void aPodRunsAsTheDefaultAccountUnlessItNamesOne() {
    JsonObject plain = pod(spec(new JsonObject()));
    assertEquals("default", plain.getString("serviceAccountName"));
    assertEquals("default", plain.getString("serviceAccount"));
    JsonObject named = pod(spec(new JsonObject().put("serviceAccountName", "bot")));
    assertEquals("bot", named.getString("serviceAccountName"));
    assertEquals("bot", named.getString("serviceAccount"));
    // The deprecated field alone still names the account.
    JsonObject legacy = pod(spec(new JsonObject().put("serviceAccount", "old")));
    assertEquals("old", legacy.getString("serviceAccountName"));
  }

  @Test
  void templatesGetTheAliasButNoAccount() {
    JsonObject labels = new JsonObject().put("app", "a");
    JsonObject deployment = new JsonObject().put("apiVersion", "apps/v1").put("kind", "Deployment")
        .put("metadata", new JsonObject().put("name", "d").put("namespace", "default"))
        .put("spec", new JsonObject().put("selector", new JsonObject().put("matchLabels", labels))
            .put("template", new JsonObject().put("metadata", new JsonObject().put("labels", labels))
                .put("spec", spec(new JsonObject()))));
    Defaults.apply(Resources.builtIn("apps", "deployments"), deployment);
    JsonObject template = deployment.getJsonObject("spec").getJsonObject("template").getJsonObject("spec");
    assertNull(template.getString("serviceAccountName"));
    assertNull(template.getString("serviceAccount"));
    template.put("serviceAccountName", "bot");
    Defaults.apply(Resources.builtIn("apps", "deployments"), deployment);
    assertEquals("bot", deployment.getJsonObject("spec").getJsonObject("template").getJsonObject("spec")
        .getString("serviceAccount"));
  }

  @Test
  void everyContainerMountsTheServiceAccountVolumeUnlessItOptsOut() {
    JsonObject pod = new JsonObject().put("spec", spec(new JsonObject())
        .put("initContainers", new JsonArray().add(new JsonObject().put("name", "i").put("image", "busybox")))
        .put("ephemeralContainers", new JsonArray().add(new JsonObject().put("name", "e").put("image", "busybox"))));
    pod.getJsonObject("spec").getJsonArray("containers").add(new JsonObject().put("name", "own").put("image", "busybox")
        .put("volumeMounts", new JsonArray().add(new JsonObject().put("name", "mine")
            .put("mountPath", Defaults.SERVICE_ACCOUNT_MOUNT))));
    Defaults.mountServiceAccountToken(pod, "abcde");
    JsonObject spec = pod.getJsonObject("spec");
    JsonObject volume = spec.getJsonArray("volumes").getJsonObject(0);
    assertEquals("kube-api-access-abcde", volume.getString("name"));
    JsonArray sources = volume.getJsonObject("projected").getJsonArray("sources");
    assertEquals(3607, sources.getJsonObject(0).getJsonObject("serviceAccountToken").getInteger("expirationSeconds"));
    assertEquals("kube-root-ca.crt", sources.getJsonObject(1).getJsonObject("configMap").getString("name"));
    assertEquals("metadata.namespace", sources.getJsonObject(2).getJsonObject("downwardAPI").getJsonArray("items")
        .getJsonObject(0).getJsonObject("fieldRef").getString("fieldPath"));
    JsonObject mount = new JsonObject().put("name", "kube-api-access-abcde").put("readOnly", true)
        .put("mountPath", Defaults.SERVICE_ACCOUNT_MOUNT);
    assertEquals(new JsonArray().add(mount), spec.getJsonArray("containers").getJsonObject(0).getJsonArray("volumeMounts"));
    assertEquals(new JsonArray().add(mount), spec.getJsonArray("initContainers").getJsonObject(0).getJsonArray("volumeMounts"));
    // A container mounting something of its own there keeps it; ephemeral containers get nothing.
    assertEquals("mine", spec.getJsonArray("containers").getJsonObject(1).getJsonArray("volumeMounts").getJsonObject(0)
        .getString("name"));
    assertNull(spec.getJsonArray("ephemeralContainers").getJsonObject(0).getValue("volumeMounts"));

    JsonObject optedOut = new JsonObject().put("spec", spec(new JsonObject().put("automountServiceAccountToken", false)));
    Defaults.mountServiceAccountToken(optedOut, "abcde");
    assertNull(optedOut.getJsonObject("spec").getValue("volumes"));
    assertNull(optedOut.getJsonObject("spec").getJsonArray("containers").getJsonObject(0).getValue("volumeMounts"));
  }

  @Test
  void probesAndHooksGetKubesDefaults() {
    JsonObject container = new JsonObject().put("name", "c").put("image", "busybox")
        .put("readinessProbe", new JsonObject().put("httpGet", new JsonObject().put("port", 8080)).put("periodSeconds", 1))
        .put("lifecycle", new JsonObject().put("preStop", new JsonObject().put("httpGet",
            new JsonObject().put("path", "/stop").put("port", 80))));
    JsonObject c = pod(new JsonObject().put("containers", new JsonArray().add(container)))
        .getJsonArray("containers").getJsonObject(0);
    JsonObject probe = c.getJsonObject("readinessProbe");
    assertEquals(1, probe.getInteger("periodSeconds"), "what the pod says stays");
    assertEquals(1, probe.getInteger("timeoutSeconds"));
    assertEquals(1, probe.getInteger("successThreshold"));
    assertEquals(3, probe.getInteger("failureThreshold"));
    assertEquals("/", probe.getJsonObject("httpGet").getString("path"));
    assertEquals("HTTP", probe.getJsonObject("httpGet").getString("scheme"));
    assertEquals("HTTP", c.getJsonObject("lifecycle").getJsonObject("preStop").getJsonObject("httpGet").getString("scheme"));
  }
}
