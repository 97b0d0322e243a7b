package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FieldValidationTest {

  private static final ResourceType DEPLOYMENTS = Resources.builtIn("apps", "deployments");

  private static JsonObject deployment() {
    return new JsonObject("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"any":"thing"},
         "annotations":{"a":"b"}},
         "spec":{"foo":"bar","replicas":1,"selector":{"matchLabels":{"app":"web"}},
          "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i",
           "bogus":1,"resources":{"limits":{"cpu":"1"}},"ports":[{"containerPort":80}]}]}}}}""");
  }

  @Test
  void unknownFieldsAreFoundWithTheirPaths() {
    assertEquals(List.of("spec.foo", "spec.template.spec.containers[0].bogus"),
        FieldValidation.unknown(DEPLOYMENTS, deployment(), false));
  }

  @Test
  void strictFailsWithKubernetesMessage() {
    ApiError e = assertThrows(ApiError.class, () -> FieldValidation.apply(DEPLOYMENTS, deployment(),
        FieldValidation.Mode.Strict));
    assertEquals(400, e.code());
    assertEquals("Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: "
        + "unknown field \"spec.foo\", unknown field \"spec.template.spec.containers[0].bogus\"", e.getMessage());
  }

  @Test
  void warnDropsAndWarnsIgnoreDropsQuietlyAbsentKeeps() {
    JsonObject d = deployment();
    assertEquals(List.of("unknown field \"spec.foo\"", "unknown field \"spec.template.spec.containers[0].bogus\""),
        FieldValidation.apply(DEPLOYMENTS, d, FieldValidation.Mode.Warn));
    assertFalse(d.getJsonObject("spec").containsKey("foo"));
    assertTrue(FieldValidation.unknown(DEPLOYMENTS, d, false).isEmpty());
    JsonObject i = deployment();
    assertEquals(List.of(), FieldValidation.apply(DEPLOYMENTS, i, FieldValidation.Mode.Ignore));
    assertFalse(i.getJsonObject("spec").containsKey("foo"));
    JsonObject kept = deployment();
    assertEquals(List.of(), FieldValidation.apply(DEPLOYMENTS, kept, FieldValidation.mode(null)));
    assertTrue(kept.getJsonObject("spec").containsKey("foo"));
    assertThrows(ApiError.class, () -> FieldValidation.mode("Sometimes"));
  }

  @Test
  void customKindsFollowTheirSchemaAndItsEscapes() {
    JsonObject schema = new JsonObject("""
        {"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"},
          "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
          "labels":{"type":"object","additionalProperties":{"type":"string"}},
          "items":{"type":"array","items":{"type":"object","properties":{"n":{"type":"string"}}}}}}}}""");
    JsonObject version = new JsonObject().put("name", "v1").put("schema", new JsonObject().put("openAPIV3Schema", schema));
    ResourceType type = new ResourceType("stable.example.com", "v1", "CronTab", "crontabs", true, List.of(),
        Set.of(), List.of(), null, version);
    JsonObject cr = new JsonObject("""
        {"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"x","bogusMeta":1},
         "spec":{"size":1,"extra":{"anything":{"goes":true}},"labels":{"a":"b"},"items":[{"n":"a","m":"b"}],
          "nope":1}}""");
    assertEquals(List.of("metadata.bogusMeta", "spec.items[0].m", "spec.nope"),
        FieldValidation.unknown(type, cr, false).stream().sorted().toList());
  }
}
