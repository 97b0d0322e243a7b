package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PatchesTest {

  private static final JsonObject DEPLOY = new JsonObject("""
      {"metadata":{"name":"d","labels":{"a":"1","b":"2"}},
       "spec":{"containers":[{"name":"web","image":"nginx:1"},{"name":"side","image":"busybox"}]}}""");

  @Test
  void patchTypeIsTheMediaTypeWithoutParametersAndOthersAre415() {
    assertEquals("application/json-patch+json", Patches.patchType("application/json-patch+json; charset=utf-8", false));
    assertEquals("application/merge-patch+json", Patches.patchType("Application/Merge-Patch+JSON", true));
    assertEquals("application/strategic-merge-patch+json",
        Patches.patchType("application/strategic-merge-patch+json", false));
    // what client-java's CustomObjectsApi and GenericKubernetesApi.updateStatus send
    ApiError json = assertThrows(ApiError.class, () -> Patches.patchType("application/json; charset=utf-8", true));
    assertEquals(415, json.code());
    assertEquals(415, assertThrows(ApiError.class, () -> Patches.patchType(null, false)).code());
    ApiError strategicCustom = assertThrows(ApiError.class,
        () -> Patches.patchType("application/strategic-merge-patch+json", true));
    assertEquals(415, strategicCustom.code());
    assertFalse(strategicCustom.getMessage().contains("strategic"));
  }

  @Test
  void mergePatchRemovesNullsAndReplacesLists() {
    JsonObject out = Patches.mergePatch(DEPLOY, new JsonObject("""
        {"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}"""));
    assertEquals(new JsonObject().put("b", "2").put("c", "3"), out.getJsonObject("metadata").getJsonObject("labels"));
    assertEquals(1, out.getJsonObject("spec").getJsonArray("containers").size());
  }

  @Test
  void strategicMergePatchMergesNamedListItems() {
    JsonObject out = Patches.strategicMergePatch(DEPLOY, new JsonObject("""
        {"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}"""));
    JsonArray cs = out.getJsonObject("spec").getJsonArray("containers");
    assertEquals(2, cs.size());
    assertEquals("nginx:2", cs.getJsonObject(0).getString("image"));
    assertEquals("busybox", cs.getJsonObject(1).getString("image"));
  }

  @Test
  void strategicReplaceDirectiveReplacesTheWholeObject() {
    JsonObject out = Patches.strategicMergePatch(DEPLOY, new JsonObject("""
        {"spec":{"$patch":"replace","containers":[{"name":"web","image":"nginx:1"}]}}"""));
    assertEquals(new JsonObject("{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1\"}]}"),
        out.getJsonObject("spec"));
    assertEquals("d", out.getJsonObject("metadata").getString("name"));
  }

  @Test
  void jsonPatchAppliesInOrderAndTestFails() {
    JsonObject out = Patches.jsonPatch(DEPLOY, new JsonArray("""
        [{"op":"replace","path":"/spec/containers/0/image","value":"nginx:3"},
         {"op":"remove","path":"/metadata/labels/a"},
         {"op":"add","path":"/spec/containers/-","value":{"name":"x","image":"y"}}]"""));
    assertEquals("nginx:3", out.getJsonObject("spec").getJsonArray("containers").getJsonObject(0).getString("image"));
    assertFalse(out.getJsonObject("metadata").getJsonObject("labels").containsKey("a"));
    assertEquals(3, out.getJsonObject("spec").getJsonArray("containers").size());
    ApiError e = assertThrows(ApiError.class, () -> Patches.jsonPatch(DEPLOY, new JsonArray(
        "[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"other\"}]")));
    assertEquals(422, e.code());
    assertThrows(ApiError.class, () -> Patches.jsonPatch(DEPLOY, new JsonArray(
        "[{\"op\":\"replace\",\"path\":\"/spec/nothing/here\",\"value\":1}]")));
  }
}
