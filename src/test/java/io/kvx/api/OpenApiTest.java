package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenApiTest {

  private static final OpenApi BUILT_IN = new OpenApi(new Resources().all());

  private static JsonObject schemas(String gv) {
    return BUILT_IN.v3(gv).json().getJsonObject("components").getJsonObject("schemas");
  }

  private static JsonObject property(String gv, String type, String field) {
    return schemas(gv).getJsonObject(type).getJsonObject("properties").getJsonObject(field);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "api/v1|io.k8s.api.core.v1.PodSpec|containers|merge|name",
      "api/v1|io.k8s.api.core.v1.PodSpec|initContainers|merge|name",
      "api/v1|io.k8s.api.core.v1.PodSpec|volumes|merge,retainKeys|name",
      "api/v1|io.k8s.api.core.v1.Container|env|merge|name",
      "api/v1|io.k8s.api.core.v1.Container|ports|merge|containerPort",
      "api/v1|io.k8s.api.core.v1.Container|volumeMounts|merge|mountPath",
      "api/v1|io.k8s.api.core.v1.ServiceSpec|ports|merge|port",
      "api/v1|io.k8s.api.core.v1.PodStatus|conditions|merge|type",
      "api/v1|io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta|ownerReferences|merge|uid",
      "apis/apps/v1|io.k8s.api.apps.v1.DeploymentStatus|conditions|merge|type",
      "apis/apps/v1|io.k8s.api.core.v1.PodSpec|containers|merge|name"})
  void listsCarryKubernetesPatchMetadata(String gv, String type, String field, String strategy, String key) {
    JsonObject p = property(gv, type, field);
    assertEquals("array", p.getString("type"));
    assertEquals(strategy, p.getString("x-kubernetes-patch-strategy"));
    assertEquals(key, p.getString("x-kubernetes-patch-merge-key"));
    assertEquals("map", p.getString("x-kubernetes-list-type"));
    assertTrue(p.getJsonArray("x-kubernetes-list-map-keys").contains(key));
  }

  @Test
  void podSchemaNamesItsKindAndRequiresContainerNames() {
    JsonObject pod = schemas("api/v1").getJsonObject("io.k8s.api.core.v1.Pod");
    assertEquals(new JsonArray().add(new JsonObject().put("group", "").put("kind", "Pod").put("version", "v1")),
        pod.getJsonArray("x-kubernetes-group-version-kind"));
    assertEquals(ModelSchemas.REF_PREFIX + ModelSchemas.OBJECT_META,
        pod.getJsonObject("properties").getJsonObject("metadata").getString("$ref"));
    assertEquals(new JsonArray().add("name"), schemas("api/v1").getJsonObject("io.k8s.api.core.v1.Container")
        .getJsonArray("required"));
    JsonObject finalizers = property("api/v1", ModelSchemas.OBJECT_META, "finalizers");
    assertEquals("set", finalizers.getString("x-kubernetes-list-type"));
  }

  @Test
  void apimachineryTypesHaveTheirKubernetesShapes() {
    JsonObject s = schemas("api/v1");
    assertEquals("date-time", s.getJsonObject(ModelSchemas.TIME).getString("format"));
    assertEquals(ModelSchemas.REF_PREFIX + ModelSchemas.TIME,
        property("api/v1", ModelSchemas.OBJECT_META, "creationTimestamp").getString("$ref"));
    assertEquals("int-or-string", s.getJsonObject(ModelSchemas.INT_OR_STRING).getString("format"));
    assertNotNull(s.getJsonObject(ModelSchemas.QUANTITY).getJsonArray("oneOf"));
    JsonObject limits = property("api/v1", "io.k8s.api.core.v1.ResourceRequirements", "limits");
    assertEquals(ModelSchemas.REF_PREFIX + ModelSchemas.QUANTITY,
        limits.getJsonObject("additionalProperties").getString("$ref"));
    assertEquals("int32", property("api/v1", "io.k8s.api.core.v1.ContainerPort", "containerPort").getString("format"));
    assertEquals("int64", property("api/v1", "io.k8s.api.core.v1.PodSpec", "terminationGracePeriodSeconds")
        .getString("format"));
  }

  @Test
  void deploymentPatchTakesFieldValidationAndStrategicMergePatch() {
    JsonObject doc = BUILT_IN.v3("apis/apps/v1").json();
    assertEquals("3.0.0", doc.getString("openapi"));
    JsonObject patch = doc.getJsonObject("paths").getJsonObject("/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
        .getJsonObject("patch");
    assertEquals(new JsonObject().put("group", "apps").put("kind", "Deployment").put("version", "v1"),
        patch.getJsonObject("x-kubernetes-group-version-kind"));
    assertEquals("patch", patch.getString("x-kubernetes-action"));
    Set<String> params = new java.util.HashSet<>();
    patch.getJsonArray("parameters").forEach(p -> params.add(((JsonObject) p).getString("name")));
    assertTrue(params.containsAll(List.of("dryRun", "fieldManager", "fieldValidation", "force")), params.toString());
    assertTrue(patch.getJsonObject("requestBody").getJsonObject("content")
        .containsKey("application/strategic-merge-patch+json"));
    JsonObject scale = doc.getJsonObject("paths")
        .getJsonObject("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale").getJsonObject("patch");
    assertEquals("Scale", scale.getJsonObject("x-kubernetes-group-version-kind").getString("kind"));
    assertNotNull(doc.getJsonObject("components").getJsonObject("schemas").getJsonObject("io.k8s.api.autoscaling.v1.Scale"));
    JsonObject list = doc.getJsonObject("paths").getJsonObject("/apis/apps/v1/deployments").getJsonObject("get");
    assertEquals("list", list.getString("x-kubernetes-action"));
  }

  @Test
  void rootListsEveryGroupVersionWithItsHash() {
    JsonObject paths = BUILT_IN.root().json().getJsonObject("paths");
    assertTrue(paths.containsKey("api/v1") && paths.containsKey("apis/apps/v1")
        && paths.containsKey("apis/rbac.authorization.k8s.io/v1"), paths.fieldNames().toString());
    String url = paths.getJsonObject("apis/apps/v1").getString("serverRelativeURL");
    assertEquals("/openapi/v3/apis/apps/v1?hash=" + BUILT_IN.v3("apis/apps/v1").hash(), url);
    assertTrue(BUILT_IN.v3("apis/apps/v1").hash().matches("[0-9A-F]{128}"));
  }

  private static ResourceType crontab(JsonObject schema) {
    JsonObject version = new JsonObject().put("name", "v1").put("served", true).put("storage", true);
    if (schema != null) version.put("schema", new JsonObject().put("openAPIV3Schema", schema));
    return new ResourceType("stable.example.com", "v1", "CronTab", "crontabs", true, List.of("ct"), Set.of(),
        List.of(), null, version);
  }

  private static final JsonObject CRONTAB_SCHEMA = new JsonObject().put("type", "object").put("properties",
      new JsonObject().put("spec", new JsonObject().put("type", "object").put("properties", new JsonObject()
          .put("cronSpec", new JsonObject().put("type", "string"))
          .put("replicas", new JsonObject().put("type", "integer")))));

  @Test
  void aCustomTypeUsesItsCrdSchemaAndTheHashFollowsTheRegistry() {
    Resources resources = new Resources();
    OpenApi before = new OpenApi(resources.all());
    assertNull(before.v3("apis/stable.example.com/v1"));
    resources.add(crontab(CRONTAB_SCHEMA));
    OpenApi after = new OpenApi(resources.all());
    JsonObject doc = after.v3("apis/stable.example.com/v1").json();
    JsonObject cronTab = doc.getJsonObject("components").getJsonObject("schemas").getJsonObject("com.example.stable.v1.CronTab");
    assertEquals("string", cronTab.getJsonObject("properties").getJsonObject("spec").getJsonObject("properties")
        .getJsonObject("cronSpec").getString("type"));
    assertEquals("CronTab", cronTab.getJsonArray("x-kubernetes-group-version-kind").getJsonObject(0).getString("kind"));
    assertEquals(ModelSchemas.REF_PREFIX + ModelSchemas.OBJECT_META,
        cronTab.getJsonObject("properties").getJsonObject("metadata").getString("$ref"));
    JsonObject patch = doc.getJsonObject("paths")
        .getJsonObject("/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}").getJsonObject("patch");
    assertFalse(patch.getJsonObject("requestBody").getJsonObject("content")
        .containsKey("application/strategic-merge-patch+json"), "custom resources take no strategic merge patch");
    assertTrue(after.root().json().getJsonObject("paths").containsKey("apis/stable.example.com/v1"));
    assertNotEquals(before.root().hash(), after.root().hash());
    assertEquals(before.v3("apis/apps/v1").hash(), after.v3("apis/apps/v1").hash(), "other groups keep their hash");

    Resources changed = new Resources();
    changed.add(crontab(CRONTAB_SCHEMA.copy().put("required", new JsonArray().add("spec"))));
    assertNotEquals(after.v3("apis/stable.example.com/v1").hash(),
        new OpenApi(changed.all()).v3("apis/stable.example.com/v1").hash(), "a changed schema changes the hash");
  }

  @Test
  void aCustomTypeWithoutSchemaKeepsUnknownFields() {
    Resources resources = new Resources();
    resources.add(crontab(null));
    JsonObject cronTab = new OpenApi(resources.all()).v3("apis/stable.example.com/v1").json()
        .getJsonObject("components").getJsonObject("schemas").getJsonObject("com.example.stable.v1.CronTab");
    assertTrue(cronTab.getBoolean("x-kubernetes-preserve-unknown-fields"));
  }

  @Test
  void swaggerV2UsesDefinitionsAndBodyParameters() {
    JsonObject v2 = BUILT_IN.v2().json();
    assertEquals("2.0", v2.getString("swagger"));
    JsonObject defs = v2.getJsonObject("definitions");
    assertEquals("#/definitions/io.k8s.api.core.v1.PodSpec", defs.getJsonObject("io.k8s.api.core.v1.Pod")
        .getJsonObject("properties").getJsonObject("spec").getString("$ref"));
    assertEquals("int-or-string", defs.getJsonObject(ModelSchemas.INT_OR_STRING).getString("format"));
    JsonObject patch = v2.getJsonObject("paths").getJsonObject("/api/v1/namespaces/{namespace}/pods/{name}")
        .getJsonObject("patch");
    assertTrue(patch.getJsonArray("consumes").contains("application/strategic-merge-patch+json"));
    assertEquals("body", patch.getJsonArray("parameters").getJsonObject(0).getString("in"));
    assertFalse(v2.encode().contains("#/components/"));
  }

  @Test
  void swaggerV2ProtobufIsWellFormedWithDocumentFields() throws Exception {
    com.google.protobuf.UnknownFieldSet doc = com.google.protobuf.UnknownFieldSet.parseFrom(BUILT_IN.v2Protobuf());
    assertEquals("2.0", doc.getField(1).getLengthDelimitedList().get(0).toStringUtf8());
    com.google.protobuf.UnknownFieldSet definitions = com.google.protobuf.UnknownFieldSet.parseFrom(
        doc.getField(9).getLengthDelimitedList().get(0));
    assertEquals(BUILT_IN.v2().json().getJsonObject("definitions").size(),
        definitions.getField(1).getLengthDelimitedList().size());
  }
}
