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
}
