package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CustomResourcesTest {

  private static List<String> causes(String schema) {
    JsonObject crd = new JsonObject("""
        {"metadata": {"name": "gizmos.x.io"}, "spec": {"group": "x.io", "scope": "Namespaced",
         "names": {"plural": "gizmos", "kind": "Gizmo"},
         "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": %s}}]}}"""
        .formatted(schema));
    return CustomResources.validate(crd).stream().map(c -> c.field() + " " + c.message()).toList();
  }

  @Test
  void schemasMustBeStructuralAsKubeRequires() {
    assertEquals(List.of(), causes("""
        {"type": "object", "properties": {"spec": {"type": "object", "properties": {
          "port": {"x-kubernetes-int-or-string": true}, "free": {"x-kubernetes-preserve-unknown-fields": true},
          "tags": {"type": "array", "items": {"type": "string"}}}}}}"""));
    assertEquals(List.of("spec.versions[0].schema.openAPIV3Schema.properties[spec].type Required value: must not be "
        + "empty for specified object fields", "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[list]"
        + ".items.type Required value: must not be empty for specified object fields"), causes("""
        {"type": "object", "properties": {"spec": {"properties": {"list": {"type": "array", "items": {}}}}}}"""));
  }

  @Test
  void uniqueItemsAndPrinterColumnsAsKubeChecksThem() {
    assertEquals(List.of("spec.versions[0].schema.openAPIV3Schema.properties[tags].uniqueItems Forbidden: uniqueItems "
        + "cannot be set to true since the runtime complexity becomes quadratic"), causes("""
        {"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}}}"""));
    JsonObject crd = new JsonObject("""
        {"metadata": {"name": "gizmos.x.io"}, "spec": {"group": "x.io", "scope": "Namespaced",
         "names": {"plural": "gizmos", "kind": "Gizmo"},
         "versions": [{"name": "v1", "served": true, "storage": true,
           "schema": {"openAPIV3Schema": {"type": "object"}},
           "additionalPrinterColumns": [{"name": "Size", "type": "foo", "jsonPath": ".spec.size"}]}]}}""");
    assertEquals(List.of("spec.versions[0].additionalPrinterColumns[0].type"),
        CustomResources.validate(crd).stream().map(ApiError.Cause::field).toList());
  }
}
