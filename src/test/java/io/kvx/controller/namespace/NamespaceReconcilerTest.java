package io.kvx.controller.namespace;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NamespaceReconcilerTest {

  private static JsonObject find(JsonArray conditions, String type) {
    return conditions.stream().map(JsonObject.class::cast).filter(c -> type.equals(c.getString("type"))).findFirst()
        .orElseThrow();
  }

  @Test
  void conditionsSayWhatIsLeftAndWhichFinalizersHoldIt() {
    JsonArray c = NamespaceReconciler.conditions(new TreeMap<>(Map.of("pods", 2, "widgets.example.com", 1)),
        Map.of("example.com/hold", 1), false, "2026-11-24T05:00:00Z");
    assertEquals(5, c.size());
    JsonObject content = find(c, "NamespaceContentRemaining");
    assertEquals("True", content.getString("status"));
    assertEquals("SomeResourcesRemain", content.getString("reason"));
    assertEquals("Some resources are remaining: pods has 2 resource instances, widgets.example.com has 1 resource "
        + "instances", content.getString("message"));
    JsonObject fin = find(c, "NamespaceFinalizersRemaining");
    assertEquals("Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
        fin.getString("message"));
    assertEquals("False", find(c, "NamespaceDeletionContentFailure").getString("status"));
  }

  @Test
  void nothingLeftIsSaidToo() {
    JsonArray c = NamespaceReconciler.conditions(Map.of(), Map.of(), true, "2026-11-24T05:00:00Z");
    assertEquals("False", find(c, "NamespaceContentRemaining").getString("status"));
    assertEquals("ContentHasNoFinalizers", find(c, "NamespaceFinalizersRemaining").getString("reason"));
    assertEquals("True", find(c, "NamespaceDeletionContentFailure").getString("status"));
  }
}
