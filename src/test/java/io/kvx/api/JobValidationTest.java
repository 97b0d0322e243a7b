package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JobValidationTest {

  private static final ResourceType JOBS = Resources.builtIn("batch", "jobs");

  private static JsonObject job(JsonObject selector, JsonObject templateLabels) {
    JsonObject spec = new JsonObject().put("manualSelector", true).put("template", new JsonObject()
        .put("metadata", new JsonObject().put("labels", templateLabels))
        .put("spec", new JsonObject().put("restartPolicy", "Never").put("containers", new JsonArray()
            .add(new JsonObject().put("name", "c").put("image", "busybox")))));
    if (selector != null) spec.put("selector", selector);
    return new JsonObject().put("apiVersion", "batch/v1").put("kind", "Job")
        .put("metadata", new JsonObject().put("name", "j").put("namespace", "default")).put("spec", spec);
  }

  private static List<String> fields(JsonObject job) {
    return Validation.validate(JOBS, job).stream().map(ApiError.Cause::field).toList();
  }

  @Test
  void aJobSelectorMustExistAndSelectTheTemplate() {
    JsonObject web = new JsonObject().put("app", "web");
    JsonObject selectsWeb = new JsonObject().put("matchLabels", web);
    assertEquals(List.of(), fields(job(selectsWeb, web)));
    assertEquals(List.of("spec.selector"), fields(job(null, web)));
    assertEquals(List.of("spec.template.metadata.labels"), fields(job(selectsWeb, new JsonObject().put("app", "db"))));
  }
}
