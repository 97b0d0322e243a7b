package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"spec\":{\"containers\":\"x\"}}|spec.containers",
      "{\"metadata\":{\"labels\":\"x\"}}|metadata.labels",
      "{\"metadata\":5}|metadata",
      "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":\"abc\"}]}]}}|spec.containers[0].ports[0].containerPort",
      "{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":{\"a\":1}}]}}|spec.containers[0].env"})
  void aBodyOfTheWrongShapeIsA400NamingTheField(String body, String field) {
    ApiError e = assertThrows(ApiError.class, () -> Json.normalize(Resources.PODS, new JsonObject(body)));
    assertEquals(400, e.code());
    assertTrue(e.getMessage().contains("field " + field + ":") || e.getMessage().contains("field ContainerPort." + field + " "),
        e.getMessage());
    assertTrue(e.getMessage().startsWith("Pod in version \"v1\" cannot be handled as a Pod"), e.getMessage());
  }

  @Test
  void aScalarOfTheWrongTypeIsReportedAsKubeApiserverDoes() {
    ApiError e = assertThrows(ApiError.class, () -> Json.normalize(Resources.builtIn("apps", "deployments"),
        new JsonObject("{\"spec\":{\"replicas\":\"x\"}}")));
    assertEquals("Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go "
        + "struct field DeploymentSpec.spec.replicas of type int32", e.getMessage());
    ApiError flag = assertThrows(ApiError.class, () -> Json.normalize(Resources.PODS,
        new JsonObject("{\"spec\":{\"hostNetwork\":{\"a\":1}}}")));
    assertTrue(flag.getMessage().endsWith("json: cannot unmarshal object into Go struct field PodSpec.spec.hostNetwork "
        + "of type bool"), flag.getMessage());
  }

  @Test
  void quantitiesAreStoredCanonical() {
    JsonObject pod = new JsonObject("""
        {"spec":{"containers":[{"name":"c","image":"busybox","resources":{
          "requests":{"cpu":0.5,"memory":"1024Mi"},"limits":{"cpu":"1000m","memory":"1.5Gi"}}}]}}""");
    JsonObject res = Json.normalize(Resources.PODS, pod).getJsonObject("spec").getJsonArray("containers").getJsonObject(0)
        .getJsonObject("resources");
    assertEquals(new JsonObject().put("cpu", "500m").put("memory", "1Gi"), res.getJsonObject("requests"));
    assertEquals(new JsonObject().put("cpu", "1").put("memory", "1536Mi"), res.getJsonObject("limits"));
  }

  @Test
  void aWellFormedBodyKeepsItsContentIncludingNestedVertxJson() {
    JsonObject pod = new JsonObject().put("metadata", new JsonObject().put("name", "web")
            .put("labels", new JsonObject().put("app", "web")).put("annotations", new JsonObject().put("x/y", "z")))
        .put("spec", new JsonObject().put("containers", new JsonArray().add(new JsonObject().put("name", "c")
            .put("image", "busybox").put("resources", new JsonObject().put("limits",
                new JsonObject().put("cpu", "100m").put("memory", "64Mi"))))));
    JsonObject out = Json.normalize(Resources.PODS, pod);
    assertEquals(pod.getJsonObject("metadata"), out.getJsonObject("metadata"));
    assertEquals("100m", out.getJsonObject("spec").getJsonArray("containers").getJsonObject(0)
        .getJsonObject("resources").getJsonObject("limits").getString("cpu"));
  }

  @Test
  void numbersWhereTheApiHasStringsAreRefusedAsGoWouldRefuseThem() {
    ResourceType cm = Resources.builtIn("", "configmaps");
    ApiError e = assertThrows(ApiError.class, () -> Json.normalize(cm, new JsonObject()
        .put("metadata", new JsonObject().put("name", "c")).put("data", new JsonObject().put("port", 8080))));
    assertEquals(400, e.code());
    assertTrue(e.getMessage().contains("data.port"), e.getMessage());
    assertThrows(ApiError.class, () -> Json.normalize(cm, new JsonObject()
        .put("metadata", new JsonObject().put("name", "c").put("labels", new JsonObject().put("on", true)))));
    // Quantities and int-or-string fields still take numbers.
    JsonObject pod = new JsonObject().put("metadata", new JsonObject().put("name", "p")).put("spec", new JsonObject()
        .put("containers", new io.vertx.core.json.JsonArray().add(new JsonObject().put("name", "c").put("image", "i")
            .put("resources", new JsonObject().put("limits", new JsonObject().put("cpu", 2)))
            .put("readinessProbe", new JsonObject().put("httpGet", new JsonObject().put("port", 8080))))));
    JsonObject out = Json.normalize(Resources.PODS, pod);
    JsonObject c = out.getJsonObject("spec").getJsonArray("containers").getJsonObject(0);
    assertEquals("2", String.valueOf(c.getJsonObject("resources").getJsonObject("limits").getValue("cpu")));
    assertEquals(8080, c.getJsonObject("readinessProbe").getJsonObject("httpGet").getValue("port"));
  }

  @Test
  void aTreeHoldingValuesThatAreNotJsonAsSuchIsNormalizedAsItsJsonText() {
    ResourceType cm = Resources.builtIn("", "configmaps");
    java.time.Instant at = java.time.Instant.parse("2026-11-24T05:00:00Z");
    JsonObject out = Json.normalize(cm, new JsonObject().put("metadata", new JsonObject().put("name", "c")
        .put("annotations", new JsonObject().put("at", at))).put("data", new JsonObject().put("k", "v")));
    assertEquals("2026-11-24T05:00:00Z", out.getJsonObject("metadata").getJsonObject("annotations").getString("at"));
    assertEquals("v", out.getJsonObject("data").getString("k"));
  }

  @Test
  void aParsedBodyAndTheSameTreeBuiltInCodeNormalizeAlike() {
    String text = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"b\"}},"
        + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{\"containerPort\":80}],"
        + "\"resources\":{\"limits\":{\"cpu\":0.5,\"memory\":\"64Mi\"}}}],\"terminationGracePeriodSeconds\":30}}";
    JsonObject parsed = new JsonObject(text);
    JsonObject copied = parsed.copy(); // nested values become JsonObject/JsonArray instead of maps and lists
    assertEquals(Json.normalize(Resources.PODS, parsed), Json.normalize(Resources.PODS, copied));
    JsonObject c = Json.normalize(Resources.PODS, copied).getJsonObject("spec").getJsonArray("containers")
        .getJsonObject(0);
    assertEquals(80, c.getJsonArray("ports").getJsonObject(0).getInteger("containerPort"));
    assertEquals("500m", String.valueOf(c.getJsonObject("resources").getJsonObject("limits").getValue("cpu")));
  }
}
