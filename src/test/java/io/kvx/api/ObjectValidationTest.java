package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What kube refuses in ConfigMaps, Secrets, pod volumes, env and mounts, and Services, by field. */
class ObjectValidationTest {

  private static List<String> fields(String group, String plural, String json) {
    return Validation.validate(Resources.builtIn(group, plural), new JsonObject(json)).stream()
        .map(c -> c.field() + " " + c.type()).toList();
  }

  @Test
  void configMapAndSecretKeysAndSecretData() {
    assertEquals(List.of("data[bad key!] FieldValueInvalid"), fields("", "configmaps",
        "{\"metadata\":{\"name\":\"c\"},\"data\":{\"bad key!\":\"x\",\"good.key\":\"y\"}}"));
    ApiError notBase64 = assertThrows(ApiError.class, () -> Validation.validate(Resources.builtIn("", "secrets"),
        new JsonObject("{\"metadata\":{\"name\":\"s\"},\"data\":{\"foo\":\"not base64!!\"}}")));
    assertEquals(400, notBase64.code());
    assertTrue(notBase64.getMessage().contains("illegal base64 data in data[foo]"), notBase64.getMessage());
    assertEquals(List.of("data[tls.crt] FieldValueRequired", "data[tls.key] FieldValueRequired"), fields("", "secrets",
        "{\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/tls\",\"data\":{}}"));
    assertEquals(List.of("type FieldValueInvalid"), Validation.immutable(Resources.builtIn("", "secrets"),
        new JsonObject("{\"kind\":\"Secret\",\"type\":\"Opaque\"}"),
        new JsonObject("{\"kind\":\"Secret\",\"type\":\"kubernetes.io/basic-auth\"}")).stream()
        .map(c -> c.field() + " " + c.type()).toList());
  }

  @Test
  void secretStringDataIsWrittenIntoDataAndNotStored() {
    JsonObject secret = new JsonObject("{\"metadata\":{\"name\":\"s\"},\"data\":{\"a\":\"eA==\",\"b\":\"eQ==\"},"
        + "\"stringData\":{\"b\":\"pässword\",\"c\":\"z\"}}");
    Defaults.apply(Resources.builtIn("", "secrets"), secret);
    assertEquals(new JsonObject("{\"a\":\"eA==\",\"b\":\"cMOkc3N3b3Jk\",\"c\":\"eg==\"}"), secret.getJsonObject("data"));
    assertEquals(null, secret.getValue("stringData"));
    assertEquals("Opaque", secret.getString("type"));
    JsonObject typed = new JsonObject("{\"type\":\"kubernetes.io/basic-auth\",\"stringData\":{\"username\":\"u\"}}");
    Defaults.apply(Resources.builtIn("", "secrets"), typed);
    assertEquals("kubernetes.io/basic-auth", typed.getString("type"));
    assertEquals(new JsonObject("{\"username\":\"dQ==\"}"), typed.getJsonObject("data"));
  }

  @Test
  void referencesToConfigMapsAndSecretsNameThem() {
    String pod = """
        {"metadata": {"name": "p"}, "spec": {
          "volumes": [{"name": "a", "configMap": {}}, {"name": "b", "secret": {"defaultMode": 420}},
                      {"name": "c", "projected": {"sources": [{"configMap": {"name": "ok"}}, {"secret": {}}]}}],
          "containers": [{"name": "c", "image": "busybox",
            "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"key": "k"}}}],
            "envFrom": [{"secretRef": {"optional": true}}]}]}}""";
    assertEquals(List.of("spec.volumes[0].configMap.name FieldValueRequired",
        "spec.volumes[1].secret.secretName FieldValueRequired",
        "spec.volumes[2].projected.sources[1].secret.name FieldValueRequired",
        "spec.containers[0].env[0].valueFrom.configMapKeyRef.name FieldValueRequired",
        "spec.containers[0].envFrom[0].secretRef.name FieldValueRequired"), fields("", "pods", pod));
  }

  @Test
  void rolesBindingsAndClaimsAsKubeValidatesThem() {
    assertEquals(List.of("rules[0].verbs FieldValueRequired"), fields("rbac.authorization.k8s.io", "roles",
        "{\"metadata\":{\"name\":\"r\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]}"));
    assertEquals(List.of("roleRef.kind FieldValueNotSupported", "subjects[0].name FieldValueRequired"),
        fields("rbac.authorization.k8s.io", "rolebindings", "{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"apiGroup\":"
            + "\"rbac.authorization.k8s.io\",\"kind\":\"Deployment\",\"name\":\"x\"},\"subjects\":[{\"kind\":\"User\"}]}"));
    assertEquals(List.of("subjects[0].namespace FieldValueRequired"), fields("rbac.authorization.k8s.io",
        "clusterrolebindings", "{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
            + "\"kind\":\"ClusterRole\",\"name\":\"view\"},\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"sa\"}]}"));
    assertEquals(List.of("spec.accessModes FieldValueRequired", "spec.resources[storage] FieldValueRequired"),
        fields("", "persistentvolumeclaims", "{\"metadata\":{\"name\":\"c\"},\"spec\":{}}"));
  }

  @Test
  void podVolumesEnvAndMounts() {
    String pod = """
        {"metadata": {"name": "p"}, "spec": {
          "volumes": [{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}, {"name": "none"}],
          "containers": [{"name": "c", "image": "busybox",
            "env": [{"name": "", "value": "x"}, {"name": "B", "value": "v", "valueFrom": {"fieldRef": {"fieldPath": "metadata.bogus"}}},
                    {"name": "L", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}],
            "volumeMounts": [{"name": "missing", "mountPath": "/m"}, {"name": "a", "mountPath": "/m"}]}]}}""";
    assertEquals(List.of("spec.volumes[1].name FieldValueDuplicate", "spec.volumes[2] FieldValueRequired",
        "spec.containers[0].env[0].name FieldValueRequired", "spec.containers[0].env[1].valueFrom FieldValueInvalid",
        "spec.containers[0].env[1].valueFrom.fieldRef.fieldPath FieldValueNotSupported",
        "spec.containers[0].volumeMounts[0].name FieldValueNotFound",
        "spec.containers[0].volumeMounts[1].mountPath FieldValueInvalid"), fields("", "pods", pod));
  }

  @Test
  void serviceSelectorsTargetPortsAndDuplicatePorts() {
    assertEquals(List.of("spec.selector FieldValueInvalid", "spec.ports[0].targetPort FieldValueInvalid",
        "spec.ports[1] FieldValueDuplicate"), fields("", "services", """
        {"metadata": {"name": "s"}, "spec": {"selector": {"bad key": "x"}, "ports": [
          {"name": "a", "port": 80, "targetPort": "a-very-long-port-name"}, {"name": "b", "port": 80}]}}"""));
  }

  @Test
  void aStatefulSetsContainersMountItsClaimTemplates() {
    assertEquals(List.of(), fields("apps", "statefulsets", """
        {"metadata": {"name": "db"}, "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
          "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "busybox",
            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
          "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}]}}"""));
  }
}
