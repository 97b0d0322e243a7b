package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolicyDecisionsTest {

  private static final ResourceType DEPLOYMENTS = Resources.builtIn("apps", "deployments");

  private static JsonObject policy(String failurePolicy, JsonObject... validations) {
    return new JsonObject().put("metadata", new JsonObject().put("name", "p"))
        .put("spec", new JsonObject().put("failurePolicy", failurePolicy)
            .put("variables", new JsonArray().add(new JsonObject().put("name", "r").put("expression",
                "object.spec.replicas")))
            .put("validations", new JsonArray(List.of((Object[]) validations))));
  }

  private static JsonObject binding(String... actions) {
    return new JsonObject().put("metadata", new JsonObject().put("name", "b"))
        .put("spec", new JsonObject().put("policyName", "p").put("validationActions", new JsonArray(List.of(actions))));
  }

  private static AdmissionRules.Attributes deployment(int replicas) {
    JsonObject d = new JsonObject().put("metadata", new JsonObject().put("name", "web"))
        .put("spec", new JsonObject().put("replicas", replicas));
    return new AdmissionRules.Attributes("CREATE", DEPLOYMENTS, null, "ns", "web", d, null, new JsonObject(), false, null);
  }

  @Test
  void aFalseValidationDeniesWithKubesWordingAndReason() {
    JsonObject p = policy("Fail", new JsonObject().put("expression", "variables.r <= 5"));
    assertNull(PolicyDecisions.evaluate(p, binding("Deny"), deployment(3), null, null).denial());
    ApiError e = PolicyDecisions.evaluate(p, binding("Deny"), deployment(7), null, null).denial();
    assertEquals(422, e.code());
    assertEquals("deployments.apps \"web\" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: "
        + "failed expression: variables.r <= 5", e.getMessage());

    JsonObject forbidden = policy("Fail", new JsonObject().put("expression", "variables.r <= 5").put("reason", "Forbidden")
        .put("messageExpression", "'too many: ' + string(variables.r)"));
    ApiError f = PolicyDecisions.evaluate(forbidden, binding("Deny"), deployment(7), null, null).denial();
    assertEquals(403, f.code());
    assertTrue(f.getMessage().endsWith("denied request: too many: 7"), f.getMessage());
  }

  @Test
  void warnBindingsWarnAndAuditOnlyBindingsDoNothingHere() {
    JsonObject p = policy("Fail", new JsonObject().put("expression", "variables.r <= 5").put("message", "at most 5"));
    PolicyDecisions.Decision warn = PolicyDecisions.evaluate(p, binding("Warn", "Audit"), deployment(7), null, null);
    assertNull(warn.denial());
    assertEquals(List.of("Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': at most 5"), warn.warnings());
    PolicyDecisions.Decision audit = PolicyDecisions.evaluate(p, binding("Audit"), deployment(7), null, null);
    assertNull(audit.denial());
    assertTrue(audit.warnings().isEmpty());
  }

  @Test
  void anExpressionThatFailsDeniesUnderFailAndIsSkippedUnderIgnore() {
    JsonObject v = new JsonObject().put("expression", "object.spec.missing == 1");
    ApiError e = PolicyDecisions.evaluate(policy("Fail", v), binding("Deny"), deployment(1), null, null).denial();
    assertTrue(e.getMessage().contains("expression 'object.spec.missing == 1' resulted in error"), e.getMessage());
    assertNull(PolicyDecisions.evaluate(policy("Ignore", v), binding("Deny"), deployment(1), null, null).denial());
  }

  @Test
  void paramsAndMatchConditionsAndMissingParams() {
    JsonObject p = policy("Fail", new JsonObject().put("expression", "variables.r <= int(params.data.max)"));
    p.getJsonObject("spec").put("matchConditions", new JsonArray().add(new JsonObject().put("name", "not-system")
        .put("expression", "request.namespace != 'kube-system'")));
    JsonObject params = new JsonObject().put("data", new JsonObject().put("max", "2"));
    assertTrue(PolicyDecisions.evaluate(p, binding("Deny"), deployment(3), params, null).denial() != null);
    var system = new AdmissionRules.Attributes("CREATE", DEPLOYMENTS, null, "kube-system", "web",
        deployment(3).object(), null, new JsonObject(), false, null);
    assertNull(PolicyDecisions.evaluate(p, binding("Deny"), system, params, null).denial(), "match condition false");

    JsonObject deny = binding("Deny");
    deny.getJsonObject("spec").put("paramRef", new JsonObject().put("name", "x").put("parameterNotFoundAction", "Deny"));
    assertTrue(PolicyDecisions.paramsMissing(p, deny, deployment(1)).denial().getMessage()
        .contains("no params found for policy binding with `Deny` parameterNotFoundAction"));
    deny.getJsonObject("spec").getJsonObject("paramRef").put("parameterNotFoundAction", "Allow");
    assertNull(PolicyDecisions.paramsMissing(p, deny, deployment(1)).denial());
  }

  @Test
  void matchResourcesExcludeAndSelect() {
    JsonObject match = new JsonObject().put("resourceRules", new JsonArray().add(new JsonObject()
            .put("apiGroups", new JsonArray().add("apps")).put("apiVersions", new JsonArray().add("*"))
            .put("operations", new JsonArray().add("*")).put("resources", new JsonArray().add("*"))))
        .put("excludeResourceRules", new JsonArray().add(new JsonObject().put("resourceNames", new JsonArray().add("web"))
            .put("apiGroups", new JsonArray().add("apps")).put("apiVersions", new JsonArray().add("*"))
            .put("operations", new JsonArray().add("*")).put("resources", new JsonArray().add("deployments"))))
        .put("namespaceSelector", new JsonObject().put("matchLabels", new JsonObject().put("env", "prod")));
    assertFalse(PolicyDecisions.matches(match, deployment(1), Map.of("env", "prod")), "excluded by name");
    var other = new AdmissionRules.Attributes("CREATE", DEPLOYMENTS, null, "ns", "api", deployment(1).object(), null,
        new JsonObject(), false, null);
    assertTrue(PolicyDecisions.matches(match, other, Map.of("env", "prod")));
    assertFalse(PolicyDecisions.matches(match, other, Map.of("env", "dev")));
  }

  @Test
  void invalidPoliciesAndBindingsNameTheirFields() {
    List<ApiError.Cause> causes = new ArrayList<>();
    PolicyDecisions.validatePolicy(new JsonObject().put("spec", new JsonObject()), causes);
    assertEquals(List.of("spec.validations", "spec.matchConstraints"),
        causes.stream().map(ApiError.Cause::field).toList());
    causes.clear();
    PolicyDecisions.validateBinding(new JsonObject().put("spec", new JsonObject().put("policyName", "p")
        .put("validationActions", new JsonArray().add("Deny").add("Block"))), causes);
    assertEquals(List.of("spec.validationActions[1]"), causes.stream().map(ApiError.Cause::field).toList());
  }
}
