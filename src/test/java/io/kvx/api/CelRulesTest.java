package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CelRulesTest {

  private static final JsonObject SCHEMA = new JsonObject("""
      {"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [
          {"rule": "self.min <= self.max", "message": "min must be <= max"},
          {"rule": "!has(self.name) || self.name.startsWith('a')", "messageExpression": "'name ' + self.name + ' must start with a'",
           "fieldPath": ".name"},
          {"rule": "!has(self.size) || quantity(self.size).isGreaterThan(quantity('1'))"},
          {"rule": "format.dns1123Label().validate(self.name).hasValue() == false"}],
        "properties": {
          "min": {"type": "integer"}, "max": {"type": "integer"}, "name": {"type": "string"},
          "imm": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "imm is immutable"}]},
          "items": {"type": "array", "items": {"type": "integer", "x-kubernetes-validations": [{"rule": "self > 0",
            "reason": "FieldValueForbidden"}]}}}}}}""");

  private static List<String> check(String spec, String oldSpec) {
    List<ApiError.Cause> causes = new ArrayList<>();
    CelRules.validate(SCHEMA, new JsonObject().put("spec", new JsonObject(spec)),
        oldSpec == null ? null : new JsonObject().put("spec", new JsonObject(oldSpec)), "", causes);
    return causes.stream().map(c -> c.field() + ": " + c.message()).toList();
  }

  @Test
  void falseRulesFailWithTheirMessagesAndPaths() {
    assertEquals(List.of(), check("{\"min\": 1, \"max\": 5, \"name\": \"abc\", \"items\": [1, 2]}", null));
    assertEquals(List.of("spec: Invalid value: \"object\": min must be <= max",
        "spec.name: Invalid value: \"object\": name bcd must start with a",
        "spec.items[1]: Forbidden: failed rule: self > 0"),
        check("{\"min\": 5, \"max\": 1, \"name\": \"bcd\", \"items\": [1, -2]}", null));
    // Kubernetes' quantity library; a rule using what kvx's CEL does not have (format) is skipped.
    assertEquals(List.of("spec: Invalid value: \"object\": failed rule: !has(self.size) || "
        + "quantity(self.size).isGreaterThan(quantity('1'))"), check("{\"min\": 1, \"max\": 1, \"size\": \"500m\"}", null));
  }

  @Test
  void transitionRulesNeedAnOldValue() {
    assertEquals(List.of(), check("{\"min\": 1, \"max\": 1, \"imm\": \"a\"}", null), "a create has no oldSelf");
    assertEquals(List.of(), check("{\"min\": 1, \"max\": 1, \"imm\": \"a\"}", "{\"imm\": \"a\"}"));
    assertEquals(List.of("spec.imm: Invalid value: \"string\": imm is immutable"),
        check("{\"min\": 1, \"max\": 1, \"imm\": \"b\"}", "{\"imm\": \"a\"}"));
  }

  @Test
  void aRuleThatDoesNotParseIsRefusedWithTheDefinition() {
    List<ApiError.Cause> causes = new ArrayList<>();
    CelRules.checkSyntax(new JsonObject("""
        {"type": "object", "x-kubernetes-validations": [
          {"rule": "self.a == 1"}, {"rule": "self.a =="}, {"rule": "format.dns1123Label().validate(self.a).hasValue()"}]}"""),
        "spec.versions[0].schema.openAPIV3Schema.properties[spec]", causes);
    assertEquals(1, causes.size(), causes.toString());
    assertEquals("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule",
        causes.get(0).field());
    org.junit.jupiter.api.Assertions.assertTrue(causes.get(0).message().startsWith("Invalid value: \"self.a ==\": "
        + "compilation failed: "), causes.get(0).message());
  }
}
