package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The wording of refused fields, as kube-apiserver's field errors print them. */
class ValidationMessagesTest {

  private static List<String> messages(String resource, JsonObject obj) {
    String group = resource.equals("deployments") ? "apps" : "";
    return Validation.validate(Resources.builtIn(group, resource), obj).stream().map(ApiError.Cause::message).toList();
  }

  @Test
  void refusedNumbersArePrintedUnquoted() {
    JsonObject pod = new JsonObject().put("apiVersion", "v1").put("kind", "Pod")
        .put("metadata", new JsonObject().put("name", "p").put("namespace", "default"))
        .put("spec", new JsonObject().put("containers", new JsonArray().add(new JsonObject().put("name", "c")
            .put("image", "busybox").put("ports", new JsonArray().add(new JsonObject().put("containerPort", 99999))))));
    assertEquals(List.of("Invalid value: 99999: must be between 1 and 65535, inclusive"), messages("pods", pod));

    JsonObject svc = new JsonObject().put("apiVersion", "v1").put("kind", "Service")
        .put("metadata", new JsonObject().put("name", "s").put("namespace", "default"))
        .put("spec", new JsonObject().put("ports", new JsonArray().add(new JsonObject().put("port", 70000))));
    assertEquals(List.of("Invalid value: 70000: must be between 1 and 65535, inclusive"), messages("services", svc));

    JsonObject labels = new JsonObject().put("app", "web");
    JsonObject deploy = new JsonObject().put("apiVersion", "apps/v1").put("kind", "Deployment")
        .put("metadata", new JsonObject().put("name", "d").put("namespace", "default"))
        .put("spec", new JsonObject().put("replicas", -1)
            .put("selector", new JsonObject().put("matchLabels", labels))
            .put("template", new JsonObject().put("metadata", new JsonObject().put("labels", labels))
                .put("spec", new JsonObject().put("containers", new JsonArray()
                    .add(new JsonObject().put("name", "c").put("image", "busybox"))))));
    assertEquals(List.of("Invalid value: -1: must be greater than or equal to 0"), messages("deployments", deploy));
  }

  @Test
  void aRequestMayNotExceedItsLimit() {
    JsonObject pod = new JsonObject().put("apiVersion", "v1").put("kind", "Pod")
        .put("metadata", new JsonObject().put("name", "p").put("namespace", "default"))
        .put("spec", new JsonObject().put("containers", new JsonArray().add(new JsonObject().put("name", "c")
            .put("image", "busybox").put("resources", new JsonObject()
                .put("requests", new JsonObject().put("cpu", "2").put("memory", "64Mi").put("example.com/gpu", "1"))
                .put("limits", new JsonObject().put("cpu", "1").put("memory", "128Mi").put("example.com/gpu", "2"))))));
    List<ApiError.Cause> causes = Validation.validate(Resources.PODS, pod);
    assertEquals(List.of("spec.containers[0].resources.requests", "spec.containers[0].resources.requests"),
        causes.stream().map(ApiError.Cause::field).toList());
    assertEquals(List.of("Invalid value: \"2\": must be less than or equal to cpu limit of 1",
        "Invalid value: \"1\": must be equal to example.com/gpu limit of 2"),
        causes.stream().map(ApiError.Cause::message).toList());
  }

  @Test
  void updatesMayNotChangeWhatKubernetesHoldsImmutable() {
    JsonObject deploy = new JsonObject("{\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"a\"}}}}");
    JsonObject reselected = deploy.copy();
    reselected.getJsonObject("spec").put("selector", new JsonObject().put("matchLabels", new JsonObject().put("app", "b")));
    List<ApiError.Cause> selector = Validation.immutable(Resources.builtIn("apps", "deployments"), deploy, reselected);
    assertEquals("spec.selector", selector.get(0).field());
    assertEquals("Invalid value: {\"matchLabels\":{\"app\":\"b\"}}: field is immutable", selector.get(0).message());
    JsonObject scaled = deploy.copy();
    scaled.getJsonObject("spec").put("replicas", 3);
    assertEquals(List.of(), Validation.immutable(Resources.builtIn("apps", "deployments"), deploy, scaled));

    JsonObject sts = new JsonObject("{\"spec\":{\"serviceName\":\"db\",\"replicas\":1}}");
    JsonObject renamed = new JsonObject("{\"spec\":{\"serviceName\":\"other\",\"replicas\":2}}");
    assertEquals(List.of("spec"), Validation.immutable(Resources.builtIn("apps", "statefulsets"), sts, renamed).stream()
        .map(ApiError.Cause::field).toList());
    JsonObject resized = new JsonObject("{\"spec\":{\"serviceName\":\"db\",\"replicas\":2}}");
    assertEquals(List.of(), Validation.immutable(Resources.builtIn("apps", "statefulsets"), sts, resized));

    JsonObject job = new JsonObject("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a\"}]}}}}");
    JsonObject reimaged = new JsonObject("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b\"}]}}}}");
    assertEquals(List.of("spec.template"), Validation.immutable(Resources.builtIn("batch", "jobs"), job, reimaged).stream()
        .map(ApiError.Cause::field).toList());
    job.getJsonObject("spec").put("suspend", true);
    assertEquals(List.of(), Validation.immutable(Resources.builtIn("batch", "jobs"), job, reimaged));

    JsonObject cm = new JsonObject("{\"immutable\":true,\"data\":{\"a\":\"1\"}}");
    JsonObject changed = new JsonObject("{\"immutable\":true,\"data\":{\"a\":\"2\"}}");
    assertEquals(List.of("Forbidden: field is immutable when `immutable` is set"),
        Validation.immutable(Resources.builtIn("", "configmaps"), cm, changed).stream().map(ApiError.Cause::message).toList());
  }
}
