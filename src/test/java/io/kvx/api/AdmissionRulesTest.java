package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionRulesTest {

  private static final ResourceType PODS = Resources.PODS;
  private static final ResourceType NODES = Resources.NODES;

  private static AdmissionRules.Attributes attrs(String op, ResourceType type, String sub, JsonObject obj) {
    return new AdmissionRules.Attributes(op, type, sub, type.namespaced() ? "ns" : null, "p", obj, null,
        new JsonObject().put("username", "alice"), false, AdmissionRules.options(op, null));
  }

  private static JsonArray rule(String ops, String resources, String scope) {
    JsonObject r = new JsonObject().put("operations", new JsonArray(List.of(ops.split(","))))
        .put("apiGroups", new JsonArray().add("")).put("apiVersions", new JsonArray().add("v1"))
        .put("resources", new JsonArray(List.of(resources.split(","))));
    if (scope != null) r.put("scope", scope);
    return new JsonArray().add(r);
  }

  @Test
  void resourcesMatchWithKubesSubresourceForms() {
    var create = attrs("CREATE", PODS, null, new JsonObject());
    var status = attrs("UPDATE", PODS, "status", new JsonObject());
    assertTrue(AdmissionRules.rulesMatch(rule("CREATE", "pods", null), create));
    assertFalse(AdmissionRules.rulesMatch(rule("UPDATE", "pods", null), create), "another operation");
    assertTrue(AdmissionRules.rulesMatch(rule("*", "*", null), create));
    assertFalse(AdmissionRules.rulesMatch(rule("*", "*", null), status), "* is resources without subresources");
    assertFalse(AdmissionRules.rulesMatch(rule("*", "pods", null), status));
    assertTrue(AdmissionRules.rulesMatch(rule("*", "pods/status", null), status));
    assertTrue(AdmissionRules.rulesMatch(rule("*", "pods/*", null), status));
    assertTrue(AdmissionRules.rulesMatch(rule("*", "*/status", null), status));
    assertTrue(AdmissionRules.rulesMatch(rule("*", "*/*", null), status));
    assertTrue(AdmissionRules.rulesMatch(rule("*", "pods/*", null), create), "kube's matcher: \"*\" matches \"\" too");
    assertFalse(AdmissionRules.rulesMatch(rule("*", "services", null), create));
  }

  @Test
  void scopeSeparatesClusterAndNamespacedResources() {
    var node = attrs("CREATE", NODES, null, new JsonObject());
    var pod = attrs("CREATE", PODS, null, new JsonObject());
    assertTrue(AdmissionRules.rulesMatch(rule("*", "*", "Cluster"), node));
    assertFalse(AdmissionRules.rulesMatch(rule("*", "*", "Cluster"), pod));
    assertTrue(AdmissionRules.rulesMatch(rule("*", "*", "Namespaced"), pod));
    assertFalse(AdmissionRules.rulesMatch(rule("*", "*", "Namespaced"), node));
  }

  @Test
  void selectorsSeeNewAndOldLabelsAndClusterScopedObjectsIgnoreNamespaceSelectors() {
    JsonObject sel = new JsonObject().put("matchLabels", new JsonObject().put("team", "a"));
    JsonObject labelled = new JsonObject().put("metadata", new JsonObject().put("labels", new JsonObject().put("team", "a")));
    var update = new AdmissionRules.Attributes("UPDATE", PODS, null, "ns", "p", new JsonObject(), labelled,
        new JsonObject(), false, null);
    assertTrue(AdmissionRules.objectSelected(sel, update), "the old object's labels count");
    assertFalse(AdmissionRules.objectSelected(sel, attrs("CREATE", PODS, null, new JsonObject())));
    assertTrue(AdmissionRules.objectSelected(new JsonObject(), attrs("CREATE", PODS, null, new JsonObject())));
    assertFalse(AdmissionRules.needsNamespace(sel, attrs("CREATE", NODES, null, new JsonObject())));
    assertTrue(AdmissionRules.namespaceSelected(sel, attrs("CREATE", PODS, null, null), Map.of("team", "a")));
    assertFalse(AdmissionRules.namespaceSelected(sel, attrs("CREATE", PODS, null, null), Map.of()));
    assertFalse(AdmissionRules.admitted(Resources.builtIn("admissionregistration.k8s.io",
        "validatingwebhookconfigurations")), "admission's own configuration never goes to admission");
  }

  @Test
  void theReviewNamesTheRequestAndTheAnswerIsCheckedAgainstIt() {
    JsonObject review = AdmissionRules.review("v1", "u-1", attrs("CREATE", PODS, null,
        new JsonObject().put("kind", "Pod")));
    JsonObject req = review.getJsonObject("request");
    assertEquals("admission.k8s.io/v1", review.getString("apiVersion"));
    assertEquals("u-1", req.getString("uid"));
    assertEquals(new JsonObject().put("group", "").put("version", "v1").put("kind", "Pod"), req.getJsonObject("kind"));
    assertEquals("pods", req.getJsonObject("resource").getString("resource"));
    assertEquals("ns", req.getString("namespace"));
    assertEquals("CreateOptions", req.getJsonObject("options").getString("kind"));
    assertEquals("alice", req.getJsonObject("userInfo").getString("username"));

    String patch = Base64.getEncoder().encodeToString("[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]"
        .getBytes(StandardCharsets.UTF_8));
    JsonObject ok = new JsonObject().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview")
        .put("response", new JsonObject().put("uid", "u-1").put("allowed", true).put("patchType", "JSONPatch")
            .put("patch", patch).put("warnings", new JsonArray().add("w")));
    AdmissionRules.Answer a = AdmissionRules.answer("v1", "u-1", ok);
    assertTrue(a.allowed());
    assertEquals(1, a.patch().size());
    assertEquals(List.of("w"), a.warnings());
    assertThrows(IllegalArgumentException.class, () -> AdmissionRules.answer("v1", "other", ok));
    assertThrows(IllegalArgumentException.class, () -> AdmissionRules.answer("v1beta1", "u-1", ok));
    assertNull(AdmissionRules.reviewVersion(new JsonArray().add("v2")));
    assertEquals("v1", AdmissionRules.reviewVersion(new JsonArray().add("v1beta1").add("v1")));
  }

  @Test
  void aDenialIsKubesStatusError() {
    ApiError e = AdmissionRules.denied("x.y.z", new JsonObject().put("code", 403).put("reason", "Forbidden")
        .put("message", "no"));
    assertEquals(403, e.code());
    assertEquals("admission webhook \"x.y.z\" denied the request: no", e.getMessage());
    ApiError plain = AdmissionRules.denied("x.y.z", null);
    assertEquals(400, plain.code(), "below 400 becomes 400");
    assertEquals("admission webhook \"x.y.z\" denied the request without explanation", plain.getMessage());
  }

  @Test
  void configurationsGetKubesDefaultsAndValidation() {
    JsonObject config = new JsonObject().put("webhooks", new JsonArray().add(new JsonObject().put("name", "a.b.c")
        .put("sideEffects", "None").put("admissionReviewVersions", new JsonArray().add("v1"))
        .put("clientConfig", new JsonObject().put("service", new JsonObject().put("name", "s").put("namespace", "n")))
        .put("rules", rule("CREATE", "pods", null))));
    AdmissionConfigs.defaultWebhooks(config, true);
    JsonObject w = config.getJsonArray("webhooks").getJsonObject(0);
    assertEquals("Fail", w.getString("failurePolicy"));
    assertEquals("Never", w.getString("reinvocationPolicy"));
    assertEquals(443, w.getJsonObject("clientConfig").getJsonObject("service").getInteger("port"));
    assertEquals("*", w.getJsonArray("rules").getJsonObject(0).getString("scope"));
    List<ApiError.Cause> causes = new ArrayList<>();
    AdmissionConfigs.validateWebhooks(config, true, causes);
    assertEquals(List.of(), causes);

    w.put("clientConfig", new JsonObject().put("url", "http://x/y")).put("rules", rule("PATCH", "pods", null))
        .put("matchConditions", new JsonArray().add(new JsonObject().put("name", "c").put("expression", "1 + 1")));
    AdmissionConfigs.validateWebhooks(config, true, causes);
    List<String> fields = causes.stream().map(ApiError.Cause::field).toList();
    assertEquals(List.of("webhooks[0].clientConfig.url", "webhooks[0].rules[0].operations[0]",
        "webhooks[0].matchConditions[0].expression"), fields, causes.toString());
  }

  @Test
  void matchConditionExpressionsSeeKubesVariables() {
    Map<String, Object> vars = new java.util.HashMap<>();
    vars.put("object", new JsonObject().put("metadata", new JsonObject().put("name", "x")));
    vars.put("request", new JsonObject().put("operation", "CREATE"));
    assertEquals(true, CelRules.evalAdmission("object.metadata.name == 'x' && request.operation == 'CREATE' "
        + "&& oldObject == null", dev.cel.common.types.SimpleType.BOOL, vars));
    assertThrows(IllegalArgumentException.class, () -> CelRules.evalAdmission("object.nothere == 1",
        dev.cel.common.types.SimpleType.BOOL, vars));
  }
}
